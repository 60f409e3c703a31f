import { describe, expect, it } from 'vitest';
import { type ScheduledSteps, scheduledRun } from '../../../src/app/backup/scheduled.js';
import type { VerifyOutcome } from '../../../src/app/verify.js';
import { type BackupManifest, MANIFEST_FORMAT } from '../../../src/domain/backup/manifest.js';
import { scheduledRunDocument, scheduledRunLine } from '../../../src/render/backup.js';

const manifest: BackupManifest = {
  format: MANIFEST_FORMAT,
  name: 'etcd/2026-11-27T150905.123Z-home.db',
  location: '/b/etcd/2026-11-27T150905.123Z-home.db',
  clusterId: '1',
  memberId: '2',
  memberName: 'cp2',
  endpoint: 'http://127.0.0.1:2379',
  revision: 100,
  raftIndex: 120,
  raftTerm: 2,
  etcdVersion: '3.4.23',
  size: 2048,
  sha256: 'aa',
  plaintextSize: 2048,
  plaintextSha256: 'aa',
  hashKV: { hash: 1, revision: 100, compactRevision: -1 },
  keys: 10,
  createdAt: '2026-11-27T15:09:05.123Z',
  seconds: 1.5,
  toolVersion: '0.1.0',
  encrypted: false,
  verified: null,
};

const verified = (ok: boolean): VerifyOutcome => ({
  ok,
  location: manifest.location,
  name: manifest.name,
  revision: 100,
  keys: 10,
  hashKVMatch: ok,
  seconds: 2,
  problems: ok ? [] : ['HashKV mismatch at revision 100'],
  stage: 'compare',
});

function steps(over: Partial<ScheduledSteps> = {}): ScheduledSteps & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    backup: async () => {
      calls.push('backup');
      return manifest;
    },
    prune: async () => {
      calls.push('prune');
      return ['etcd/old.db'];
    },
    verify: async () => {
      calls.push('verify');
      return verified(true);
    },
    ...over,
  };
}

const now = () => Date.UTC(2026, 10, 27, 16, 0, 0);

describe('scheduledRun', () => {
  it('backs up, prunes and verifies on the runs due, in one line', async () => {
    const s = steps();
    const r = await scheduledRun(s, 1, 2, new AbortController().signal, now);
    expect(s.calls).toEqual(['backup', 'prune', 'verify']);
    expect(r).toMatchObject({ ok: true, run: 1, pruned: ['etcd/old.db'], at: '2026-11-27T16:00:00.000Z' });
    expect(scheduledRunLine(r)).toMatch(/^2026-11-27T16:00:00.000Z run 1: backup ok .*; pruned 1; verified ok$/);
    expect(Object.keys(scheduledRunDocument(r))).toEqual(['at', 'run', 'ok', 'backup', 'pruned', 'verify']);
    const second = steps();
    expect(scheduledRunLine(await scheduledRun(second, 2, 2, new AbortController().signal, now))).toMatch(/pruned 1$/);
    expect(second.calls).toEqual(['backup', 'prune']);
  });

  it('reports a failed step and a failed drill without throwing', async () => {
    const failing = steps({ backup: async () => Promise.reject(new Error('no etcd member answered')) });
    const r = await scheduledRun(failing, 3, 1, new AbortController().signal, now);
    expect(r).toMatchObject({ ok: false, error: 'no etcd member answered' });
    expect(scheduledRunLine(r)).toMatch(/run 3: FAILED: no etcd member answered$/);
    const drill = await scheduledRun(
      steps({ verify: async () => verified(false) }),
      1,
      1,
      new AbortController().signal,
    );
    expect(drill.ok).toBe(false);
    expect(scheduledRunLine(drill)).toMatch(/verify FAILED: HashKV mismatch at revision 100$/);
  });

  it('rethrows when the schedule is being stopped', async () => {
    const controller = new AbortController();
    const s = steps({
      backup: async () => {
        controller.abort();
        throw new Error('aborted');
      },
    });
    await expect(scheduledRun(s, 1, 1, controller.signal)).rejects.toThrow('aborted');
  });
});
