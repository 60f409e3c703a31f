import { LockKeeper } from '../../adapters/agent/lock-keeper.js';
import type { AgentLog } from '../../adapters/agent/log.js';
import type { MaintenanceRecords } from '../../adapters/agent/state.js';
import { formatDuration } from '../../domain/duration.js';
import { DrainRefusal, type NodeDrainer } from '../../domain/maintenance/drain-port.js';
import type { SlotLock } from '../../domain/maintenance/lock-view.js';
import type { MaintenanceMetrics } from '../../domain/maintenance/metrics.js';
import { describeReasons, type WantReason } from '../../domain/maintenance/policy.js';
import type { ClusterPort, HostPort, Rebooter } from '../../domain/maintenance/ports.js';
import type { PrecheckResult, Refusal } from '../../domain/maintenance/prechecks.js';
import type { NodeRecord } from '../../domain/maintenance/records.js';
import { type CatchUpStage, type CatchUpState, catchUpStep } from '../../domain/maintenance/recovery.js';
import type { AgentSettings } from '../../domain/maintenance/settings.js';
import { errorMessage } from '../../errors.js';

/**
 * One maintenance, from the lock to its release. Going down: checks again under the lock, moves leadership away,
 * drains, records the unfinished maintenance, reboots. Coming back (same process in the lab, the next agent after a
 * real boot): waits until the member is back and caught up, settles, uncordons, clears, releases.
 *
 * It owns the phase and the lock it holds, and reaches the world only through narrow ports (lock, drain, host,
 * reboot, cluster, records): the agent loop (agent.ts) decides when a maintenance starts and hands it these.
 */

export type Phase = 'idle' | 'acquired' | 'draining' | 'rebooting' | 'recovering';

/** What a maintenance goes through. */
export interface MaintenancePorts {
  settings: AgentSettings;
  /** The lock slots this node may take (one for etcd members; maxConcurrentWorkers for workers). */
  locks: SlotLock[];
  drainer: NodeDrainer;
  host: HostPort;
  rebooter: Rebooter;
  cluster: ClusterPort;
  records: MaintenanceRecords;
  log: AgentLog;
  metrics: MaintenanceMetrics;
}

/** What a maintenance asks of the loop that runs it: its clock and sleep, the pre-checks, how a refusal is told. */
export interface MaintenanceLoop {
  now(): number;
  /** Sleeps, but wakes at once when the agent is told to stop. */
  sleep(ms: number): Promise<void>;
  readonly stopped: boolean;
  check(): Promise<PrecheckResult>;
  wants(): Promise<WantReason[]>;
  refuse(wants: WantReason[], refusals: Refusal[]): Promise<void>;
  /** Wait longer before the next attempt (after a refusal under the lock). */
  backoff(): void;
}

const EVENT_OF: Record<CatchUpStage, string> = {
  waiting: 'waiting-member',
  'catching-up': 'catching-up',
  settling: 'caught-up',
  done: 'settled',
};

export class Maintenance {
  phase: Phase = 'idle';
  /** The lock held, renewed with the phase; lost = never go down. */
  readonly keeper: LockKeeper;
  private readonly s: AgentSettings;

  constructor(
    private readonly ports: MaintenancePorts,
    private readonly loop: MaintenanceLoop,
  ) {
    this.s = ports.settings;
    this.keeper = new LockKeeper(ports.log, ports.settings.ttlMs, () => this.phase);
  }

  /** Stopping: before the node went down the lock is freed and the node uncordoned; after, the lock outlives us. */
  async stop(): Promise<void> {
    this.keeper.stop();
    if (this.keeper.lock && (this.phase === 'acquired' || this.phase === 'draining')) {
      await this.keeper.release();
      await this.ports.drainer.uncordon(this.s.node).catch(() => {});
    }
  }

  private async acquire(reason: string): Promise<SlotLock | undefined> {
    for (const lock of this.ports.locks) {
      const r = await lock.tryAcquire(this.s.node, reason, this.s.ttlMs);
      if (r.acquired) {
        this.keeper.hold(lock, r.fencingToken);
        return lock;
      }
    }
    return undefined;
  }

  /** Takes the lock, checks again under it, and takes the node down; then `finish`. */
  async run(wants: WantReason[]): Promise<void> {
    const { log, metrics, records, drainer, rebooter, cluster } = this.ports;
    const s = this.s;
    const reason = describeReasons(wants);
    // The lock first, then the pre-checks under it: waiting agents only read the lock, and exactly one at a time
    // probes the cluster, so a crowd of agents adds no load while a member is down.
    const lock = await this.acquire(reason);
    if (!lock) {
      log.changed('state', 'info', 'waiting', 'another node took the lock first');
      return;
    }
    this.phase = 'acquired';
    try {
      for (let attempt = 0; ; attempt++) {
        const pre = await this.loop.check();
        if (!pre.ok) {
          await this.release();
          await this.loop.refuse(wants, pre.refusals);
          this.loop.backoff();
          return;
        }
        for (const w of pre.warnings) log.changed(`warn-${w.code}`, 'warn', 'warning', w.message, { code: w.code });
        if (attempt === 0) {
          log.forget();
          log.info(
            'lock-acquired',
            `took lock ${lock.name} (fencing token ${this.keeper.token}); pre-checks pass: ${reason}`,
            {
              slot: lock.name,
              fencingToken: this.keeper.token,
              wants,
            },
          );
        }
        if (!pre.leaderMove) break;
        if (attempt >= 3) throw new Error(`${s.member} still leads after ${attempt} leadership moves`);
        const { fromName, toName } = pre.leaderMove;
        log.info('leader-move', `${fromName} leads; moving leadership to ${toName} first`);
        await cluster.moveLeader(pre.leaderMove);
        log.info('leader-moved', `leadership moved from ${fromName}`);
      }
      const [still, paused] = await Promise.all([this.loop.wants(), records.pause()]);
      if (still.length === 0 || paused) {
        log.info('cancelled', paused ? 'maintenance was paused meanwhile' : 'no longer wanted (request cancelled?)');
        return void (await this.release('cancelled'));
      }
      this.phase = 'draining';
      if (this.keeper.lost || !(await lock.renew({ phase: 'draining' })))
        throw new Error('lost the lock before draining');
      try {
        await drainer.drain(s.node);
      } catch (err) {
        if (!(err instanceof DrainRefusal)) throw err;
        // The drainer made the node schedulable again (so no second uncordon); nothing went down. Give the lock back,
        // say why, wait longer before the next attempt.
        this.phase = 'acquired';
        await this.release();
        await this.loop.refuse(wants, [{ code: 'drain-refused', message: err.message }]);
        this.loop.backoff();
        return;
      }
      const before = await records.node(s.node);
      const downAt = this.loop.now();
      const record: NodeRecord = {
        ...before,
        phase: 'rebooting',
        reasons: wants,
        downAt: new Date(downAt).toISOString(),
        slot: lock.name,
        ...(this.keeper.token !== undefined ? { fencingToken: this.keeper.token } : {}),
        bootId: rebooter.bootId(),
      };
      await records.putNode(record);
      if (this.keeper.lost || !(await lock.renew({ phase: 'rebooting' }))) {
        await records.putNode(before);
        throw new Error('lost the lock just before going down; not rebooting');
      }
      this.phase = 'rebooting';
      log.info('going-down', `${s.node} goes down now: ${rebooter.description}`, { slot: lock.name, wants });
      let outcome: 'returned' | 'pending' = 'returned';
      try {
        outcome = await rebooter.reboot();
      } catch (err) {
        metrics.countFailure('reboot');
        log.error('reboot-failed', errorMessage(err));
      }
      if (outcome === 'pending') {
        // The machine is going down and takes this process with it; if it is still here after this long, it did not.
        await this.loop.sleep(10 * 60_000);
        if (this.loop.stopped) return;
      }
      await this.finish(record);
    } catch (err) {
      if (this.phase === 'acquired' || this.phase === 'draining') {
        await this.release('failed');
        this.phase = 'idle';
      }
      throw err;
    }
  }

  /** Gives the lock back before the node went down; `why` is logged (a refusal is logged by the caller). */
  private async release(why?: string): Promise<void> {
    if (this.phase === 'draining') await this.ports.drainer.uncordon(this.s.node).catch(() => {});
    const released = await this.keeper.release();
    this.phase = 'idle';
    if (why) this.ports.log.info('released', `lock released (${why})${released ? '' : '; it had already expired'}`);
  }

  /** The way back: also what the agent does first when it starts and finds its node record still `rebooting`. */
  async finish(record: NodeRecord): Promise<void> {
    const { log, metrics, records, drainer, rebooter, locks, host } = this.ports;
    const s = this.s;
    this.phase = 'recovering';
    if (!this.keeper.lock) {
      const lock = locks.find((l) => l.name === record.slot) ?? locks[0]!;
      const r = await lock.tryAcquire(s.node, 'finishing maintenance', s.ttlMs);
      if (r.acquired) this.keeper.hold(lock, r.fencingToken);
      log.info('recovering', `${s.node} went down at ${record.downAt}; finishing its maintenance`, {
        lock: r.acquired ? lock.name : null,
        holder: r.holder ?? null,
      });
    }
    const back = s.kind === 'etcd-member' ? await this.waitCaughtUp() : await this.settleWorker();
    if (!back) return; // stopping: the next start picks it up again
    const downAt = Date.parse(record.downAt ?? '') || this.loop.now();
    const rebooted = rebooter.bootId() !== record.bootId;
    await drainer.uncordon(s.node);
    const done: NodeRecord = {
      node: s.node,
      phase: 'idle',
      reboots: record.reboots + (rebooted ? 1 : 0),
      ...(rebooted
        ? {
            lastCompletedAt: new Date(this.loop.now()).toISOString(),
            ...(record.reasons ? { lastReasons: record.reasons } : {}),
          }
        : {
            ...(record.lastCompletedAt ? { lastCompletedAt: record.lastCompletedAt } : {}),
            ...(record.lastReasons ? { lastReasons: record.lastReasons } : {}),
          }),
    };
    if (rebooted) {
      host.clearSentinel(downAt);
      await records.deleteRequest(s.node, downAt);
      metrics.countReboot();
    } else {
      metrics.countFailure('not-rebooted');
      log.warn('not-rebooted', `${s.node} did not go down (same boot): the reboot did not take effect; will try again`);
    }
    await records.putNode(done);
    const released = await this.keeper.release();
    this.phase = 'idle';
    const seconds = Math.round((this.loop.now() - downAt) / 100) / 10;
    log.info('completed', `maintenance of ${s.node} complete after ${seconds}s${released ? '; lock released' : ''}`, {
      seconds,
      rebooted,
      released,
      reasons: record.reasons ?? [],
    });
  }

  private async waitCaughtUp(): Promise<boolean> {
    const { log, cluster } = this.ports;
    const s = this.s;
    let state: CatchUpState = {};
    let stage: CatchUpStage | undefined;
    while (!this.loop.stopped) {
      const v = catchUpStep(state, {
        member: s.member!,
        probes: await cluster.probe(),
        now: this.loop.now(),
        maxRaftLag: s.policy.maxRaftLag,
        settleMs: s.settleMs,
      });
      state = v.state;
      if (v.stage !== stage) {
        // No settle period: caught up and settled in the same round; say both.
        if (v.stage === 'done' && stage !== 'settling')
          log.info('caught-up', v.message, { appliedIndex: v.appliedIndex });
        stage = v.stage;
        log.info(EVENT_OF[v.stage], v.message, v.appliedIndex !== undefined ? { appliedIndex: v.appliedIndex } : {});
      }
      if (v.stage === 'done') return true;
      await this.loop.sleep(Math.min(s.pollMs, 500));
    }
    return false;
  }

  private async settleWorker(): Promise<boolean> {
    this.ports.log.info('back', `${this.s.node} is back; settling ${formatDuration(this.s.settleMs)}`);
    await this.loop.sleep(this.s.settleMs);
    if (this.loop.stopped) return false;
    this.ports.log.info('settled', `${this.s.node} settled`);
    return true;
  }
}
