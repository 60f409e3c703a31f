import { describe, expect, it } from 'vitest';
import {
  backupRefusal,
  etcdRefusals,
  localRefusals,
  type MaintenancePolicy,
  precheck,
} from '../../../src/domain/maintenance/prechecks.js';
import { parseWindow } from '../../../src/domain/schedule/window.js';
import { probes } from './fixtures.js';

const policy: MaintenancePolicy = { maxRaftLag: 1000, onStaleBackup: 'block' };
const NOW = Date.parse('2026-11-27T03:30:00Z'); // a Friday
const HOUR = 3_600_000;

function codes(member: string, p: ReturnType<typeof probes>, pol: MaintenancePolicy = policy): string[] {
  return etcdRefusals({ member, probes: p, policy: pol }).refusals.map((r) => r.code);
}

describe('pre-checks before an etcd member goes down', () => {
  it('healthy 3 members: a follower may go; the leader must hand over first', () => {
    expect(codes('cp2', probes(3))).toEqual([]);
    const leader = etcdRefusals({ member: 'cp1', probes: probes(3, { raft: [5000, 4990, 5000] }), policy });
    expect(leader.refusals).toEqual([]);
    // The most up-to-date follower gets leadership.
    expect(leader.leaderMove).toMatchObject({ fromId: '101', fromName: 'cp1', toId: '303', toName: 'cp3' });
    expect(leader.leaderMove?.fromEndpoint).toBe('http://10.0.0.1:2379');
    expect(etcdRefusals({ member: 'cp2', probes: probes(3), policy }).leaderMove).toBeUndefined();
  });

  it('member-down: any voting member not answering blocks every other member', () => {
    const result = etcdRefusals({ member: 'cp1', probes: probes(3, { down: [2] }), policy });
    expect(result.refusals.map((r) => r.code)).toEqual(['member-down', 'margin']);
    expect(result.refusals[0]!.message).toMatch(/member cp3 does not answer \(.*connection refused\)/);
    expect(result.refusals[0]!.members).toEqual(['cp3']);
  });

  it('member-unstarted: a voting member added but never started', () => {
    expect(codes('cp1', probes(3, { unstarted: [2] }))).toContain('member-unstarted');
  });

  it('read-failing: a member that answers status but not a linearizable read', () => {
    const result = etcdRefusals({ member: 'cp1', probes: probes(3, { readFailing: [1] }), policy });
    expect(result.refusals.map((r) => r.code)).toEqual(['read-failing']);
    expect(result.refusals[0]!.message).toBe('member cp2 answers but cannot serve a linearizable read');
  });

  it('no-leader: nobody reports a leader', () => {
    expect(codes('cp2', probes(3, { leader: null }))).toEqual(['no-leader']);
  });

  it('alarm: NOSPACE or CORRUPT anywhere blocks', () => {
    const p = probes(3, { alarms: [{ memberId: '202', alarm: 'NOSPACE' }] });
    const r = etcdRefusals({ member: 'cp3', probes: p, policy }).refusals;
    expect(r.map((x) => x.code)).toEqual(['alarm']);
    expect(r[0]!.message).toContain('NOSPACE on cp2');
    expect(codes('cp3', probes(3, { alarms: [{ memberId: '202', alarm: 'NONE' }] }))).toEqual([]);
  });

  it('raft-lag: a member further than maxRaftLag behind the leader, or with too much unapplied', () => {
    const lagging = etcdRefusals({ member: 'cp3', probes: probes(3, { raft: [9000, 7999, 9000] }), policy });
    expect(lagging.refusals.map((r) => r.code)).toEqual(['raft-lag']);
    expect(lagging.refusals[0]!.message).toBe('cp2 is 1001 raft entries behind the leader cp1 (max 1000)');
    expect(codes('cp3', probes(3, { raft: [9000, 8000, 9000] }))).toEqual([]);
    expect(codes('cp3', probes(3, { raft: [9000, 9000, 9000], applied: [9000, 7000, 9000] }))).toEqual(['raft-lag']);
    expect(codes('cp3', probes(3, { raft: [9000, 8000, 9000] }), { ...policy, maxRaftLag: 10 })).toEqual(['raft-lag']);
  });

  it('margin: a 2-member or 1-member cluster can never lose a member; learners do not count', () => {
    const two = etcdRefusals({ member: 'cp2', probes: probes(2), policy }).refusals;
    expect(two.map((r) => r.code)).toEqual(['margin']);
    expect(two[0]!.message).toBe('taking cp2 down would leave 1 of 2 voting members, below the quorum of 2');
    expect(codes('cp1', probes(1))).toEqual(['margin']);
    // A learner going down costs no vote; a voter in a 2 voters + 1 learner cluster still may not.
    expect(codes('cp3', probes(3, { learners: [2] }))).toEqual([]);
    expect(codes('cp2', probes(3, { learners: [2] }))).toEqual(['margin']);
    expect(codes('cp3', probes(5))).toEqual([]);
  });

  it('member-not-found and cluster-unreachable', () => {
    const r = etcdRefusals({ member: 'etcd-x', probes: probes(3), policy }).refusals;
    expect(r.map((x) => x.code)).toEqual(['member-not-found']);
    expect(r[0]!.message).toContain('members: cp1, cp2, cp3');
    expect(codes('cp1', probes(3, { down: [0, 1, 2] }))).toEqual(['cluster-unreachable']);
  });

  it('member-list-mismatch: a membership change under way', () => {
    expect(codes('cp1', probes(3, { skewedList: [2] }))).toContain('member-list-mismatch');
  });
});

describe('backup requirement', () => {
  const required: MaintenancePolicy = { ...policy, requireVerifiedBackupWithinMs: 24 * HOUR };

  it('not configured: no check', () => {
    expect(backupRefusal(policy, undefined, NOW)).toBeUndefined();
  });

  it('backup-unknown / backup-missing / backup-stale, and fresh passes', () => {
    expect(backupRefusal(required, { error: 'permission denied' }, NOW)).toMatchObject({
      code: 'backup-unknown',
      message: 'cannot tell whether a verified backup exists: permission denied',
    });
    expect(backupRefusal(required, { location: '/b' }, NOW)?.code).toBe('backup-missing');
    const stale = backupRefusal(required, { location: '/b', newestVerifiedAt: NOW - 30 * HOUR }, NOW);
    expect(stale).toMatchObject({ code: 'backup-stale' });
    expect(stale?.message).toBe('the newest verified backup in /b is 1d6h old; maintenance requires one newer than 1d');
    expect(backupRefusal(required, { newestVerifiedAt: NOW - 2 * HOUR }, NOW)).toBeUndefined();
  });

  it('block refuses, warn only warns', () => {
    const input = { now: NOW, kind: 'etcd-member' as const, member: 'cp2', probes: probes(3), backup: {} };
    const blocked = precheck({ ...input, policy: required });
    expect(blocked.ok).toBe(false);
    expect(blocked.refusals.map((r) => r.code)).toEqual(['backup-missing']);
    const warned = precheck({ ...input, policy: { ...required, onStaleBackup: 'warn' } });
    expect(warned.ok).toBe(true);
    expect(warned.warnings.map((r) => r.code)).toEqual(['backup-missing']);
  });
});

describe('local checks: pause and window', () => {
  const window = parseWindow({ days: ['fri'], start: '03:00', end: '05:00', timezone: 'UTC' });

  it('paused names who and why', () => {
    const r = localRefusals({ now: NOW, paused: { by: 'ana@ops', at: '2026-11-27T01:00:00Z', reason: 'migration' } });
    expect(r).toEqual([
      {
        code: 'paused',
        message: 'maintenance is paused by ana@ops since 2026-11-27T01:00:00Z: migration (lifeboat maintain resume)',
      },
    ]);
  });

  it('outside-window, inside passes, ignoreWindow skips', () => {
    expect(localRefusals({ now: NOW, window })).toEqual([]);
    const later = localRefusals({ now: NOW + 2 * HOUR, window });
    expect(later).toEqual([
      { code: 'outside-window', message: "outside this node's maintenance window fri 03:00-05:00 UTC" },
    ]);
    expect(localRefusals({ now: NOW + 2 * HOUR, window, ignoreWindow: true })).toEqual([]);
  });

  it('workers get only the local checks; etcd members all of them', () => {
    const worker = precheck({ now: NOW + 2 * HOUR, kind: 'worker', policy, window });
    expect(worker.refusals.map((r) => r.code)).toEqual(['outside-window']);
    expect(precheck({ now: NOW, kind: 'worker', policy, window }).ok).toBe(true);
    const member = precheck({ now: NOW, kind: 'etcd-member', member: 'cp1', probes: probes(3, { down: [1] }), policy });
    expect(member.ok).toBe(false);
    expect(member.refusals.map((r) => r.code)).toEqual(['member-down', 'margin']);
  });
});
