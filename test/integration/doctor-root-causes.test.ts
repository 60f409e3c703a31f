import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filesystemOf } from '../../src/adapters/snapshot/destinations.js';
import { json, runCli } from '../helpers/cli.js';
import { startTestCluster, type TestCluster } from '../helpers/etcd-cluster.js';

interface DoctorJson {
  state: string;
  members: unknown[];
  plans: unknown[];
  findings: Array<{ severity: string; code: string; message: string; members?: string[] }>;
  schedule: { checked: boolean; errors: number };
  backups: {
    configured: boolean;
    hostIsEtcdMember: boolean;
    newestVerifiedAt: string | null;
    destinations: Array<{ location: string; offNode: boolean; backups: number }>;
  };
  worst: string;
  exitCode: number;
}

// The incident's two root causes on a cluster whose etcd is perfectly healthy: doctor must not say "fine".
describe('doctor names the root causes: the reboot schedule, no verified backup, no off-node copy', () => {
  let cluster: TestCluster;
  const dir = mkdtempSync(join(tmpdir(), 'lifeboat-doctor-causes-'));
  const config = (name: string, body: string) => {
    const path = join(dir, name);
    const endpoints = cluster.endpoints.map((e) => `"${e}"`).join(', ');
    writeFileSync(path, `etcd: { endpoints: [${endpoints}] }\n${body}`);
    return path;
  };
  const members = (cron: (i: number) => string) =>
    `nodes:\n${[1, 2, 3].map((i) => `  - { name: m${i}, roles: [etcd], reboot: [{ cron: "${cron(i)}" }] }`).join('\n')}\n`;
  const doctor = async (file: string) => {
    const result = await runCli(['-c', file, 'doctor', '--json']);
    return { code: result.code, d: json<DoctorJson>(result) };
  };

  beforeAll(async () => {
    cluster = await startTestCluster(3);
  });
  afterAll(async () => {
    await cluster?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('two members on the same reboot line and no backup: exit 1, both causes named, etcd itself healthy', async () => {
    const file = config('incident.yaml', `${members((i) => `0 4 * * ${i === 3 ? 3 : 1}`)}backups: { to: [./empty] }\n`);
    const { code, d } = await doctor(file);
    expect(code).toBe(1);
    expect(d.state).toBe('healthy');
    expect(d.exitCode).toBe(1);
    expect(d.worst).toBe('error');
    const errors = d.findings.filter((f) => f.severity === 'error');
    expect(errors.map((f) => f.code)).toEqual(['schedule-quorum-loss', 'no-verified-backup']);
    expect(errors[0]!.members).toEqual(['m1', 'm2']);
    expect(errors[0]!.message).toMatch(/m1 and m2 \(2 of 3 etcd members\) are down together every Monday/);
    expect(errors[1]!.message).toContain(`No etcd backup at all in ./empty`);
    // The fields doctor --json always had are still there.
    expect(d.members).toHaveLength(3);
    expect(d.plans).toEqual([]);
    expect(d.schedule).toMatchObject({ checked: true, errors: 1 });

    const text = await runCli(['-c', file, 'doctor']);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/ERROR\s+schedule-quorum-loss/);
    expect(text.stdout).toMatch(/ERROR\s+no-verified-backup/);
    expect(text.stdout).toMatch(
      /Backups: none verified \(limit 1d\)\nDESTINATION\s+BACKUPS\s+NEWEST VERIFIED \(UTC\)\s+OFF-NODE\n\.\/empty\s+0\s+-\s+no/,
    );
  });

  it('a verified backup and a schedule that keeps members apart: exit 0; the local copy is a warning', async () => {
    const file = config('fixed.yaml', `${members((i) => `0 4 * * ${i}`)}backups: { to: [./backups] }\n`);
    expect((await runCli(['-c', file, 'backup', 'etcd'], { timeoutMs: 120_000 })).code).toBe(0);
    const unverified = await doctor(file);
    expect(unverified.code).toBe(1);
    expect(unverified.d.findings.find((f) => f.code === 'no-verified-backup')!.message).toMatch(
      /1 etcd backup in \.\/backups, none proven restorable/,
    );
    const verify = await runCli(['-c', file, 'verify', '--latest'], { timeoutMs: 120_000 });
    expect(verify.code, verify.stderr).toBe(0);
    const { code, d } = await doctor(file);
    expect(code).toBe(0);
    expect(d.findings.filter((f) => f.severity === 'error')).toEqual([]);
    expect(d.backups.newestVerifiedAt).not.toBeNull();
    // The members listen on 127.0.0.1: this machine is one of them, and ./backups is its own disk.
    expect(d.backups.hostIsEtcdMember).toBe(true);
    expect(d.backups.destinations).toMatchObject([{ location: './backups', offNode: false, backups: 1 }]);
    expect(d.findings.map((f) => f.code)).toContain('backups-on-cluster-only');

    // The schedule alone (the backup is verified now): still exit 1, and the schedule is the one error named.
    const incident = config(
      'schedule-only.yaml',
      `${members((i) => `0 4 * * ${i === 3 ? 3 : 1}`)}backups: { to: [./backups] }\n`,
    );
    const scheduleOnly = await doctor(incident);
    expect(scheduleOnly.code).toBe(1);
    expect(scheduleOnly.d.findings.filter((f) => f.severity === 'error').map((f) => f.code)).toEqual([
      'schedule-quorum-loss',
    ]);

    // Older than the configured age: an error again, with the age.
    const strict = config(
      'strict.yaml',
      `backups: { to: [./backups] }\nmaintenance: { requireVerifiedBackupWithin: 1s }\n`,
    );
    const deadline = Date.now() + 30_000;
    let stale = await doctor(strict);
    while (!stale.d.findings.some((f) => f.code === 'backup-stale') && Date.now() < deadline)
      stale = await doctor(strict);
    expect(stale.code).toBe(1);
    expect(stale.d.findings.find((f) => f.code === 'backup-stale')!.message).toMatch(/old \(limit 1s\)/);
  });

  it('without any backup destination configured: a warning, and exit 0 for a healthy cluster', async () => {
    const result = await runCli(['--endpoints', cluster.endpoints.join(','), 'doctor', '--json'], { cwd: dir });
    expect(result.code).toBe(0);
    const d = json<DoctorJson>(result);
    expect(d.backups.configured).toBe(false);
    expect(d.findings.map((f) => [f.severity, f.code])).toContainEqual(['warning', 'backups-not-configured']);
  });

  it('filesystemOf reads the longest mount point holding a path, also for a path not created yet', () => {
    const mounts = join(dir, 'mounts');
    writeFileSync(
      mounts,
      ['/dev/sda1 / ext4 rw 0 0', 'srv:/export /mnt/nfs nfs4 rw 0 0', 'srv:/x /mnt/nfs\\040b cifs rw 0 0', ''].join(
        '\n',
      ),
    );
    expect(filesystemOf('/mnt/nfs/lifeboat/etcd', mounts)).toBe('nfs4');
    expect(filesystemOf('/mnt/nfs b/x', mounts)).toBe('cifs');
    expect(filesystemOf('/mnt/nfsx', mounts)).toBe('ext4');
    expect(filesystemOf('/', mounts)).toBe('ext4');
    expect(filesystemOf(join(dir, 'not-yet', 'deeper'), mounts)).toBe('ext4');
  });
});
