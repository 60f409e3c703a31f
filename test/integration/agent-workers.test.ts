import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../src/adapters/proc/wait.js';
import { json } from '../helpers/cli.js';
import { AgentLab, lifeboat, Monitor, Writer, worstSecond } from './agent-harness.js';

/**
 * 5 etcd members and 4 workers (agents without an etcd member), every node told to reboot at once, workers allowed
 * 2 at a time: etcd members still go strictly one at a time, never more than 2 workers are down.
 */

const MEMBERS = ['cp1', 'cp2', 'cp3', 'cp4', 'cp5'];
const WORKERS = ['w1', 'w2', 'w3', 'w4'];
const ALL = [...MEMBERS, ...WORKERS];
const lab = new AgentLab(mkdtempSync(join(tmpdir(), 'lifeboat-agent5-')));
const figures: Record<string, unknown> = {};

beforeAll(async () => {
  await lab.up(5, WORKERS, {
    settle: '1s',
    ttl: '10s',
    pollInterval: '200ms',
    maxRaftLag: 1000,
    maxConcurrentWorkers: 2,
  });
  for (const n of ALL) lab.startAgent(n, { LIFEBOAT_LAB_DOWNTIME: '2s-5s' });
  await lab.waitStarted(ALL);
}, 150_000);

afterAll(async () => {
  console.log(`agent-workers figures: ${JSON.stringify(figures)}`);
  await lab.destroy();
}, 60_000);

describe('lifeboat agent on 5 members and 4 workers', () => {
  it('members one at a time after catch-up, workers at most 2 at a time, writes keep flowing', async () => {
    const monitor = new Monitor(lab);
    const writer = new Writer(lab.members.map((m) => m.clientUrl));
    monitor.start();
    writer.start();
    await writer.warmUp();
    const t0 = lab.touchSentinels(ALL);
    await waitFor(
      'every node to complete its maintenance',
      () => ALL.every((n) => lab.allEvents().some((e) => e.node === n && e.event === 'completed' && e.t >= t0)),
      { timeoutMs: 240_000, intervalMs: 100 },
    );
    const seconds = (Date.now() - t0) / 1000;
    const availability = await writer.stop();
    await monitor.stop();
    figures.writeFailures = writer.failures.map((f) => ({ ...f, afterStartMs: f.t - t0 }));
    figures.timeline = lab
      .allEvents()
      .filter((e) => e.t >= t0 && ['going-down', 'leader-moved', 'caught-up', 'completed'].includes(e.event))
      .map((e) => `${e.t - t0} ${e.node} ${e.event}`);
    figures.run = { seconds, availability, writes: writer.ok + writer.failed, maxWorkersDown: monitor.maxWorkersDown };

    expect(monitor.maxMembersDown).toBe(1);
    expect(monitor.maxWorkersDown).toBe(2);
    expect([...monitor.seenDown()].sort()).toEqual([...ALL].sort());
    // No outage: at most 10 failed writes in any second (an outage fails ~100), and 97% of all writes pass even when
    // CI's load starves the writer (0.98 was seen with 11 scattered deadline misses at load 14).
    expect(worstSecond(writer.failures)).toBeLessThanOrEqual(10);
    expect(availability).toBeGreaterThanOrEqual(0.97);
    const events = lab.allEvents().filter((e) => e.t >= t0);
    const runs = MEMBERS.map((n) => ({
      n,
      down: events.find((e) => e.node === n && e.event === 'going-down')!.t,
      caughtUp: events.filter((e) => e.node === n && e.event === 'caught-up').at(-1)!.t,
    })).sort((a, b) => a.down - b.down);
    for (let i = 1; i < runs.length; i++) expect(runs[i]!.down).toBeGreaterThan(runs[i - 1]!.caughtUp);
    const slots = new Set(
      events.filter((e) => e.event === 'lock-acquired' && WORKERS.includes(e.node)).map((e) => e.slot),
    );
    expect([...slots].sort()).toEqual(['worker-0', 'worker-1']);
    for (const n of ALL) expect(existsSync(lab.sentinel(n))).toBe(false);
    const status = json<{ locks: unknown[]; nodes: Array<{ name: string; reboots: number }> }>(
      await lifeboat(['-c', lab.config, '--json', 'maintain', 'status']),
    );
    expect(status.locks).toEqual([]);
    expect(status.nodes.map((n) => [n.name, n.reboots])).toEqual(ALL.map((n) => [n, 1]));
  }, 300_000);
});
