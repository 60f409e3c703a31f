import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findProcesses } from '../../src/adapters/proc/find.js';
import { killProcess } from '../../src/adapters/proc/process.js';
import { json, runCli } from '../helpers/cli.js';

/**
 * `lab drill` end to end on real etcd, 3 and 5 members. The drill's claims are checked against the writer's own log
 * and the cluster itself, read here with etcdctl: every acknowledged write is looked up, and after a snapshot restore
 * exactly the writes after the snapshot's revision (read from the file by etcdctl) must be gone.
 */

const root = mkdtempSync(join(tmpdir(), 'lifeboat-drill-test-'));
afterAll(async () => {
  try {
    for (const pid of findProcesses((arg) => arg.startsWith(`--data-dir=${root}/`))) await killProcess(pid);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

interface Report {
  ok: boolean;
  plan: string;
  rtoSeconds: number;
  lostWrites: number;
  ackedWrites: number;
  expectedLostWrites: number;
  detectSeconds: number;
  problems: string[];
  writerLog: string;
  dir: string;
  backup: { file: string; revision: number; verified: boolean };
  followed: { pointRevision: number; oldestLostAgeSeconds: number | null } | null;
  steps: Array<{ name: string; ok: boolean; seconds: number }>;
}

interface Ack {
  seq: number;
  key: string;
  revision: number;
  clusterId: string;
}

function etcdctl(args: string[]): string {
  return execFileSync('etcdctl', args, { env: { ...process.env, ETCDCTL_API: '3' }, encoding: 'utf8' });
}

function labEndpoints(dir: string): string[] {
  const lab = JSON.parse(readFileSync(join(dir, 'lab.json'), 'utf8')) as { members: Array<{ clientUrl: string }> };
  return lab.members.map((m) => m.clientUrl);
}

const EXPECT = { incident: 'replace', 'disk-loss': 'replace', 'total-loss': 'snapshot' } as const;

describe.each([3, 5])('lab drill on %i members', (members) => {
  it.each(Object.keys(EXPECT) as Array<keyof typeof EXPECT>)(
    '%s: recovers, and the writer log proves what was kept and lost',
    async (scenario) => {
      const dir = join(root, `${scenario}-${members}`);
      const args = ['--json', 'lab', 'drill', '--scenario', scenario, '--members', String(members)];
      const res = await runCli([...args, '--keys', '200', '--dir', dir, '--keep'], { timeoutMs: 150_000 });
      try {
        const report = json<Report>(res);
        expect(res.code, `${report.problems.join('; ')}\n${res.stderr}`).toBe(0);
        expect(report).toMatchObject({ ok: true, plan: EXPECT[scenario], problems: [] });
        expect(report.rtoSeconds).toBeGreaterThan(0);
        expect(report.steps.every((s) => s.ok)).toBe(true);

        // The cluster, as etcdctl sees it: every member healthy and voting.
        const endpoints = labEndpoints(dir);
        etcdctl(['--endpoints', endpoints.join(','), 'endpoint', 'health']);
        const list = etcdctl(['--endpoints', endpoints[0]!, 'member', 'list']).trim().split('\n');
        expect(list).toHaveLength(members);
        expect(list.every((line) => line.includes(', started,') && line.endsWith(', false'))).toBe(true);

        // The writer's own log against the keys the cluster holds.
        const acks = readFileSync(report.writerLog, 'utf8')
          .split('\n')
          .filter((l) => l.startsWith('{"seq"'))
          .map((l) => JSON.parse(l) as Ack);
        expect(acks.length).toBeGreaterThan(40);
        expect(report.ackedWrites).toBe(acks.length);
        const keys = new Set(
          etcdctl(['--endpoints', endpoints[0]!, 'get', '/drill/writes/', '--prefix', '--keys-only'])
            .split('\n')
            .filter(Boolean),
        );
        let mustBeGone: Ack[] = [];
        if (scenario === 'total-loss') {
          // total-loss runs with the change log: the restore is the log's newest point, not the backup.
          expect(report.followed).not.toBeNull();
          const restored = report.followed!.pointRevision;
          const status = JSON.parse(etcdctl(['snapshot', 'status', report.backup.file, '-w', 'json'])) as {
            revision: number;
          };
          expect(restored).toBeGreaterThan(status.revision);
          const oldCluster = acks[0]!.clusterId;
          mustBeGone = acks.filter((a) => a.clusterId === oldCluster && a.revision > restored);
          // RPO: nothing acknowledged more than the durability cadence (1 s) + 1 s before the loss is lost.
          expect(report.followed!.oldestLostAgeSeconds ?? 0).toBeLessThanOrEqual(2);
          expect(acks.some((a) => a.clusterId !== oldCluster)).toBe(true); // writes resumed on the restored cluster
        }
        const gone = new Set(mustBeGone.map((a) => a.key));
        const missing = acks.filter((a) => !keys.has(a.key));
        expect(missing.map((a) => a.key).sort()).toEqual([...gone].sort());
        expect(report.lostWrites).toBe(mustBeGone.length);
        expect(report.expectedLostWrites).toBe(mustBeGone.length);
      } finally {
        await runCli(['lab', 'down', '--purge', '--dir', dir]);
      }
    },
    180_000,
  );
});

describe('lab drill namespace-delete (3 members, with the change log)', () => {
  it('brings the namespace back as it was the second before, and loses nothing before that point', async () => {
    const dir = join(root, 'namespace-delete');
    const args = ['--json', 'lab', 'drill', '--scenario', 'namespace-delete', '--keys', '300', '--dir', dir, '--keep'];
    const res = await runCli(args, { timeoutMs: 150_000 });
    try {
      const report = json<
        Report & {
          namespace: {
            prefixes: string[];
            deletedAt: string;
            deletedKeys: number;
            sameValues: boolean;
            restMatchesPoint: boolean;
          };
        }
      >(res);
      expect(res.code, `${report.problems.join('; ')}\n${res.stderr}`).toBe(0);
      expect(report).toMatchObject({ ok: true, plan: 'snapshot', problems: [] });
      expect(report.namespace).toMatchObject({ sameValues: true, restMatchesPoint: true });
      expect(report.namespace.deletedKeys).toBeGreaterThan(10);
      const endpoints = labEndpoints(dir);
      // The namespace, as etcdctl sees it: every object back.
      let back = 0;
      for (const prefix of report.namespace.prefixes) {
        back += etcdctl(['--endpoints', endpoints[0]!, 'get', prefix, '--prefix', '--keys-only'])
          .split('\n')
          .filter(Boolean).length;
      }
      expect(back).toBe(report.namespace.deletedKeys);
      // The writer: acknowledged writes of the old cluster after the point are gone, every other one is there.
      const acks = readFileSync(report.writerLog, 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('{"seq"'))
        .map((l) => JSON.parse(l) as Ack & { at?: string });
      const keys = new Set(
        etcdctl(['--endpoints', endpoints[0]!, 'get', '/drill/writes/', '--prefix', '--keys-only'])
          .split('\n')
          .filter(Boolean),
      );
      const point = report.followed!.pointRevision;
      const oldCluster = acks[0]!.clusterId;
      const mustBeGone = acks.filter((a) => a.clusterId === oldCluster && a.revision > point).map((a) => a.key);
      const missing = acks.filter((a) => !keys.has(a.key)).map((a) => a.key);
      expect(missing.sort()).toEqual(mustBeGone.sort());
      expect(mustBeGone.length).toBeGreaterThan(0); // the writes after the mistake went back in time with it
      // "The second before": the oldest write the point leaves out was acknowledged about a second before the mistake.
      expect(report.followed!.oldestLostAgeSeconds).toBeGreaterThan(0.5);
      expect(report.followed!.oldestLostAgeSeconds).toBeLessThan(3);
    } finally {
      await runCli(['lab', 'down', '--purge', '--dir', dir]);
    }
  }, 180_000);
});
