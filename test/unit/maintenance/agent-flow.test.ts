import { afterEach, describe, expect, it } from 'vitest';
import { createAgentLog } from '../../../src/adapters/agent/log.js';
import { MaintenanceRecords } from '../../../src/adapters/agent/state.js';
import type { KvEntry } from '../../../src/adapters/lock/etcd-kv.js';
import { Agent } from '../../../src/app/agent/agent.js';
import type { LockAcquisition, LockStatus } from '../../../src/domain/lock.js';
import { DrainRefusal, NO_DRAIN, type NodeDrainer } from '../../../src/domain/maintenance/drain-port.js';
import type { LockUpdate, SlotLock } from '../../../src/domain/maintenance/lock-view.js';
import { MaintenanceMetrics } from '../../../src/domain/maintenance/metrics.js';
import type { HostPort, Rebooter } from '../../../src/domain/maintenance/ports.js';
import { KEYS } from '../../../src/domain/maintenance/records.js';
import { agentSettings } from '../../../src/domain/maintenance/settings.js';
import type { EndpointProbe } from '../../../src/domain/probe.js';
import { probes } from './fixtures.js';

/**
 * The agent's flow through its ports, each an in-memory fake (etcd's key space, the lock, the host's sentinel, the
 * reboot, the cluster's probes): the paths integration can't force.
 */

class MemoryKv {
  readonly data = new Map<string, string>();
  async get(key: string): Promise<KvEntry | undefined> {
    const value = this.data.get(key);
    return value === undefined ? undefined : { key, value, createRevision: 1, modRevision: 1, lease: '0' };
  }
  async range(prefix: string): Promise<KvEntry[]> {
    return [...this.data]
      .filter(([k]) => k.startsWith(prefix))
      .map(([key, value]) => ({ key, value, createRevision: 1, modRevision: 1, lease: '0' }));
  }
  async put(key: string, value: string): Promise<number> {
    this.data.set(key, value);
    return 1;
  }
  async delete(key: string): Promise<number> {
    return this.data.delete(key) ? 1 : 0;
  }
}

class FakeLock implements SlotLock {
  holder: string | undefined;
  token = 0;
  renewals: LockUpdate[] = [];
  loseOnRenew = false;
  constructor(readonly name: string) {}
  async tryAcquire(holder: string, reason: string): Promise<LockAcquisition> {
    if (this.holder && this.holder !== holder) return { acquired: false, holder: this.holder };
    if (!this.holder) this.token++;
    this.holder = holder;
    return { acquired: true, fencingToken: this.token, holder, reason };
  }
  async renew(update: LockUpdate = {}): Promise<boolean> {
    this.renewals.push(update);
    if (this.loseOnRenew) this.holder = 'someone-else';
    return this.holder !== 'someone-else';
  }
  async release(): Promise<void> {
    if (this.holder !== 'someone-else') this.holder = undefined;
  }
  async status(): Promise<LockStatus> {
    return this.holder
      ? { held: true, holder: this.holder, fencingToken: this.token, expired: false, mine: this.holder === 'cp2' }
      : { held: false, expired: false, mine: false };
  }
}

class FakeRebooter implements Rebooter {
  readonly description = 'fake reboot';
  boots = 0;
  reboots = 0;
  constructor(private readonly really = true) {}
  bootId(): string {
    return `boot-${this.boots}`;
  }
  async reboot(): Promise<'returned'> {
    this.reboots++;
    if (this.really) this.boots++;
    return 'returned';
  }
}

/** The machine: a sentinel that is there or not, and when it was cleared. */
class FakeHost implements HostPort {
  sentinel = false;
  sentinelCommand: boolean | undefined;
  cleared: number[] = [];
  async rebootWanted() {
    return {
      sentinel: this.sentinel,
      ...(this.sentinelCommand !== undefined ? { sentinelCommand: this.sentinelCommand } : {}),
    };
  }
  clearSentinel(downAt: number): void {
    this.sentinel = false;
    this.cleared.push(downAt);
  }
}

const agents: Agent[] = [];
afterEach(() => {
  for (const a of agents) a.stop();
});

function setup(opts: { probes?: () => EndpointProbe[]; really?: boolean; drainer?: NodeDrainer } = {}) {
  const kv = new MemoryKv();
  const lock = new FakeLock('etcd-member');
  const rebooter = new FakeRebooter(opts.really ?? true);
  const lines: Array<Record<string, unknown>> = [];
  const settings = agentSettings(undefined, {
    node: 'cp2',
    poll: '50ms',
    settle: '0s',
    ttl: '10s',
  });
  const host = new FakeHost();
  const agent = new Agent({
    settings,
    records: new MaintenanceRecords(kv),
    locks: [lock],
    cluster: {
      probe: async () => (opts.probes ?? (() => probes(3)))(),
      moveLeader: async () => '303',
    },
    host,
    rebooter,
    drainer: opts.drainer ?? NO_DRAIN,
    backup: async () => ({}),
    log: createAgentLog({ node: 'cp2', json: true, write: (l) => lines.push(JSON.parse(l)) }),
    metrics: new MaintenanceMetrics('cp2'),
  });
  agents.push(agent);
  const request = () =>
    kv.put(KEYS.request('cp2'), JSON.stringify({ node: 'cp2', by: 't', at: '2000-01-01T00:00:00Z' }));
  const events = () => lines.map((l) => l.event);
  return { kv, lock, rebooter, host, agent, request, events, lines };
}

describe('agent flow', () => {
  it('a request: lock, pre-checks, going down, catch-up, record, release; the request is cleared', async () => {
    const t = setup();
    await t.request();
    await t.agent.run({ once: true });
    expect(t.rebooter.reboots).toBe(1);
    expect(t.events()).toEqual(['start', 'lock-acquired', 'going-down', 'caught-up', 'settled', 'completed', 'stop']);
    expect(t.lock.holder).toBeUndefined();
    expect(t.lock.renewals.map((r) => r.phase)).toEqual(['draining', 'rebooting']);
    const record = JSON.parse(t.kv.data.get(KEYS.node('cp2'))!);
    expect(record).toMatchObject({ phase: 'idle', reboots: 1, lastReasons: ['request'] });
    expect(t.kv.data.has(KEYS.request('cp2'))).toBe(false);
  });

  it('the host asks through its sentinel: the node goes down, and the sentinel is cleared once it rebooted', async () => {
    const t = setup();
    t.host.sentinel = true;
    await t.agent.run({ once: true });
    expect(t.rebooter.reboots).toBe(1);
    expect(t.host.cleared).toHaveLength(1);
    expect(t.host.sentinel).toBe(false);
    expect(JSON.parse(t.kv.data.get(KEYS.node('cp2'))!)).toMatchObject({ phase: 'idle', lastReasons: ['sentinel'] });
  });

  it('a sentinel command that says no and no sentinel: nothing is wanted, nothing is locked', async () => {
    const t = setup();
    t.host.sentinelCommand = false;
    await t.agent.run({ once: true });
    expect(t.rebooter.reboots).toBe(0);
    expect(t.lock.holder).toBeUndefined();
    expect(t.events()).toEqual(['start', 'stop']);
  });

  it('refused under the lock: the lock is released, nothing goes down, the refusal is counted', async () => {
    const t = setup({ probes: () => probes(3, { down: [2] }) });
    await t.request();
    await t.agent.run({ once: true });
    expect(t.rebooter.reboots).toBe(0);
    expect(t.lock.holder).toBeUndefined();
    expect(t.lines.find((l) => l.event === 'refused')).toMatchObject({ codes: ['member-down', 'margin'] });
    expect(t.agent.deps.metrics.snapshot()).toMatchObject({ 'refusals.member-down': 1, 'refusals.margin': 1 });
  });

  it('a drain refusal: the lock is released, nothing goes down, the refusal is counted (not an error)', async () => {
    const calls: string[] = [];
    const drainer: NodeDrainer = {
      description: 'fake drain',
      drain: async (node) => {
        calls.push(`drain ${node}`);
        throw new DrainRefusal('cannot drain cp2 within 2s: PodDisruptionBudget web/db allows 0 disruption(s)');
      },
      uncordon: async (node) => void calls.push(`uncordon ${node}`),
    };
    const t = setup({ drainer });
    await t.request();
    await t.agent.run({ once: true });
    expect(t.rebooter.reboots).toBe(0);
    expect(t.lock.holder).toBeUndefined();
    expect(calls).toEqual(['drain cp2']); // the drainer undid its own cordon; no second uncordon
    expect(t.lines.find((l) => l.event === 'refused')).toMatchObject({
      codes: ['drain-refused'],
      msg: expect.stringContaining('PodDisruptionBudget web/db'),
    });
    expect(t.events()).not.toContain('error');
    expect(t.agent.deps.metrics.snapshot()).toMatchObject({ 'refusals.drain-refused': 1 });
    expect(JSON.parse(t.kv.data.get(KEYS.node('cp2')) ?? '{"phase":"idle"}')).toMatchObject({ phase: 'idle' });
  });

  it('the lock lost just before going down: no reboot, the node record stays idle', async () => {
    const t = setup();
    t.lock.loseOnRenew = true;
    await t.request();
    await t.agent.run({ once: true });
    expect(t.rebooter.reboots).toBe(0);
    expect(t.lines.find((l) => l.event === 'error')?.msg).toMatch(/lost the lock/);
    expect(JSON.parse(t.kv.data.get(KEYS.node('cp2')) ?? '{"phase":"idle"}').phase).toBe('idle');
  });

  it('a reboot that did not happen (same boot id): the request stays, the node tries again', async () => {
    const t = setup({ really: false });
    await t.request();
    await t.agent.run({ once: true });
    expect(t.events()).toContain('not-rebooted');
    expect(t.kv.data.has(KEYS.request('cp2'))).toBe(true);
    expect(t.host.cleared).toEqual([]); // still wanted: the ask stays
    expect(JSON.parse(t.kv.data.get(KEYS.node('cp2'))!)).toMatchObject({ phase: 'idle', reboots: 0 });
  });

  it('an agent starting after the boot finds its unfinished maintenance and finishes it', async () => {
    const t = setup();
    t.rebooter.boots = 1;
    const down = {
      node: 'cp2',
      phase: 'rebooting',
      downAt: '2000-01-01T00:00:01Z',
      slot: 'etcd-member',
      bootId: 'boot-0',
      reasons: ['request'],
      reboots: 4,
    };
    await t.kv.put(KEYS.node('cp2'), JSON.stringify(down));
    await t.request();
    t.lock.holder = 'cp2';
    t.lock.token = 7;
    await t.agent.run({ once: true });
    expect(t.rebooter.reboots).toBe(0);
    expect(t.events()).toEqual(['start', 'recovering', 'caught-up', 'settled', 'completed', 'stop']);
    expect(t.lines.find((l) => l.event === 'recovering')).toMatchObject({ lock: 'etcd-member', holder: 'cp2' });
    expect(JSON.parse(t.kv.data.get(KEYS.node('cp2'))!)).toMatchObject({ phase: 'idle', reboots: 5 });
    expect(t.kv.data.has(KEYS.request('cp2'))).toBe(false);
    expect(t.lock.holder).toBeUndefined();
  });

  it('dry run: says what it would do and touches nothing', async () => {
    const t = setup({ probes: () => probes(3, { leader: 1 }) });
    const settings = { ...t.agent.s, dryRun: true };
    Object.assign(t.agent, { s: settings });
    await t.request();
    await t.agent.run({ once: true });
    expect(t.rebooter.reboots).toBe(0);
    expect(t.lock.holder).toBeUndefined();
    expect(t.lines.find((l) => l.event === 'dry-run')?.msg).toMatch(
      /would take lock etcd-member, then move leadership from cp2 to cp1, then drain .* then reboot \(fake reboot\)/,
    );
  });
});
