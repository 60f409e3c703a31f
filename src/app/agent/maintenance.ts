import { clearSentinel } from '../../adapters/agent/local.js';
import { formatDuration } from '../../domain/duration.js';
import { DrainRefusal } from '../../domain/maintenance/drain-port.js';
import { describeReasons, type WantReason } from '../../domain/maintenance/policy.js';
import type { NodeRecord } from '../../domain/maintenance/records.js';
import { type CatchUpStage, type CatchUpState, catchUpStep } from '../../domain/maintenance/recovery.js';
import { errorMessage } from '../../errors.js';
import type { Agent } from './agent.js';

/**
 * One maintenance, from the lock to its release. Going down: checks again under the lock, moves leadership away,
 * drains, records the unfinished maintenance, reboots. Coming back (same process in the lab, the next agent after a
 * real boot): waits until the member is back and caught up, settles, uncordons, clears, releases.
 */

const EVENT_OF: Record<CatchUpStage, string> = {
  waiting: 'waiting-member',
  'catching-up': 'catching-up',
  settling: 'caught-up',
  done: 'settled',
};

export async function runMaintenance(agent: Agent, wants: WantReason[]): Promise<void> {
  const { log, metrics, records, drainer, rebooter, cluster } = agent.deps;
  const s = agent.s;
  const reason = describeReasons(wants);
  // The lock first, then the pre-checks under it: waiting agents only read the lock, and exactly one at a time
  // probes the cluster, so a crowd of agents adds no load while a member is down.
  const lock = await agent.acquire(reason);
  if (!lock) {
    log.changed('state', 'info', 'waiting', 'another node took the lock first');
    return;
  }
  agent.phase = 'acquired';
  try {
    for (let attempt = 0; ; attempt++) {
      const pre = await agent.check();
      if (!pre.ok) {
        await release(agent);
        await agent.refuse(wants, pre.refusals);
        agent.backoff();
        return;
      }
      for (const w of pre.warnings) log.changed(`warn-${w.code}`, 'warn', 'warning', w.message, { code: w.code });
      if (attempt === 0) {
        log.forget();
        log.info('lock-acquired', `took lock ${lock.name} (fencing token ${agent.token}); pre-checks pass: ${reason}`, {
          slot: lock.name,
          fencingToken: agent.token,
          wants,
        });
      }
      if (!pre.leaderMove) break;
      if (attempt >= 3) throw new Error(`${s.member} still leads after ${attempt} leadership moves`);
      const { fromName, toName } = pre.leaderMove;
      log.info('leader-move', `${fromName} leads; moving leadership to ${toName} first`);
      await cluster.moveLeader(pre.leaderMove);
      log.info('leader-moved', `leadership moved from ${fromName}`);
    }
    const [still, paused] = await Promise.all([agent.wants(), records.pause()]);
    if (still.length === 0 || paused) {
      log.info('cancelled', paused ? 'maintenance was paused meanwhile' : 'no longer wanted (request cancelled?)');
      return void (await release(agent, 'cancelled'));
    }
    agent.phase = 'draining';
    if (agent.lost || !(await lock.renew({ phase: 'draining' }))) throw new Error('lost the lock before draining');
    try {
      await drainer.drain(s.node);
    } catch (err) {
      if (!(err instanceof DrainRefusal)) throw err;
      // The drainer made the node schedulable again (so no second uncordon); nothing went down. Give the lock back,
      // say why, wait longer before the next attempt.
      agent.phase = 'acquired';
      await release(agent);
      await agent.refuse(wants, [{ code: 'drain-refused', message: err.message }]);
      agent.backoff();
      return;
    }
    const before = await records.node(s.node);
    const downAt = agent.now();
    const record: NodeRecord = {
      ...before,
      phase: 'rebooting',
      reasons: wants,
      downAt: new Date(downAt).toISOString(),
      slot: lock.name,
      ...(agent.token !== undefined ? { fencingToken: agent.token } : {}),
      bootId: rebooter.bootId(),
    };
    await records.putNode(record);
    if (agent.lost || !(await lock.renew({ phase: 'rebooting' }))) {
      await records.putNode(before);
      throw new Error('lost the lock just before going down; not rebooting');
    }
    agent.phase = 'rebooting';
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
      await agent.sleep(10 * 60_000);
      if (agent.stopped) return;
    }
    await finishMaintenance(agent, record);
  } catch (err) {
    if (agent.phase === 'acquired' || agent.phase === 'draining') {
      await release(agent, 'failed');
      agent.phase = 'idle';
    }
    throw err;
  }
}

/** Gives the lock back before the node went down; `why` is logged (a refusal is logged by the caller). */
async function release(agent: Agent, why?: string): Promise<void> {
  if (agent.phase === 'draining') await agent.deps.drainer.uncordon(agent.s.node).catch(() => {});
  const released = await agent.releaseLock();
  agent.phase = 'idle';
  if (why) agent.deps.log.info('released', `lock released (${why})${released ? '' : '; it had already expired'}`);
}

/** The way back: also what the agent does first when it starts and finds its node record still `rebooting`. */
export async function finishMaintenance(agent: Agent, record: NodeRecord): Promise<void> {
  const { log, metrics, records, drainer, rebooter, locks } = agent.deps;
  const s = agent.s;
  agent.phase = 'recovering';
  if (!agent.held) {
    const lock = locks.find((l) => l.name === record.slot) ?? locks[0]!;
    const r = await lock.tryAcquire(s.node, 'finishing maintenance', s.ttlMs);
    if (r.acquired) agent.startRenewing(lock, r.fencingToken);
    log.info('recovering', `${s.node} went down at ${record.downAt}; finishing its maintenance`, {
      lock: r.acquired ? lock.name : null,
      holder: r.holder ?? null,
    });
  }
  const back = s.kind === 'etcd-member' ? await waitCaughtUp(agent) : await settleWorker(agent);
  if (!back) return; // stopping: the next start picks it up again
  const downAt = Date.parse(record.downAt ?? '') || agent.now();
  const rebooted = rebooter.bootId() !== record.bootId;
  await drainer.uncordon(s.node);
  const done: NodeRecord = {
    node: s.node,
    phase: 'idle',
    reboots: record.reboots + (rebooted ? 1 : 0),
    ...(rebooted
      ? {
          lastCompletedAt: new Date(agent.now()).toISOString(),
          ...(record.reasons ? { lastReasons: record.reasons } : {}),
        }
      : {
          ...(record.lastCompletedAt ? { lastCompletedAt: record.lastCompletedAt } : {}),
          ...(record.lastReasons ? { lastReasons: record.lastReasons } : {}),
        }),
  };
  if (rebooted) {
    clearSentinel(s.sentinel, downAt);
    await records.deleteRequest(s.node, downAt);
    metrics.countReboot();
  } else {
    metrics.countFailure('not-rebooted');
    log.warn('not-rebooted', `${s.node} did not go down (same boot): the reboot did not take effect; will try again`);
  }
  await records.putNode(done);
  const released = await agent.releaseLock();
  agent.phase = 'idle';
  const seconds = Math.round((agent.now() - downAt) / 100) / 10;
  log.info('completed', `maintenance of ${s.node} complete after ${seconds}s${released ? '; lock released' : ''}`, {
    seconds,
    rebooted,
    released,
    reasons: record.reasons ?? [],
  });
}

async function waitCaughtUp(agent: Agent): Promise<boolean> {
  const { log, cluster } = agent.deps;
  const s = agent.s;
  let state: CatchUpState = {};
  let stage: CatchUpStage | undefined;
  while (!agent.stopped) {
    const v = catchUpStep(state, {
      member: s.member!,
      probes: await cluster.probe(),
      now: agent.now(),
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
    await agent.sleep(Math.min(s.pollMs, 500));
  }
  return false;
}

async function settleWorker(agent: Agent): Promise<boolean> {
  agent.deps.log.info('back', `${agent.s.node} is back; settling ${formatDuration(agent.s.settleMs)}`);
  await agent.sleep(agent.s.settleMs);
  if (agent.stopped) return false;
  agent.deps.log.info('settled', `${agent.s.node} settled`);
  return true;
}
