import { listNames } from '../text.js';
import type { MemberRef, PlanStep, StepAction } from './types.js';

/** Step lists of each plan, their titles, and how long they take. Pure. */

/** Kubernetes' advice for a restore on etcd >= 3.5: jump revisions far past anything an informer has seen. */
export const BUMP_REVISION = 1_000_000_000;

/** etcdctl prints member ids in hex; the API gives decimal strings (uint64). */
export function hexId(id: string): string {
  try {
    return BigInt(id).toString(16);
  } catch {
    return id;
  }
}

export function initialClusterOf(members: Array<Pick<MemberRef, 'name' | 'peerUrl'>>): string {
  return members.map((m) => `${m.name}=${m.peerUrl}`).join(',');
}

function titleOf(a: StepAction): string {
  switch (a.kind) {
    case 'ensure-stopped':
      return `Make sure ${listNames(a.members)} ${a.members.length === 1 ? 'is' : 'are'} stopped and stay stopped (an old member that comes back would fight the rebuilt cluster)`;
    case 'start':
      return a.dataKnown
        ? `Start ${a.member} with its existing data dir (do not wipe it)`
        : `Start ${a.member} with its existing data dir if its disk survived (unknown from here; if it is gone, plan replace: lifeboat recover --lost ${a.member})`;
    case 'wait-healthy':
      return `Wait until a leader is elected and ${listNames(a.members)} answer`;
    case 'wait-caught-up':
      return `Wait until ${a.member}'s applied raft index has caught up with the leader's`;
    case 'force-new-cluster':
      return `Stop ${a.member}, copy its data dir aside, start it once with --force-new-cluster: a one-member cluster with all its data`;
    case 'wait-writable':
      return `Confirm ${a.member} accepts writes`;
    case 'restart-normal':
      return `Restart ${a.member} without --force-new-cluster (a later restart with it would drop re-added members)`;
    case 'remove-member':
      return `Remove ${a.member}'s stale member entry (id ${hexId(a.memberId)}) through ${a.via}`;
    case 'add-member':
      return `Add ${a.member} back as a learner: etcdctl member add ${a.member} --learner --peer-urls=${a.peerUrl}`;
    case 'wipe':
      return `Wipe ${a.member}'s data dir once it is added (it must join empty; runbooks move it aside)`;
    case 'join':
      return `Start ${a.member} with --initial-cluster-state=existing --initial-cluster=${a.initialCluster}`;
    case 'promote':
      return `Promote ${a.member} to a voting member (etcd accepts once it is in sync)`;
    case 'restore':
      return `Restore ${a.file} into ${a.member}'s data dir with cluster token ${a.token}${a.bumpRevision ? ` (--bump-revision ${a.bumpRevision} --mark-compacted)` : ''}`;
    case 'start-all':
      return `Start ${listNames(a.members)} together`;
  }
}

function targetOf(a: StepAction): string {
  return 'member' in a ? a.member : a.members.length === 1 ? a.members[0]! : 'all';
}

/** Steps a member's own machine carries out; the others are cluster API calls or waits, made from the coordinator. */
const ON_MEMBER = new Set<StepAction['kind']>([
  'start',
  'force-new-cluster',
  'wait-writable',
  'restart-normal',
  'wipe',
  'join',
  'restore',
]);

/** Numbers the actions: ids, short names, titles, and the node each runs on. */
export function numberSteps(actions: StepAction[], coordinator: string): PlanStep[] {
  return actions.map((a, i) => {
    const target = targetOf(a);
    const node = ON_MEMBER.has(a.kind) && 'member' in a ? a.member : coordinator;
    return { ...a, id: `${i + 1}:${a.kind}:${target}`, name: `${a.kind} ${target}`, title: titleOf(a), node };
  });
}

/**
 * Re-add one member through the running cluster: remove the stale entry, add it as a learner (a learner does not
 * vote, so the cluster keeps its quorum while the new member copies the data), wipe, start it with the exact
 * membership, wait until it has caught up, promote. One at a time: etcd allows one learner, and refuses a member add
 * until every voting member has been connected for 5 s (the add step waits that out).
 */
export function reAddActions(member: MemberRef, via: string, membersAfterAdd: MemberRef[]): StepAction[] {
  return [
    ...(member.id ? [{ kind: 'remove-member' as const, member: member.name, memberId: member.id, via }] : []),
    { kind: 'add-member', member: member.name, peerUrl: member.peerUrl, oldId: member.id, via },
    { kind: 'wipe', member: member.name, via },
    { kind: 'join', member: member.name, initialCluster: initialClusterOf(membersAfterAdd), via },
    { kind: 'wait-caught-up', member: member.name, via },
    { kind: 'promote', member: member.name, peerUrl: member.peerUrl, via },
  ];
}

/** Seconds each kind of step usually takes on a small cluster, plus data copies at a modest disk speed. */
const STEP_SECONDS: Record<StepAction['kind'], number> = {
  'ensure-stopped': 2,
  start: 2,
  'wait-healthy': 2,
  'wait-caught-up': 1,
  'force-new-cluster': 4,
  'wait-writable': 0.5,
  'restart-normal': 3,
  'remove-member': 0.2,
  'add-member': 0.2,
  wipe: 0.2,
  join: 2,
  promote: 1,
  restore: 1,
  'start-all': 3,
};
const COPY_BYTES_PER_SECOND = 100 * 1024 * 1024;

export function estimateSeconds(steps: StepAction[], dbBytes: number | null): number {
  const copy = (dbBytes ?? 0) / COPY_BYTES_PER_SECOND;
  let total = 0;
  for (const s of steps) {
    total += STEP_SECONDS[s.kind];
    // Data moves: the survivor's copy, each new member's snapshot transfer, each restore.
    if (s.kind === 'force-new-cluster' || s.kind === 'wait-caught-up' || s.kind === 'restore') total += copy;
  }
  return Math.max(1, Math.round(total));
}
