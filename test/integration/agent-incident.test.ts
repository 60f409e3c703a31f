import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MaintenanceRecords } from '../../src/adapters/agent/state.js';
import { EtcdKv } from '../../src/adapters/lock/etcd-kv.js';
import { listLocks } from '../../src/adapters/lock/etcd-lock.js';
import { waitFor } from '../../src/adapters/proc/wait.js';
import { json } from '../helpers/cli.js';
import { type AgentEvent, AgentLab, lifeboat, Monitor, Writer, worstSecond } from './agent-harness.js';

/**
 * `lifeboat agent` on a real 3-member lab, agents as separate processes. The incident (every node told to reboot at
 * the same instant) replayed; the operator commands; an agent SIGKILLed while holding the lock; a member killed by
 * hand. An independent monitor probes every member every 200 ms; a writer writes every 10 ms.
 */

const NODES = ['cp1', 'cp2', 'cp3'];
const lab = new AgentLab(mkdtempSync(join(tmpdir(), 'lifeboat-agent-')));
const figures: Record<string, unknown> = {};

const cli = (...args: string[]) => lifeboat(['-c', lab.config, ...args]);
/** Runs the CLI and fails with its stderr unless it exits 0. */
async function ok(...args: string[]) {
  const res = await cli(...args);
  expect(res.code, `${args.join(' ')}: ${res.stderr}`).toBe(0);
  return res;
}
const of = (events: AgentEvent[], node: string, event: string) =>
  events.filter((e) => e.node === node && e.event === event);

function startAgents(): void {
  for (const n of NODES) lab.startAgent(n, { LIFEBOAT_LAB_DOWNTIME: '2s-8s' });
}

async function allCompleted(nodes: string[], since: number, timeoutMs = 180_000): Promise<void> {
  await waitFor(
    `${nodes.join(', ')} to complete their maintenance`,
    () => nodes.every((n) => lab.allEvents().some((e) => e.node === n && e.event === 'completed' && e.t >= since)),
    { timeoutMs, intervalMs: 100 },
  );
}

beforeAll(async () => {
  await lab.up(3, [], { settle: '1s', ttl: '10s', pollInterval: '200ms', maxRaftLag: 1000 });
  startAgents();
  await lab.waitStarted(NODES);
}, 150_000);

afterAll(async () => {
  console.log(`agent-incident figures: ${JSON.stringify(figures)}`);
  await lab.destroy();
}, 60_000);

describe.sequential('lifeboat agent on a 3-member lab', () => {
  it('the incident, replayed: every sentinel at once; strictly one at a time, each after the previous caught up', async () => {
    const monitor = new Monitor(lab);
    const writer = new Writer(lab.members.map((m) => m.clientUrl));
    monitor.start();
    writer.start();
    await writer.warmUp();
    const t0 = lab.touchSentinels(NODES);
    await allCompleted(NODES, t0);
    const seconds = (Date.now() - t0) / 1000;
    const availability = await writer.stop();
    await monitor.stop();
    figures.writeFailures = writer.failures.map((f) => ({ ...f, afterStartMs: f.t - t0 }));
    figures.incident = { seconds, availability, writes: writer.ok + writer.failed, failedWrites: writer.failed };

    expect(monitor.maxMembersDown).toBe(1);
    expect([...monitor.seenDown()].sort()).toEqual(NODES);
    // No outage: at most 10 failed writes in any second (an outage fails ~100), and 97% of all writes pass even when
    // CI's load starves the writer (0.98 was seen with 11 scattered deadline misses at load 14).
    expect(worstSecond(writer.failures)).toBeLessThanOrEqual(10);
    expect(availability).toBeGreaterThanOrEqual(0.97);
    const events = lab.allEvents().filter((e) => e.t >= t0);
    const runs = NODES.map((n) => {
      expect(of(events, n, 'going-down')).toHaveLength(1);
      const [done] = of(events, n, 'completed');
      expect(done).toMatchObject({ rebooted: true, released: true, reasons: ['sentinel'] });
      return {
        n,
        down: of(events, n, 'going-down')[0]!.t,
        caughtUp: of(events, n, 'caught-up').at(-1)!.t,
        done: done!.t,
      };
    }).sort((a, b) => a.down - b.down);
    for (let i = 1; i < runs.length; i++) {
      expect(runs[i]!.down, `${runs[i]!.n} went down before ${runs[i - 1]!.n} had caught up`).toBeGreaterThan(
        runs[i - 1]!.caughtUp,
      );
      expect(runs[i]!.down).toBeGreaterThan(runs[i - 1]!.done);
    }
    figures.leaderMoves = events.filter((e) => e.event === 'leader-moved').length;
    for (const n of NODES) expect(existsSync(lab.sentinel(n))).toBe(false);
    const status = json<{ locks: unknown[]; nodes: Array<{ name: string; reboots: number; phase: string }> }>(
      await cli('--json', 'maintain', 'status'),
    );
    expect(status.locks).toEqual([]);
    expect(status.nodes.map((n) => [n.name, n.phase, n.reboots])).toEqual(NODES.map((n) => [n, 'idle', 1]));
  }, 240_000);

  it('operator commands: dry run, pause, request, cancel, resume, status', async () => {
    const extra = join(lab.dir, 'dry-run-sentinel');
    writeFileSync(extra, 'x');
    const dry = await cli('--json', 'agent', '--node', 'cp1', '--dry-run', '--once', '--sentinel', extra);
    expect(dry.code, dry.stderr).toBe(0);
    const line = dry.stdout.split('\n').find((l) => l.includes('"dry-run"'));
    expect(line).toBeDefined();
    expect(JSON.parse(line!).msg).toMatch(
      /pre-checks pass; would take lock etcd-member, .*then reboot \(stop lab member cp1/,
    );
    expect(json<{ locks: unknown[] }>(await cli('--json', 'maintain', 'status')).locks).toEqual([]);

    await ok('maintain', 'pause', '--reason', 'migration');
    const t0 = Date.now();
    await ok('maintain', 'request', 'cp2', '--reason', 'kernel update');
    await lab.waitEvent('cp2 to refuse: paused', (e) => e.node === 'cp2' && e.event === 'refused', 60_000, t0);
    const refused = lab.allEvents().find((e) => e.node === 'cp2' && e.event === 'refused' && e.t >= t0)!;
    expect(refused.codes).toEqual(['paused']);
    const text = (await cli('maintain', 'status')).stdout;
    expect(text).toMatch(/Maintenance is PAUSED by \S+ since \S+: migration/);
    expect(text).toMatch(/Requested: cp2 by \S+ at \S+ \(kernel update\)/);
    const cancel = json<{ cancelled: boolean }>(await cli('--json', 'maintain', 'cancel', 'cp2'));
    expect(cancel.cancelled).toBe(true);
    expect(json<{ requests: unknown[] }>(await cli('--json', 'maintain', 'status')).requests).toEqual([]);
    await ok('maintain', 'request', 'cp2');
    const resumed = Date.now();
    expect((await ok('maintain', 'resume')).stdout).toContain('maintenance resumed');
    await allCompleted(['cp2'], resumed);
    const status = json<{
      requests: unknown[];
      paused: unknown;
      nodes: Array<{ name: string; reboots: number; lastReasons: string[] }>;
    }>(await cli('--json', 'maintain', 'status'));
    expect(status.paused).toBeNull();
    expect(status.requests).toEqual([]);
    expect(status.nodes.find((n) => n.name === 'cp2')).toMatchObject({ reboots: 2, lastReasons: ['request'] });

    expect((await cli('maintain', 'request', 'cp9')).code).toBe(2);
    const unreachable = await lifeboat(['--endpoints', '127.0.0.1:1', 'maintain', 'status']);
    expect(unreachable.code).toBe(3);
    expect(unreachable.stderr).toMatch(/cannot reach etcd with quorum/);
  }, 240_000);

  it('an agent SIGKILLed while holding the lock: nothing else goes down until its TTL expires and its member is back', async () => {
    await ok('maintain', 'resume');
    const monitor = new Monitor(lab);
    const writer = new Writer(lab.members.map((m) => m.clientUrl));
    monitor.start();
    writer.start();
    await writer.warmUp();
    const t0 = lab.touchSentinels(NODES);
    const first = await lab.waitEvent('someone to go down', (e) => e.event === 'going-down', 60_000, t0);
    const victim = first.node;
    await waitFor(`${victim}'s etcd process to be gone`, () => lab.memberProcessGone(victim), {
      timeoutMs: 20_000,
      intervalMs: 20,
    });
    await lab.stopAgent(victim, 'SIGKILL');
    const killedAt = Date.now();
    // Read in-process right away: a CLI start on a loaded machine could outlast the TTL.
    const kv = new EtcdKv(
      lab.members.map((m) => m.clientUrl),
      {},
      3000,
    );
    try {
      expect(await listLocks(kv)).toMatchObject([{ holder: victim, phase: 'rebooting' }]);
      expect((await new MaintenanceRecords(kv).node(victim)).phase).toBe('rebooting');
    } finally {
      kv.close();
    }
    // After the TTL, the others may take the lock, but their pre-checks refuse: the victim's member is down.
    const refusal = await lab.waitEvent(
      'another agent to refuse because a member is down',
      (e) => e.node !== victim && e.event === 'refused' && (e.codes as string[]).includes('member-down'),
      60_000,
      killedAt,
    );
    expect(refusal.t - killedAt).toBeGreaterThanOrEqual(3000);
    expect(monitor.maxMembersDown).toBe(1);
    // The member comes back (its machine booted), then its agent starts again and finishes what it started.
    // No other member may go down before its turn: not before the victim is even being started. (`lab start` returns
    // only after its own health wait, which on etcd 3.5 can end after the agents already saw the member back, so its
    // return time is no bound; the monitor's maxMembersDown = 1 proves the rest.)
    const startingAt = Date.now();
    const start = await lifeboat(['lab', 'start', victim, '--dir', lab.dir]);
    expect(start.code, start.stderr).toBe(0);
    lab.startAgent(victim, { LIFEBOAT_LAB_DOWNTIME: '2s-8s' });
    await allCompleted(NODES, t0);
    const availability = await writer.stop();
    await monitor.stop();
    figures.killedAgent = { seconds: (Date.now() - t0) / 1000, availability, ttlWaitMs: refusal.t - killedAt };

    expect(monitor.maxMembersDown).toBe(1);
    const events = lab.allEvents().filter((e) => e.t >= t0);
    for (const n of NODES.filter((x) => x !== victim)) {
      expect(of(events, n, 'going-down')[0]!.t).toBeGreaterThan(startingAt);
    }
    expect(of(events, victim, 'recovering')).toHaveLength(1);
    expect(of(events, victim, 'completed')[0]).toMatchObject({ rebooted: true });
    for (const n of NODES) expect(existsSync(lab.sentinel(n))).toBe(false);
  }, 240_000);

  it('a member killed by hand blocks every agent until it is back and caught up', async () => {
    const monitor = new Monitor(lab);
    monitor.start();
    const kill = await lifeboat(['lab', 'kill', 'cp2', '--dir', lab.dir]);
    expect(kill.code, kill.stderr).toBe(0);
    const t0 = lab.touchSentinels(['cp1', 'cp3']);
    for (const n of ['cp1', 'cp3']) {
      await lab.waitEvent(
        `${n} to refuse`,
        (e) => e.node === n && e.event === 'refused' && (e.codes as string[]).includes('member-down'),
        60_000,
        t0,
      );
    }
    const samples = monitor.samples.length;
    await waitFor('2 more seconds of monitoring', () => monitor.samples.length >= samples + 10, { timeoutMs: 60_000 });
    expect(lab.allEvents().filter((e) => e.t >= t0 && e.event === 'going-down')).toEqual([]);
    const startingAt = Date.now();
    const start = await lifeboat(['lab', 'start', 'cp2', '--dir', lab.dir]);
    expect(start.code, start.stderr).toBe(0);
    const backAt = Date.now();
    await allCompleted(['cp1', 'cp3'], t0);
    await monitor.stop();
    expect(monitor.maxMembersDown).toBe(1);
    for (const n of ['cp1', 'cp3']) {
      const down = of(lab.allEvents(), n, 'going-down').filter((e) => e.t >= t0);
      expect(down).toHaveLength(1);
      expect(down[0]!.t).toBeGreaterThan(startingAt);
    }
    figures.killedMemberBlockedMs = backAt - t0;
  }, 240_000);
});
