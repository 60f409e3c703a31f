import { quorumOf } from '../quorum.js';
import { listNames } from '../text.js';
import { BUMP_REVISION, estimateSeconds, initialClusterOf, numberSteps, reAddActions } from './steps.js';
import type {
  Blocker,
  Candidate,
  ExecutablePlan,
  MemberRef,
  PlanChoice,
  PlanDecision,
  PlanName,
  RecoverInput,
  RecoverMember,
  RecoveryPlan,
  StepAction,
} from './types.js';
import { PLAN_NAMES } from './types.js';

/**
 * Which recovery fits the cluster as it is, safest first, and its exact steps:
 *  restart  - every missing member still has its data: start them. Loses nothing.
 *  replace  - a missing member's disk is gone: re-add it through the working cluster, after starting the members
 *             that kept their data when quorum needs them. Loses nothing.
 *  survivor - quorum is lost and a member answers: --force-new-cluster on the freshest one, re-add the others one by
 *             one. Loses what that member had not applied.
 *  snapshot - no usable member: restore one snapshot on every member. Loses every change after the snapshot.
 * `auto` picks the first that applies. Old members still running block survivor and snapshot (unless `force`).
 */
export function planRecovery(input: RecoverInput, choice: PlanChoice): PlanDecision {
  const voting = input.members.filter((m) => !m.learner);
  const missing = voting.filter((m) => !m.reachable);
  const candidates = PLAN_NAMES.map((name) => assess(name, input));
  const rollback = choice === 'snapshot' && input.rollback === true;
  if (
    !rollback &&
    !input.dataLost &&
    missing.length === 0 &&
    input.state !== 'unreachable' &&
    input.state !== 'quorum-lost'
  ) {
    return {
      kind: 'nothing-to-do',
      reason: `all ${voting.length} voting members answer; nothing to recover`,
      candidates,
    };
  }
  // Lost data is restored, not restarted or re-added around: members joining an empty cluster would only follow it.
  const auto = input.dataLost ? candidates.find((c) => c.name === 'snapshot') : candidates.find((c) => c.applies);
  const pick = choice === 'auto' ? auto : candidates.find((c) => c.name === choice);
  if (!pick) return { kind: 'no-plan', reason: 'no recovery plan applies to this cluster', candidates };
  if (!pick.applies)
    return { kind: 'no-plan', reason: `the ${pick.name} plan does not apply: ${pick.reason}`, candidates };
  const plan = build(pick.name, input, pick.reason);
  return { kind: 'plan', plan, blockers: input.force ? [] : blockersOf(pick.name, input), candidates };
}

function assess(name: PlanName, input: RecoverInput): Candidate {
  const voting = input.members.filter((m) => !m.learner);
  const missing = voting.filter((m) => !m.reachable);
  const reachable = voting.filter((m) => m.reachable);
  const quorum = quorumOf(voting.length);
  const gone = missing.filter((m) => m.hasData === false).map((m) => m.name);
  const no = (reason: string): Candidate => ({ name, applies: false, reason });
  const yes = (reason: string): Candidate => ({ name, applies: true, reason });
  switch (name) {
    case 'restart': {
      if (missing.length === 0) return no('every voting member answers');
      if (gone.length) return no(`${listNames(gone)} lost ${gone.length === 1 ? 'its' : 'their'} data`);
      const hung = missing.filter((m) => m.running === true).map((m) => m.name);
      if (hung.length) return no(`${listNames(hung)} run${hung.length === 1 ? 's' : ''} but do not answer (frozen?)`);
      const unsure = missing.filter((m) => m.hasData === null).map((m) => m.name);
      if (unsure.length) {
        return yes(
          `whether ${listNames(unsure)} still ${unsure.length === 1 ? 'has its' : 'have their'} data is unknown (nothing here sees ${unsure.length === 1 ? 'its disk' : 'their disks'}); if ${unsure.length === 1 ? 'it does' : 'they do'}, starting ${listNames(missing.map((m) => m.name))} loses nothing`,
        );
      }
      return yes(`${listNames(missing.map((m) => m.name))} still have their data: starting them loses nothing`);
    }
    case 'replace': {
      if (gone.length === 0) return no('no missing member is known to have lost its disk');
      if (reachable.length >= quorum) {
        return yes(
          `quorum holds; ${listNames(gone)} lost ${gone.length === 1 ? 'its' : 'their'} disk and can be re-added`,
        );
      }
      // Quorum is lost, but members that kept their data may bring it back: start them, then re-add the lost ones
      // through the cluster they form. No --force-new-cluster, so nothing applied anywhere is lost.
      const intact = missing.filter((m) => m.hasData !== false);
      const hung = intact.filter((m) => m.running === true).map((m) => m.name);
      if (hung.length) return no(`${listNames(hung)} run${hung.length === 1 ? 's' : ''} but do not answer (frozen?)`);
      if (reachable.length === 0 || reachable.length + intact.length < quorum) {
        return no(`quorum is lost (${reachable.length} of ${voting.length} answer) and too few kept their data`);
      }
      return yes(
        `starting ${listNames(intact.map((m) => m.name))} (data kept) brings quorum back; then ${listNames(gone)}, ` +
          `which lost ${gone.length === 1 ? 'its' : 'their'} disk, ${gone.length === 1 ? 'is' : 'are'} re-added`,
      );
    }
    case 'survivor':
      if (reachable.length === 0) return no('no member answers');
      if (reachable.length >= quorum) return no('quorum holds: no member needs --force-new-cluster');
      return yes(
        `quorum is lost and ${freshest(reachable)!.name} has the highest applied raft index of those answering`,
      );
    case 'snapshot':
      if (input.members.length === 0)
        return no('no member answers and the executor cannot list the members (which nodes get the snapshot?)');
      if (reachable.length >= quorum && !input.rollback && !input.dataLost) {
        return no('quorum holds: restoring a snapshot would throw away newer data');
      }
      if (!input.snapshot) return no(input.snapshotProblem ?? 'no snapshot given (--snapshot FILE)');
      if (input.dataLost) return yes(input.dataLost);
      if (reachable.length >= quorum) {
        return yes(`a rollback (--force): the working cluster goes back to revision ${input.snapshot.revision}`);
      }
      return yes(input.snapshot.picked ?? `a snapshot at revision ${input.snapshot.revision} is available`);
  }
}

/** The reachable voting member with the highest applied raft index; ties go to the first name. */
export function freshest(members: RecoverMember[]): RecoverMember | undefined {
  const index = (m: RecoverMember) => m.appliedIndex ?? m.raftIndex ?? -1;
  return [...members].sort((a, b) => index(b) - index(a) || a.name.localeCompare(b.name))[0];
}

/** Old members that must not be running for survivor/snapshot: they answer, or the executor sees the process. */
function blockersOf(name: PlanName, input: RecoverInput): Blocker[] {
  if (name !== 'survivor' && name !== 'snapshot') return [];
  const keep = name === 'survivor' ? freshest(input.members.filter((m) => !m.learner && m.reachable)) : undefined;
  return input.members
    .filter((m) => m !== keep && (m.reachable || m.running === true))
    .map((m) => ({
      member: m.name,
      why: m.reachable
        ? `${m.name} still answers on ${m.clientUrl}`
        : `${m.name} is still running${m.pid ? ` (pid ${m.pid})` : ''} although it does not answer`,
    }));
}

function startAction(m: RecoverMember): StepAction {
  return { kind: 'start', member: m.name, dataKnown: m.hasData === true };
}

/**
 * Every plan that applies, safest first (the order `auto` tries them), as doctor and serve show them: the same
 * decisions and step titles `lifeboat recover` prints, so the screens agree.
 */
export function rankedPlans(input: RecoverInput): RecoveryPlan[] {
  const decision = planRecovery(input, 'auto');
  if (decision.kind !== 'plan') return [];
  return decision.candidates
    .filter((c) => c.applies)
    .map((c) => {
      const plan = c.name === decision.plan.name ? decision.plan : build(c.name, input, c.reason);
      return {
        name: plan.name,
        title: plan.title,
        dataLoss: plan.dataLoss,
        when: plan.why,
        steps: plan.steps.map((s) => s.title),
        command: `lifeboat recover --plan ${plan.name}${plan.snapshot ? ` --snapshot ${plan.snapshot.file}` : ''}`,
      };
    });
}

function ref(m: RecoverMember): MemberRef {
  return { name: m.name, peerUrl: m.peerUrl, clientUrl: m.clientUrl, id: m.id };
}

function build(name: PlanName, input: RecoverInput, why: string): ExecutablePlan {
  const members = input.members.map(ref);
  const voting = input.members.filter((m) => !m.learner);
  const missing = voting.filter((m) => !m.reachable);
  const dbBytes = Math.max(0, ...input.members.map((m) => m.dbSize ?? 0)) || (input.snapshot?.size ?? null);
  const notes: string[] = [];
  let actions: StepAction[];
  let coordinator: string;
  let title: string;
  let dataLoss: string;
  if (name === 'restart') {
    coordinator = voting.find((m) => m.reachable)?.name ?? missing[0]!.name;
    const via = coordinator;
    actions = [
      ...missing.map((m) => startAction(m)),
      { kind: 'wait-healthy', members: voting.map((m) => m.name) },
      ...missing.map((m) => ({ kind: 'wait-caught-up' as const, member: m.name, via })),
    ];
    title = `Restart ${listNames(missing.map((m) => m.name))} with ${missing.length === 1 ? 'its' : 'their'} data`;
    dataLoss = 'none';
  } else if (name === 'replace') {
    const via = (voting.find((m) => m.reachable && m.appliedIndex !== null) ?? voting.find((m) => m.reachable))!;
    coordinator = via.name;
    const intact = missing.filter((m) => m.hasData !== false);
    const gone = missing.filter((m) => m.hasData === false);
    actions = intact.length
      ? [
          ...intact.map((m) => startAction(m)),
          { kind: 'wait-healthy', members: voting.filter((m) => m.hasData !== false).map((m) => m.name) },
        ]
      : [];
    // Each member is removed and added back in one turn, so the membership always lists every member.
    for (const m of gone) actions.push(...reAddActions(ref(m), via.name, members));
    actions.push({ kind: 'wait-healthy', members: voting.map((m) => m.name) });
    title = `Re-add ${listNames(gone.map((m) => m.name))} through the working cluster`;
    dataLoss = 'none';
    if (gone.length)
      notes.push(
        emptyRejoinWarning(
          gone.map((m) => m.name),
          via.name,
        ),
      );
  } else if (name === 'survivor') {
    const survivor = freshest(voting.filter((m) => m.reachable))!;
    coordinator = survivor.name;
    const others = input.members.filter((m) => m !== survivor);
    const joined: MemberRef[] = [ref(survivor)];
    actions = [
      ...(others.length ? [{ kind: 'ensure-stopped' as const, members: others.map((m) => m.name) }] : []),
      { kind: 'force-new-cluster', member: survivor.name },
      { kind: 'wait-writable', member: survivor.name },
      { kind: 'restart-normal', member: survivor.name },
    ];
    for (const m of others) {
      joined.push(ref(m));
      actions.push(...reAddActions(ref(m), survivor.name, [...joined]));
    }
    actions.push({ kind: 'wait-healthy', members: input.members.map((m) => m.name) });
    title = `Rebuild from the freshest survivor (${survivor.name})`;
    const index = survivor.appliedIndex ?? survivor.raftIndex;
    dataLoss = `none beyond what ${survivor.name} had not applied (applied raft index ${index ?? 'unknown'})`;
    if (others.some((m) => m.learner)) notes.push('old learners come back as voting members');
  } else {
    const snap = input.snapshot!;
    coordinator = voting[0]?.name ?? input.members[0]!.name;
    const all = input.members.map((m) => m.name);
    const bump = bumpRevisionFor(input);
    actions = [
      { kind: 'ensure-stopped', members: all },
      ...input.members.map((m) => ({
        kind: 'restore' as const,
        member: m.name,
        file: snap.file,
        initialCluster: initialClusterOf(input.members),
        token: input.newToken,
        bumpRevision: bump,
      })),
      { kind: 'start-all', members: all, token: input.newToken },
      { kind: 'wait-healthy', members: all },
    ];
    title = `Restore the snapshot at revision ${snap.revision} on every member`;
    dataLoss = snapshotLoss(snap, input.now);
    notes.push(...(snap.warnings ?? []));
    if (snap.verified !== true) notes.push('this snapshot has no passed restore drill (lifeboat verify)');
    if (bump === null && input.restoreTool) {
      notes.push(
        `etcd ${input.restoreTool.version} cannot bump revisions on restore: restart every kube-apiserver afterwards so no informer keeps a stale cache`,
      );
    }
  }
  return {
    name,
    title,
    dataLoss,
    why,
    steps: numberSteps(actions, coordinator),
    estimateSeconds: estimateSeconds(actions, dbBytes),
    members,
    notes,
    ...(name === 'snapshot' ? { snapshot: input.snapshot } : {}),
  };
}

/**
 * Why a member whose disk is gone must not start before its old member entry is removed: with its manifest (or unit)
 * still in place it starts empty under its OLD member id, and that empty voter grants its vote to any candidate, so a
 * member that missed the last writes can be elected and the cluster silently drops writes it had acknowledged (seen
 * in the kubeadm simulator: the keys written last were gone and the survivor could never rejoin).
 */
export function emptyRejoinWarning(members: string[], via: string): string {
  const one = members.length === 1;
  return `power ${listNames(members)} on only after ${via}'s script has removed ${one ? 'its' : 'their'} old member ${one ? 'entry' : 'entries'} (it says so): started earlier with ${one ? 'its' : 'their'} etcd manifest in place, etcd rejoins empty under the old member id, and that empty voter can let a member that missed the last writes lead, dropping writes etcd had acknowledged`;
}

/** --bump-revision/--mark-compacted exist from etcdutl 3.5 on; etcdctl 3.4's restore has neither. */
export function bumpRevisionFor(input: Pick<RecoverInput, 'restoreTool'>): number | null {
  const tool = input.restoreTool;
  if (tool?.tool !== 'etcdutl') return null;
  const [major, minor] = tool.version.split('.').map(Number);
  return (major ?? 0) > 3 || ((major ?? 0) === 3 && (minor ?? 0) >= 5) ? BUMP_REVISION : null;
}

export function snapshotLoss(snap: { revision: number; createdAt: string | null }, now: number): string {
  if (!snap.createdAt) return `every change after revision ${snap.revision}`;
  const ago = Math.max(0, now - Date.parse(snap.createdAt));
  return `every change after revision ${snap.revision} (snapshot taken ${snap.createdAt}, ${formatAgo(ago)} ago)`;
}

export function formatAgo(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172_800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86_400)} days`;
}
