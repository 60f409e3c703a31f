import { formatDuration } from '../../domain/duration.js';
import type { SlotLock } from '../../domain/maintenance/lock-view.js';
import { describeReasons, scheduleDue, type WantReason, wantReasons } from '../../domain/maintenance/policy.js';
import {
  type BackupFreshness,
  localRefusals,
  type PrecheckResult,
  precheck,
  type Refusal,
  summarizeRefusals,
} from '../../domain/maintenance/prechecks.js';
import type { NodeRecord } from '../../domain/maintenance/records.js';
import type { AgentSettings } from '../../domain/maintenance/settings.js';
import { errorMessage } from '../../errors.js';
import { Maintenance, type MaintenanceLoop, type MaintenancePorts } from './maintenance.js';

/** The agent's ports (lock, drain, host, reboot, cluster, records: maintenance.ts) plus what only the loop needs. */
export interface AgentDeps extends MaintenancePorts {
  backup: () => Promise<BackupFreshness>;
  now?: () => number;
}

/**
 * One node's maintenance daemon. Each tick: finish our own unfinished maintenance if there is one; otherwise, when
 * the node wants a reboot and nothing refuses it, hand over to a `Maintenance` (maintenance.ts), which takes the
 * lock, checks again under it, and goes.
 */
export class Agent implements MaintenanceLoop {
  readonly s: AgentSettings;
  readonly maintenance: Maintenance;
  private stopping = false;
  private wake: (() => void) | undefined;
  private lastReport = { text: '', at: 0 };
  private backupCache: { at: number; value: BackupFreshness } | undefined;
  private backoffTicks = 0;

  constructor(readonly deps: AgentDeps) {
    this.s = deps.settings;
    this.maintenance = new Maintenance(deps, this);
  }

  now(): number {
    return (this.deps.now ?? Date.now)();
  }

  get stopped(): boolean {
    return this.stopping;
  }

  async run(opts: { once?: boolean } = {}): Promise<void> {
    const { s } = this;
    this.deps.log.info('start', `agent for ${s.node} (${s.kind}${s.member ? ` ${s.member}` : ''})`, {
      kind: s.kind,
      dryRun: s.dryRun,
      pollMs: s.pollMs,
      settleMs: s.settleMs,
      ttlMs: s.ttlMs,
      sentinel: s.sentinel,
      reboot: this.deps.rebooter.description,
    });
    while (!this.stopping) {
      try {
        await this.tick();
      } catch (err) {
        this.deps.metrics.countFailure('error');
        this.deps.log.changed('error', 'error', 'error', errorMessage(err));
      }
      if (opts.once) break;
      // Jitter keeps agents started together from polling in lockstep; a refusal under the lock waits longer,
      // so the other agents get their turn with it.
      const extra = this.backoffTicks > 0 ? s.pollMs * (1 + Math.random()) : 0;
      this.backoffTicks = 0;
      await this.sleep(s.pollMs * (0.8 + 0.4 * Math.random()) + extra);
    }
    await this.shutdown();
  }

  stop(): void {
    this.stopping = true;
    this.wake?.();
  }

  /** Sleeps, but wakes at once when the agent is told to stop. */
  sleep(ms: number): Promise<void> {
    if (this.stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }

  private async tick(): Promise<void> {
    const { records, log, metrics } = this.deps;
    const s = this.s;
    const record = await records.node(s.node);
    if (record.phase === 'rebooting') {
      if (s.dryRun) {
        log.changed('state', 'info', 'dry-run', `unfinished maintenance since ${record.downAt}; would finish it`);
        return;
      }
      await this.maintenance.finish(record);
      return;
    }
    const slots = await Promise.all(this.deps.locks.map(async (l) => ({ lock: l, status: await l.status() })));
    for (const { lock, status } of slots) metrics.setLockHolder(lock.name, status.held ? status.holder : undefined);
    const stale = slots.find(({ status }) => status.held && status.holder === s.node);
    if (stale && !s.dryRun) await this.releaseStale(stale.lock, stale.status.reason ?? '');
    const wants = await this.wants(record);
    metrics.setWanted(wants.length > 0);
    if (wants.length === 0) {
      log.forget();
      await this.report('idle', wants, []);
      return;
    }
    const local = localRefusals({ now: this.now(), paused: await records.pause(), ...this.windowOf() });
    if (local.length) return this.refuse(wants, local);
    const others = slots.filter(({ status }) => status.held && status.holder !== s.node);
    if (others.length >= slots.length) {
      const { lock, status } = others[0]!;
      const text = `wants maintenance (${describeReasons(wants)}); lock ${lock.name} is held by ${status.holder} (${status.reason})`;
      log.changed(`wait-${status.holder}`, 'info', 'waiting', text, { wants, holder: status.holder });
      await this.report('waiting-for-lock', wants, []);
      return;
    }
    if (s.dryRun) {
      const pre = await this.check();
      if (!pre.ok) return this.refuse(wants, pre.refusals);
      return this.dryRun(
        wants,
        pre,
        others.map((o) => o.lock.name),
      );
    }
    await this.maintenance.run(wants);
  }

  private windowOf(): { window?: AgentSettings['window'] } {
    return this.s.window ? { window: this.s.window } : {};
  }

  async wants(record?: NodeRecord): Promise<WantReason[]> {
    const s = this.s;
    const current = record ?? (await this.deps.records.node(s.node));
    const request = await this.deps.records.request(s.node);
    const last = current.lastCompletedAt ? Date.parse(current.lastCompletedAt) : undefined;
    return wantReasons({
      ...(await this.deps.host.rebootWanted()),
      requested: request !== undefined,
      scheduleDue: scheduleDue({ everyMs: s.everyMs, window: s.window, lastCompletedAt: last, now: this.now() }),
    });
  }

  /** Pre-checks on a fresh probe round (etcd members), plus the backup requirement. */
  async check(): Promise<PrecheckResult> {
    const s = this.s;
    const etcd = s.kind === 'etcd-member';
    const probes = etcd ? await this.deps.cluster.probe() : undefined;
    const backup = etcd && s.policy.requireVerifiedBackupWithinMs !== undefined ? await this.backup() : undefined;
    return precheck({
      now: this.now(),
      kind: s.kind,
      ...(s.member ? { member: s.member } : {}),
      ...(probes ? { probes } : {}),
      ...(backup ? { backup } : {}),
      policy: s.policy,
    });
  }

  /** Reading a store's catalog is not free (S3 round trips): once a minute is fresh enough. */
  private async backup(): Promise<BackupFreshness> {
    const t = this.now();
    if (!this.backupCache || t - this.backupCache.at > 60_000) {
      this.backupCache = { at: t, value: await this.deps.backup() };
    }
    return this.backupCache.value;
  }

  /** Wait a little longer before the next attempt (after a refusal under the lock). */
  backoff(): void {
    this.backoffTicks = 1;
  }

  async refuse(wants: WantReason[], refusals: Refusal[]): Promise<void> {
    this.deps.metrics.countRefusals(refusals.map((r) => r.code));
    const text = `wants maintenance (${describeReasons(wants)}) but may not go down: ${summarizeRefusals(refusals)}`;
    this.deps.log.changed('state', 'info', 'refused', text, { wants, codes: refusals.map((r) => r.code) });
    await this.report('refused', wants, refusals);
  }

  private async dryRun(wants: WantReason[], pre: PrecheckResult, taken: string[]): Promise<void> {
    const slot = this.deps.locks.find((l) => !taken.includes(l.name))!.name;
    const steps = [`take lock ${slot}`];
    if (pre.leaderMove) steps.push(`move leadership from ${pre.leaderMove.fromName} to ${pre.leaderMove.toName}`);
    steps.push(
      `drain (${this.deps.drainer.description})`,
      `reboot (${this.deps.rebooter.description})`,
      this.s.kind === 'etcd-member' ? 'wait until the member is back and caught up' : 'wait until the node is back',
      `settle ${formatDuration(this.s.settleMs)}`,
      'uncordon, release the lock, clear the sentinel',
    );
    const text = `wants maintenance (${describeReasons(wants)}); pre-checks pass; would ${steps.join(', then ')}`;
    this.deps.log.changed('state', 'info', 'dry-run', text, { wants, steps });
    await this.report('dry-run-ready', wants, []);
  }

  /** Publishes what this agent sees (for `maintain status`); at most every 15 s unless it changed. */
  async report(state: string, wants: WantReason[], refusals: Refusal[]): Promise<void> {
    const text = JSON.stringify([state, wants, refusals.map((r) => r.code)]);
    const t = this.now();
    if (text === this.lastReport.text && t - this.lastReport.at < 15_000) return;
    this.lastReport = { text, at: t };
    const report = {
      node: this.s.node,
      seenAt: new Date(t).toISOString(),
      state,
      dryRun: this.s.dryRun,
      wants,
      refusals: refusals.map(({ code, message }) => ({ code, message })),
      counters: this.deps.metrics.snapshot(),
      pollMs: this.s.pollMs,
    };
    await this.deps.records.putReport(report).catch(() => {});
  }

  /** The lock names us but our node record says we never went down: an earlier run died before the reboot. */
  private async releaseStale(lock: SlotLock, reason: string): Promise<void> {
    const r = await lock.tryAcquire(this.s.node, reason, this.s.ttlMs);
    if (!r.acquired) return;
    await lock.release();
    this.deps.log.info('stale-lock', `released lock ${lock.name}, left by an earlier run that never went down`);
  }

  /** Before the node went down, a stopping agent frees the lock; after, the lock must outlive this process. */
  private async shutdown(): Promise<void> {
    await this.maintenance.stop();
    const phase = this.maintenance.phase;
    this.deps.log.info('stop', `agent stopped (phase ${phase})`, { counters: this.deps.metrics.snapshot() });
  }
}
