import { diagnose } from '../diagnosis.js';
import { formatDuration } from '../duration.js';
import type { EndpointProbe } from '../probe.js';

/**
 * After the boot: is the member back, caught up, and has it stayed healthy for `settle`? A small state machine fed
 * one probe round at a time; pure, so the rules are tested without etcd.
 *
 * "Caught up" needs a target that does not run away under a steady write load: the leader's raft index when the
 * member was first seen back. Once the member has applied that far (and is within maxRaftLag of the leader), it
 * holds everything committed while it was away. Any unhealthy round during the settle period starts it again.
 */
export interface CatchUpState {
  targetIndex?: number;
  caughtUpAt?: number;
}

export type CatchUpStage = 'waiting' | 'catching-up' | 'settling' | 'done';

export interface CatchUpVerdict {
  stage: CatchUpStage;
  message: string;
  state: CatchUpState;
  appliedIndex?: number;
}

export function catchUpStep(
  state: CatchUpState,
  input: { member: string; probes: EndpointProbe[]; now: number; maxRaftLag: number; settleMs: number },
): CatchUpVerdict {
  const d = diagnose(input.probes, { maxRaftLag: input.maxRaftLag });
  const me = d.members.find((m) => m.name === input.member);
  const reset = { ...state, caughtUpAt: undefined };
  if (!me?.reachable) return { stage: 'waiting', message: `${input.member} is not answering yet`, state: reset };
  const probe = input.probes.find((p) => p.status?.memberId === me.id && !p.error);
  if (probe?.linearizableRead !== true) {
    return { stage: 'waiting', message: `${me.name} answers but cannot serve a linearizable read yet`, state: reset };
  }
  const leader = d.members.find((m) => m.leader);
  if (!leader || leader.raftIndex === null || me.raftIndex === null) {
    return { stage: 'waiting', message: 'no leader reported yet', state: reset };
  }
  const targetIndex = state.targetIndex ?? leader.raftIndex;
  const applied = me.raftAppliedIndex ?? me.raftIndex;
  const behind = leader.raftIndex - me.raftIndex;
  if (applied < targetIndex || behind > input.maxRaftLag) {
    return {
      stage: 'catching-up',
      message: `${me.name} applied ${applied} of ${targetIndex} (leader ${leader.name} at ${leader.raftIndex})`,
      state: { targetIndex, caughtUpAt: undefined },
      appliedIndex: applied,
    };
  }
  const caughtUpAt = state.caughtUpAt ?? input.now;
  const next = { targetIndex, caughtUpAt };
  const settled = input.now - caughtUpAt;
  if (settled >= input.settleMs) {
    return {
      stage: 'done',
      message: `${me.name} caught up (applied ${applied} >= ${targetIndex}) and settled`,
      state: next,
      appliedIndex: applied,
    };
  }
  return {
    stage: 'settling',
    message: `${me.name} caught up at ${applied}; settling ${formatDuration(input.settleMs - settled)} more`,
    state: next,
    appliedIndex: applied,
  };
}
