import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtcdEndpointClient } from '../../src/adapters/etcd/client.js';
import { freePort } from '../../src/adapters/proc/ports.js';
import { waitFor } from '../../src/adapters/proc/wait.js';
import type { BackupManifest } from '../../src/domain/backup/manifest.js';
import { json, runCli } from '../helpers/cli.js';
import { startTestCluster, type TestCluster } from '../helpers/etcd-cluster.js';
import { startS3, type TestS3 } from '../helpers/s3.js';
import { ageKeygen, filesUnder, modeOf, restoreAndStart, writeConfig } from '../unit/backup/support.js';

const KEYS = 300;
const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
const manifestOf = (file: string) => JSON.parse(readFileSync(`${file}.manifest.json`, 'utf8')) as BackupManifest;

interface BackupJson {
  location: string;
  sha256: string;
  size: number;
  revision: number;
  clusterId: string;
  memberId: string;
  etcdVersion: string;
  createdAt: string;
  name: string;
}

describe('lifeboat backup etcd / list / prune / verify against a real 3-member cluster', () => {
  let cluster: TestCluster;
  let dir: string;
  let config: string;
  let backups: string;
  let first: BackupJson;

  beforeAll(async () => {
    cluster = await startTestCluster(3);
    dir = mkdtempSync(join(tmpdir(), 'lifeboat-backup-'));
    backups = join(dir, 'backups');
    config = writeConfig(dir, { endpoints: cluster.endpoints, to: [backups], retention: { keepLast: 2 } });
    const client = new EtcdEndpointClient(cluster.endpoints[0]!);
    try {
      const entries = Array.from({ length: KEYS }, (_, i): [string, string] => [`/registry/k${i}`, `value-${i}`]);
      await client.putMany(entries);
    } finally {
      client.close();
    }
  });

  afterAll(async () => {
    await cluster?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('snapshots a follower, commits a 0600 file and manifest, and prints the --json contract', async () => {
    const r = await runCli(['-c', config, '--json', 'backup', 'etcd']);
    expect(r.code, r.stderr).toBe(0);
    first = json<BackupJson>(r);
    expect(Object.keys(first)).toEqual(
      expect.arrayContaining(['location', 'sha256', 'size', 'revision', 'clusterId', 'memberId', 'etcdVersion']),
    );
    expect(first.location).toBe(join(backups, first.name));
    expect(first.name).toMatch(/^etcd\/\d{4}-\d\d-\d\dT\d{6}\.\d{3}Z-test\.db$/);
    expect(sha256(first.location)).toBe(first.sha256);
    expect(modeOf(first.location)).toBe('600');
    expect(modeOf(`${first.location}.manifest.json`)).toBe('600');
    expect(filesUnder(backups)).toEqual([first.name, `${first.name}.manifest.json`]);
    const m = manifestOf(first.location);
    expect(m).toMatchObject({ keys: KEYS, encrypted: false, verified: null, revision: first.revision });
    expect(m.hashKV?.revision).toBe(first.revision);
    expect(m.etcdVersion).toMatch(/^3\./);
    const probe = new EtcdEndpointClient(cluster.endpoints[0]!);
    const status = await probe.status().finally(() => probe.close());
    expect(first.memberId).not.toBe(status.leaderId); // a follower served it
    expect(['m1', 'm2', 'm3']).toContain(m.memberName);
  });

  it('the stored file restores with the real etcdctl and holds every key, with the recorded HashKV', async () => {
    const m = manifestOf(first.location);
    const restored = await restoreAndStart(first.location, mkdtempSync(join(dir, 'r-')));
    try {
      expect(await restored.client.count('/registry/')).toBe(KEYS);
      expect(await restored.client.get('/registry/k123')).toBe('value-123');
      expect((await restored.client.hashKV(m.revision)).hash).toBe(m.hashKV!.hash);
    } finally {
      await restored.stop();
    }
  });

  it('verify --latest passes, records the drill in the manifest, and backup list shows it verified', async () => {
    const r = await runCli(['-c', config, '--json', 'verify', '--latest']);
    expect(r.code, r.stderr).toBe(0);
    const v = json(r);
    expect(v).toMatchObject({ ok: true, location: first.location, keys: KEYS, hashKVMatch: true, problems: [] });
    expect(v.revision).toBeGreaterThanOrEqual(first.revision);
    expect(manifestOf(first.location).verified).toMatchObject({ ok: true, hashKVMatch: true, keys: KEYS });
    const list = json<{ backups: Array<{ name: string; verified: boolean | null }> }>(
      await runCli(['-c', config, '--json', 'backup', 'list']),
    );
    expect(list.backups).toEqual([
      expect.objectContaining({ name: first.name, verified: true, revision: first.revision }),
    ]);
    const human = await runCli(['-c', config, 'backup', 'list']);
    expect(human.stdout).toMatch(/1 etcd backup\(s\)/);
    expect(human.stdout).toMatch(/yes/);
  });

  it('prune keeps keepLast and the newest verified backup; --dry-run deletes nothing', async () => {
    const names: string[] = [first.name];
    for (let i = 0; i < 3; i++) {
      const r = await runCli(['-c', config, '--json', 'backup', 'etcd']);
      expect(r.code, r.stderr).toBe(0);
      names.push(json<BackupJson>(r).name);
    }
    const before = filesUnder(backups);
    const dry = await runCli(['-c', config, '--json', 'prune', '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    const plan = json<{ plan: { remove: Array<{ name: string; objects: string[] }> }; deleted: string[] }>(dry);
    // keepLast 2 keeps the two newest; the oldest is the newest *verified* one and stays too.
    expect(plan.plan.remove.map((x) => x.name)).toEqual([names[1]]);
    expect(plan.plan.remove[0]!.objects).toEqual([names[1], `${names[1]}.manifest.json`]);
    expect(plan.deleted).toEqual([]);
    expect(filesUnder(backups)).toEqual(before);
    const human = await runCli(['-c', config, 'prune', '--dry-run']);
    expect(human.stdout).toMatch(/dry run: would delete 1 backup/);
    const real = await runCli(['-c', config, 'prune']);
    expect(real.code, real.stderr).toBe(0);
    expect(filesUnder(backups)).toEqual(
      [names[0]!, names[2]!, names[3]!].flatMap((n) => [n, `${n}.manifest.json`]).sort(),
    );
  });

  it('encrypts to an age recipient: the age CLI decrypts it, etcdctl restores it, verify needs the identity', async () => {
    const keys = ageKeygen(dir);
    const to = join(dir, 'encrypted');
    const r = await runCli(['-c', config, '--json', 'backup', 'etcd', '--to', to, '--recipient', keys.recipient]);
    expect(r.code, r.stderr).toBe(0);
    const b = json<BackupJson & { encrypted: boolean; plaintextSha256: string }>(r);
    expect(b.name).toMatch(/\.db\.age$/);
    expect(b.encrypted).toBe(true);
    expect(sha256(b.location)).toBe(b.sha256);
    expect(readFileSync(b.location).subarray(0, 21).toString()).toBe('age-encryption.org/v1');
    const plain = join(dir, 'decrypted.db');
    const age = spawnSync('age', ['-d', '-i', keys.identityFile, '-o', plain, b.location], { encoding: 'utf8' });
    expect(age.status, age.stderr).toBe(0);
    expect(sha256(plain)).toBe(b.plaintextSha256);
    const restored = await restoreAndStart(plain, mkdtempSync(join(dir, 'r-')));
    try {
      expect(await restored.client.count('/registry/')).toBe(KEYS);
    } finally {
      await restored.stop();
    }
    const env = { LIFEBOAT_AGE_IDENTITY: '' };
    const noKey = await runCli(['verify', b.location], { env });
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toMatch(/age-encrypted and no identity/);
    const v = await runCli(['--json', 'verify', b.location, '--identity', keys.identityFile], { env });
    expect(v.code, v.stderr).toBe(0);
    expect(json(v)).toMatchObject({ ok: true, keys: KEYS, hashKVMatch: true });
  });

  it('backs up to S3 (s3rver) and verifies from there, end to end through the CLI', async () => {
    let s3: TestS3 | undefined;
    try {
      s3 = await startS3();
      const env = { ...s3.env, AWS_ENDPOINT_URL_S3: s3.endpoint };
      const to = `s3://${s3.bucket}/cluster-a`;
      const r = await runCli(['-c', config, '--json', 'backup', 'etcd', '--to', to], { env });
      expect(r.code, r.stderr).toBe(0);
      const b = json<BackupJson>(r);
      expect(b.location).toBe(`${to}/${b.name}`);
      const list = json<{ backups: unknown[] }>(
        await runCli(['-c', config, '--json', 'backup', 'list', '--to', to], { env }),
      );
      expect(list.backups).toHaveLength(1);
      const v = await runCli(['-c', config, '--json', 'verify', '--latest', '--to', to], { env });
      expect(v.code, v.stderr).toBe(0);
      expect(json(v)).toMatchObject({ ok: true, keys: KEYS, hashKVMatch: true });
      expect(await s3.pendingUploads()).toEqual([]);
    } finally {
      await s3?.stop();
    }
  });

  it('--every backs up on a schedule, one line per run, and stops cleanly on SIGINT', async () => {
    const to = join(dir, 'every');
    const bin = resolve(import.meta.dirname, '../../bin/lifeboat.js');
    const args = ['-c', config, 'backup', 'etcd', '--every', '1s', '--verify-every', '2', '--to', to];
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      await waitFor('three scheduled runs', () => out.split('\n').filter(Boolean).length >= 3, { timeoutMs: 40_000 });
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
    const lines = out.split('\n').filter(Boolean);
    expect(lines[0]).toMatch(/run 1: backup ok .* pruned 0; verified ok$/);
    expect(lines[1]).toMatch(/run 2: backup ok .* pruned 0$/);
    expect(lines[2]).toMatch(/run 3: backup ok .*; pruned \d; verified ok$/);
    expect(err).toMatch(/stopped/);
    expect(filesUnder(to).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('says what is wrong: no destination (exit 2), no member answers (exit 1), no such snapshot (exit 2)', async () => {
    const empty = mkdtempSync(join(dir, 'cwd-'));
    const noDest = await runCli(['--endpoints', cluster.endpoints[0]!, 'backup', 'etcd'], { cwd: empty });
    expect(noDest.code).toBe(2);
    expect(noDest.stderr).toMatch(/no backup destination/);
    const port = await freePort();
    const to = join(dir, 'never');
    const down = await runCli(['--endpoints', `127.0.0.1:${port}`, 'backup', 'etcd', '--to', to], { cwd: empty });
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/cannot back up: no etcd member answered/);
    expect(existsSync(to) ? filesUnder(to) : []).toEqual([]);
    const missing = await runCli(['verify', join(dir, 'nope.db')], { cwd: empty });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no such file/);
    const neither = await runCli(['verify'], { cwd: empty });
    expect(neither.code).toBe(2);
  });
});
