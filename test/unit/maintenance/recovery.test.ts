import { describe, expect, it } from 'vitest';
import { type CatchUpState, catchUpStep } from '../../../src/domain/maintenance/recovery.js';
import { agentStale, renderStatus, statusDocument } from '../../../src/domain/maintenance/status.js';
import { probes } from './fixtures.js';

const opts = { member: 'cp2', maxRaftLag: 1000, settleMs: 2000 };

describe('catch-up after the boot', () => {
  it('waits for the member, targets the leader index seen then, settles, and restarts settling on a relapse', () => {
    let state: CatchUpState = {};
    const step = (p: ReturnType<typeof probes>, now: number) => {
      const v = catchUpStep(state, { ...opts, probes: p, now });
      state = v.state;
      return v;
    };
    expect(step(probes(3, { down: [1] }), 0).stage).toBe('waiting');
    expect(step(probes(3, { readFailing: [1] }), 100).message).toBe(
      'cp2 answers but cannot serve a linearizable read yet',
    );
    // Back: the leader is at 9000, cp2 has applied 4000. Target fixed at 9000 even as the leader moves on.
    const v1 = step(probes(3, { raft: [9000, 8500, 9000], applied: [9000, 4000, 9000] }), 200);
    expect(v1).toMatchObject({ stage: 'catching-up', appliedIndex: 4000 });
    expect(state.targetIndex).toBe(9000);
    expect(step(probes(3, { raft: [9500, 9400, 9500], applied: [9500, 8999, 9500] }), 300).stage).toBe('catching-up');
    const v2 = step(probes(3, { raft: [9600, 9550, 9600], applied: [9600, 9100, 9600] }), 400);
    expect(v2.stage).toBe('settling');
    expect(v2.message).toMatch(/cp2 caught up at 9100; settling 2s more/);
    expect(step(probes(3, { raft: [9700, 9700, 9700] }), 1400).stage).toBe('settling');
    // A relapse (unhealthy) starts the settle period again.
    expect(step(probes(3, { down: [1] }), 1500).stage).toBe('waiting');
    expect(step(probes(3, { raft: [9800, 9800, 9800] }), 1600).stage).toBe('settling');
    expect(step(probes(3, { raft: [9800, 9800, 9800] }), 3500).stage).toBe('settling');
    expect(step(probes(3, { raft: [9800, 9800, 9800] }), 3600).stage).toBe('done');
  });

  it('no leader: keep waiting; too far behind the leader: still catching up', () => {
    expect(catchUpStep({}, { ...opts, probes: probes(3, { leader: null }), now: 0 }).stage).toBe('waiting');
    const far = catchUpStep({ targetIndex: 100 }, { ...opts, probes: probes(3, { raft: [9000, 7000, 9000] }), now: 0 });
    expect(far.stage).toBe('catching-up');
  });
});

describe('maintain status document', () => {
  it('joins lock, pause, requests, node records and agent reports', () => {
    const now = Date.parse('2026-11-27T12:00:00Z');
    const doc = statusDocument({
      now,
      paused: { by: 'ana@ops', at: '2026-11-27T11:00:00Z', reason: 'migration' },
      locks: [
        {
          lock: 'etcd-member',
          holder: 'cp2',
          reason: 'operator request',
          fencingToken: 42,
          acquiredAt: '2026-11-27T11:59:00Z',
          renewedAt: '2026-11-27T11:59:50Z',
          ttlMs: 60_000,
          phase: 'rebooting',
        },
      ],
      requests: [{ node: 'cp2', by: 'ana@ops', at: '2026-11-27T11:58:00Z' }],
      nodes: [{ node: 'cp2', phase: 'rebooting', downAt: '2026-11-27T11:59:30Z', reboots: 3 }],
      reports: [
        {
          node: 'cp1',
          seenAt: '2026-11-27T11:59:58Z',
          state: 'refused',
          wants: ['sentinel'],
          refusals: [{ code: 'member-down', message: 'member cp2 does not answer' }],
        },
      ],
      configNodes: [
        { name: 'cp1', roles: ['etcd'] },
        { name: 'cp2', roles: ['etcd'] },
      ],
    });
    expect(doc.locks[0]!.expiresInMs).toBe(50_000);
    expect(doc.nodes.map((n) => [n.name, n.phase, n.holdsLock, n.requested])).toEqual([
      ['cp1', 'idle', false, false],
      ['cp2', 'rebooting', true, true],
    ]);
    expect(doc.nodes[0]!.agent?.ageMs).toBe(2000);
    const text = renderStatus(doc);
    expect(text).toContain('Maintenance is PAUSED by ana@ops since 2026-11-27T11:00:00Z: migration');
    expect(text).toContain('Lock etcd-member: held by cp2 (rebooting) for "operator request", fencing token 42');
    expect(text).toContain('frees itself in 50s unless renewed');
    expect(text).toMatch(/cp1 +idle +never +0 +refused: member cp2 does not answer \(2s ago\)/);
  });
});

describe('a dead agent', () => {
  const now = Date.parse('2026-11-27T12:00:00Z');
  const report = (ageMs: number, pollMs?: number) => ({
    node: 'cp1',
    seenAt: new Date(now - ageMs).toISOString(),
    state: 'idle',
    wants: [],
    refusals: [],
    ...(pollMs ? { pollMs } : {}),
  });

  it('is stale after three polls and a minute of silence, never before', () => {
    expect(agentStale(report(149_000, 30_000), now), 'under 3 x 30 s + 60 s').toBe(false);
    expect(agentStale(report(151_000, 30_000), now), 'past 3 x 30 s + 60 s').toBe(true);
    expect(agentStale(report(151_000), now), 'no pollMs: the default 30 s').toBe(true);
    expect(agentStale(report(104_000, 1000), now), 'a fast poll still reports at most every 15 s').toBe(false);
    expect(agentStale(report(106_000, 1000), now)).toBe(true);
    expect(agentStale(report(30 * 60_000, 10 * 60_000), now)).toBe(false);
  });

  it('maintain status says NOT REPORTING instead of its last state', () => {
    const doc = statusDocument({
      now,
      locks: [],
      requests: [],
      nodes: [{ node: 'cp1', phase: 'rebooting', downAt: '2026-11-27T11:40:00Z', reboots: 1 }],
      reports: [report(20 * 60_000, 30_000)],
      configNodes: [],
    });
    expect(doc.nodes[0]!.agent!.stale).toBe(true);
    expect(renderStatus(doc)).toMatch(
      /cp1 +rebooting since .* +NOT REPORTING since 2026-11-27T11:40:00.000Z \(last said idle, 20m ago\)/,
    );
  });
});
