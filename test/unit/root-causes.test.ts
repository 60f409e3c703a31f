import { describe, expect, it } from 'vitest';
import type { LifeboatConfig } from '../../src/domain/config.js';
import { formatAge } from '../../src/domain/duration.js';
import {
  type BackupsView,
  backupFindings,
  dataLostFinding,
  doctorExitCode,
  hostIsMember,
  isOffNode,
  memberHosts,
  newestVerifiedContents,
  scheduleFindings,
  verifiedBackupMaxAge,
  worstSeverity,
} from '../../src/domain/root-causes.js';
import { runCheck } from '../../src/domain/schedule/check.js';
import { configInventory } from '../../src/domain/schedule/inventory.js';
import { DAY } from '../../src/domain/schedule/types.js';

const HOUR = 3_600_000;
const NOW = Date.UTC(2026, 11, 2, 12);

const view = (over: Partial<BackupsView> = {}): BackupsView => ({
  configured: true,
  maxAgeMs: DAY,
  hostIsEtcdMember: false,
  destinations: [{ location: '/backups', kind: 'directory', backups: 0 }],
  ...over,
});
const codes = (findings: { code: string }[]) => findings.map((f) => f.code);

describe('backup findings', () => {
  it('no destination configured: a warning that says doctor cannot tell, not silence', () => {
    const f = backupFindings(view({ configured: false, destinations: [] }), NOW);
    expect(f.map((x) => [x.severity, x.code])).toEqual([['warning', 'backups-not-configured']]);
  });

  it('no backup at all, and backups never proven: errors that say which', () => {
    const none = backupFindings(view(), NOW);
    expect(none.map((x) => [x.severity, x.code])).toEqual([['error', 'no-verified-backup']]);
    expect(none[0]!.message).toMatch(/No etcd backup at all in \/backups/);
    const unproven = backupFindings(view({ destinations: [{ location: '/b', kind: 'directory', backups: 3 }] }), NOW);
    expect(unproven[0]!.message).toMatch(/3 etcd backups in \/b, none proven restorable/);
  });

  it('a verified backup within the age is fine; one older is an error naming its age and the limit', () => {
    const at = (age: number) =>
      view({ destinations: [{ location: '/b', kind: 'directory', backups: 1, newestVerifiedAt: NOW - age }] });
    expect(backupFindings(at(DAY), NOW)).toEqual([]);
    const stale = backupFindings(at(DAY + 1000), NOW);
    expect(codes(stale)).toEqual(['backup-stale']);
    expect(stale[0]!.message).toMatch(/is 1d1s old \(limit 1d\)/);
  });

  it('the newest verified backup of any destination counts; an unreadable one is a warning of its own', () => {
    const f = backupFindings(
      view({
        destinations: [
          { location: 's3://b/etcd', kind: 's3', backups: 0, error: 'no answer within 5000 ms' },
          { location: '/old', kind: 'directory', backups: 2, newestVerifiedAt: NOW - 30 * DAY },
          { location: '/new', kind: 'directory', backups: 1, newestVerifiedAt: NOW - HOUR },
        ],
      }),
      NOW,
    );
    expect(codes(f)).toEqual(['backup-store-unreadable']);
    expect(f[0]!.message).toContain('s3://b/etcd: no answer within 5000 ms');
  });

  it('only local directories on an etcd member: a warning; any off-node destination clears it', () => {
    const fresh = { backups: 1, newestVerifiedAt: NOW - HOUR };
    const local = { location: '/var/backups', kind: 'directory' as const, fsType: 'ext4', ...fresh };
    expect(codes(backupFindings(view({ hostIsEtcdMember: true, destinations: [local] }), NOW))).toEqual([
      'backups-on-cluster-only',
    ]);
    for (const other of [
      { location: 's3://b/etcd', kind: 's3' as const, backups: 0 },
      { location: '/mnt/nfs', kind: 'directory' as const, fsType: 'nfs4', backups: 0 },
    ]) {
      expect(backupFindings(view({ hostIsEtcdMember: true, destinations: [local, other] }), NOW)).toEqual([]);
    }
    // Run from a machine that is no member, a local directory is already off the etcd nodes.
    expect(backupFindings(view({ hostIsEtcdMember: false, destinations: [local] }), NOW)).toEqual([]);
  });

  it('isOffNode: S3 and network filesystems always; a local disk only away from the members', () => {
    expect(isOffNode({ kind: 's3' }, true)).toBe(true);
    for (const fsType of ['nfs', 'nfs4', 'cifs', 'fuse.sshfs', 'ceph'])
      expect(isOffNode({ kind: 'directory', fsType }, true)).toBe(true);
    for (const fsType of ['ext4', 'xfs', 'btrfs', 'zfs', 'overlay', undefined])
      expect(isOffNode({ kind: 'directory', fsType }, true)).toBe(false);
    expect(isOffNode({ kind: 'directory', fsType: 'ext4' }, false)).toBe(true);
  });
});

describe('data lost: etcd holds less than its newest verified backup', () => {
  const answering = (revision: number) => ({
    endpoint: 'https://10.0.0.11:2379',
    elapsedMs: 5,
    status: {
      memberId: '1',
      revision,
      clusterId: '77',
      leaderId: '1',
      version: '3.5.30',
      dbSize: 20480,
      raftTerm: 2,
      raftIndex: 4,
      isLearner: false,
      errors: [],
    },
  });
  const backup = { revision: 4242, keys: 3000, clusterId: '77', createdAt: NOW - HOUR };

  it('a lone member that started empty after a total loss is data loss, not health', () => {
    const f = dataLostFinding(
      [answering(1), { endpoint: 'https://10.0.0.12:2379', elapsedMs: 5, error: 'connection refused' }],
      backup,
    );
    expect(f).toMatchObject({ severity: 'error', code: 'data-lost' });
    expect(f!.message).toMatch(/store revision 1, the newest verified backup .* holds revision 4242 with 3000 keys/);
    expect(f!.message).toMatch(/lifeboat recover --plan snapshot --force/);
    expect(doctorExitCode('healthy', [f!])).not.toBe(0);
  });

  it('a cluster at or past the backup (the usual case, or restored with --bump-revision) is not', () => {
    expect(dataLostFinding([answering(4242)], backup)).toBeUndefined();
    expect(dataLostFinding([answering(1_000_004_242)], backup)).toBeUndefined();
    // Nothing answers, or nothing to compare with: the other findings speak.
    expect(
      dataLostFinding([{ endpoint: 'https://10.0.0.11:2379', elapsedMs: 5, error: 'timeout' }], backup),
    ).toBeUndefined();
    expect(dataLostFinding([answering(1)], undefined)).toBeUndefined();
    // Backups of another cluster (rebuilt on purpose: a new cluster id) say nothing about this one.
    expect(dataLostFinding([answering(1)], { ...backup, clusterId: '78' })).toBeUndefined();
  });

  it('compares with the newest verified backup over every store that could be read', () => {
    const older = { revision: 100, keys: 10, clusterId: '77', createdAt: NOW - 3 * HOUR };
    expect(
      newestVerifiedContents([
        { location: '/a', kind: 'directory', backups: 2, newestVerified: older },
        { location: 's3://b', kind: 's3', backups: 1, newestVerified: backup },
        { location: 's3://c', kind: 's3', backups: 0, error: 'timeout' },
      ]),
    ).toEqual(backup);
    expect(newestVerifiedContents([{ location: '/a', kind: 'directory', backups: 1 }])).toBeUndefined();
  });
});

describe('the age limit', () => {
  const config = (c: Partial<LifeboatConfig>) => c as LifeboatConfig;
  it('is requireVerifiedBackupWithin when set, else two backup intervals, and never under a day', () => {
    expect(verifiedBackupMaxAge(undefined)).toBe(DAY);
    expect(verifiedBackupMaxAge(config({ maintenance: { requireVerifiedBackupWithin: '6h' } }))).toBe(6 * HOUR);
    expect(verifiedBackupMaxAge(config({ backups: { to: ['/b'], etcd: { every: '1h' } } }))).toBe(DAY);
    expect(verifiedBackupMaxAge(config({ backups: { to: ['/b'], etcd: { every: '3d' } } }))).toBe(6 * DAY);
  });
});

describe('this host among the members', () => {
  it('matches member client and peer URLs against local addresses and the host name', () => {
    const probes = [
      {
        endpoint: 'https://10.0.0.11:2379',
        members: [
          {
            id: '1',
            name: 'cp1',
            peerURLs: ['https://10.0.0.11:2380'],
            clientURLs: ['https://10.0.0.11:2379'],
            isLearner: false,
          },
          { id: '2', name: 'cp2', peerURLs: ['https://CP2.lan:2380'], clientURLs: [], isLearner: false },
          { id: '3', name: 'cp3', peerURLs: ['https://[fd00::13]:2380'], clientURLs: [], isLearner: false },
        ],
      },
    ];
    const hosts = memberHosts(probes as never);
    expect(hosts.sort()).toEqual(['10.0.0.11', 'cp2.lan', 'fd00::13']);
    expect(hostIsMember(hosts, { addresses: ['10.0.0.11'], hostname: 'x' })).toBe(true);
    expect(hostIsMember(hosts, { addresses: ['192.168.1.5'], hostname: 'cp2.lan' })).toBe(true);
    expect(hostIsMember(hosts, { addresses: ['fd00::13'], hostname: 'x' })).toBe(true);
    expect(hostIsMember(hosts, { addresses: ['10.0.0.99'], hostname: 'admin' })).toBe(false);
    // A member on loopback runs on this machine (the lab).
    expect(hostIsMember(['127.0.0.1'], { addresses: [], hostname: 'x' })).toBe(true);
  });
});

describe('schedule findings and the exit code', () => {
  const incident = {
    nodes: [
      { name: 'cp1', roles: ['control-plane', 'etcd'], reboot: [{ cron: '0 4 * * 1' }] },
      { name: 'cp2', roles: ['control-plane', 'etcd'], reboot: [{ cron: '0 4 * * 1' }] },
      { name: 'cp3', roles: ['control-plane', 'etcd'], reboot: [{ cron: '0 4 * * 3' }] },
    ],
  } as LifeboatConfig;

  it("the check's quorum-loss error becomes a doctor error naming the members and where the rules come from", () => {
    const result = runCheck({ ...configInventory(incident, 'lifeboat.yaml'), from: NOW, to: NOW + 366 * DAY });
    const f = scheduleFindings(result);
    expect(f.map((x) => [x.severity, x.code, x.members])).toEqual([['error', 'schedule-quorum-loss', ['cp1', 'cp2']]]);
    expect(f[0]!.message).toMatch(/cp1 and cp2 \(2 of 3 etcd members\) are down together every Monday/);
    expect(f[0]!.message).toContain('lifeboat.yaml nodes[0].reboot[0]');
  });

  it('a schedule that keeps members apart gives no finding', () => {
    const fixed = { nodes: incident.nodes!.map((n, i) => ({ ...n, reboot: [{ cron: `0 4 * * ${i + 1}` }] })) };
    const result = runCheck({ ...configInventory(fixed as LifeboatConfig, 'x'), from: NOW, to: NOW + 366 * DAY });
    expect(scheduleFindings(result)).toEqual([]);
  });

  it('the exit code is the worse of the state and the findings', () => {
    const err = [{ severity: 'error' as const, code: 'no-verified-backup', message: '' }];
    const warn = [{ severity: 'warning' as const, code: 'backups-on-cluster-only', message: '' }];
    expect(doctorExitCode('healthy', [])).toBe(0);
    expect(doctorExitCode('healthy', warn)).toBe(0);
    expect(doctorExitCode('healthy', err)).toBe(1);
    expect(doctorExitCode('degraded', err)).toBe(1);
    expect(doctorExitCode('quorum-lost', err)).toBe(3);
    expect(doctorExitCode('unreachable', [])).toBe(3);
    expect(worstSeverity([...warn, ...err])).toBe('error');
    expect(worstSeverity(warn)).toBe('warning');
    expect(worstSeverity([])).toBe('info');
  });
});

describe('formatAge', () => {
  it('keeps the two largest units and drops milliseconds', () => {
    expect(formatAge(3_114_853)).toBe('51m54s');
    expect(formatAge(3 * DAY + 4 * HOUR + 5000)).toBe('3d4h');
    expect(formatAge(999)).toBe('0s');
    expect(formatAge(-5)).toBe('0s');
    expect(formatAge(DAY)).toBe('1d');
  });
});
