import type { EndpointProbe, MemberEntry, MemberView } from './probe.js';

export type { MemberView } from './probe.js';

import { type ClusterState, classifyQuorum, type QuorumSummary, summarizeQuorum } from './quorum.js';
import { mergeMembers } from './recover/members.js';
import { rankedPlans } from './recover/plan.js';
import type { RecoveryPlan } from './recover/types.js';
import { listNames, sentence } from './text.js';
import { formatBytes } from './units.js';
import { QUORUM_LOST_CONSEQUENCE, stateCounts, stateMeaning, zeroMarginAction } from './words.js';

export type Severity = 'error' | 'warning' | 'info';

export interface Finding {
  severity: Severity;
  code: string;
  message: string;
  /** The first thing to do, in plain words (also appended to `message`). */
  action?: string;
  members?: string[];
}

export interface Diagnosis extends QuorumSummary {
  state: ClusterState;
  leader: string | null;
  members: MemberView[];
  findings: Finding[];
  plans: RecoveryPlan[];
}

export interface DiagnosisOptions {
  /** A member further than this many raft entries behind the leader is reported. */
  maxRaftLag: number;
  /** Fraction of the quota (default 2 GiB in etcd) above which db size is a warning. */
  quotaBytes: number;
}

const DEFAULTS: DiagnosisOptions = { maxRaftLag: 1000, quotaBytes: 2 * 1024 ** 3 };

/** Turn raw probe results into a verdict a person can act on. Pure: same probes, same words. */
export function diagnose(probes: EndpointProbe[], options: Partial<DiagnosisOptions> = {}): Diagnosis {
  const opts = { ...DEFAULTS, ...options };
  const answered = probes.filter((p) => p.status && !p.error);
  const memberLists = answered.filter((p) => p.members?.length).map((p) => p.members!);
  const members = mergeMemberLists(memberLists);
  const views = members.length ? members.map((m) => viewOf(m, probes)) : probes.map(unknownMemberView);
  const voting = views.filter((v) => !v.learner);
  const reachableVoting = voting.filter((v) => v.reachable).length;
  const summary = summarizeQuorum(reachableVoting, voting.length);
  let state = classifyQuorum(reachableVoting, voting.length);
  const leaderView = views.find((v) => v.leader) ?? null;

  const findings: Finding[] = [];
  const add = (f: Finding) => findings.push(f.action ? { ...f, message: `${f.message} First: ${f.action}` } : f);
  const down = voting.filter((v) => !v.reachable);
  const downNames = down.map((v) => v.name);

  if (state === 'unreachable') {
    const why = probes.map((p) => p.error ?? `${p.endpoint}: no answer`).join('; ');
    add({
      severity: 'error',
      code: 'unreachable',
      message: `No etcd endpoint answered (${why}): ${stateMeaning({ state, ...summary })}.`,
      action:
        'check the endpoints and TLS files, then whether the etcd processes (or static pods) run on the control-plane nodes.',
    });
  } else if (state === 'quorum-lost') {
    add({
      severity: 'error',
      code: 'quorum-lost',
      members: downNames,
      message:
        `etcd has lost quorum: ${stateCounts({ state, ...summary })}. ${sentence(QUORUM_LOST_CONSEQUENCE)}. ` +
        'Reads of old data may still work; every write fails.',
      action: `bring back ${listNames(downNames)} (if their disks are intact, just start them); otherwise see the recovery plans below.`,
    });
  } else if (state === 'degraded') {
    add({
      severity: 'warning',
      code: 'zero-margin',
      members: downNames,
      message: `${sentence(stateMeaning({ state, ...summary }))}: ${stateCounts({ state, ...summary })}.`,
      action: downNames.length
        ? zeroMarginAction(listNames(downNames))
        : 'add a member (3 or 5 voting members tolerate failures; 1 or 2 do not).',
    });
  }
  for (const v of down) {
    if (state === 'unreachable') break;
    add({
      severity: 'error',
      code: 'member-unreachable',
      members: [v.name],
      message: `Member ${v.name} (${v.endpoint || 'no client URL'}) does not answer: ${v.error ?? 'no probe reached it'}.`,
      action: `check that etcd runs on ${v.name}: \`systemctl status etcd\`, or \`crictl ps --name etcd\` on a kubeadm node.`,
    });
  }

  if (answered.length) {
    // Without any answer the member count is only a guess from the endpoints given: no topology advice.
    topologyFindings(voting.length, views, add);
    leaderFindings(answered, reachableVoting, summary.quorum, add);
    lagFindings(views, leaderView, opts.maxRaftLag, add);
    alarmFindings(answered, members, add);
    memberListFindings(memberLists, add);
    sizeFindings(views, opts.quotaBytes, add);
  }

  if (state === 'healthy' && findings.some((f) => f.severity === 'error')) state = 'degraded';
  if (state === 'healthy') {
    findings.unshift({
      severity: 'info',
      code: 'healthy',
      message: `All ${voting.length} voting members answer; ${stateMeaning({ state, ...summary })}.`,
    });
  }
  return {
    state,
    ...summary,
    leader: leaderView?.name ?? null,
    members: views,
    findings,
    plans: state === 'healthy' ? [] : rankedPlans(planInput(state, views, members)),
  };
}

/**
 * What the recovery planner knows from probes alone: no executor sees the machines, so every missing member's disk
 * is unknown and no snapshot is known. `doctor` plans again with what its executor and the backup store add.
 */
function planInput(state: ClusterState, views: MemberView[], members: MemberEntry[]) {
  return { state, members: mergeMembers(views, members, undefined), force: false, newToken: '', now: 0 };
}

/** Union of member lists, by id. The first list that names a member wins its details. */
function mergeMemberLists(lists: MemberEntry[][]): MemberEntry[] {
  const byId = new Map<string, MemberEntry>();
  for (const list of lists) for (const m of list) if (!byId.has(m.id)) byId.set(m.id, m);
  return [...byId.values()].sort((a, b) => displayName(a).localeCompare(displayName(b)));
}

function displayName(m: MemberEntry): string {
  // A member added but never started has no name yet.
  return m.name || `(unstarted ${m.peerURLs[0] ?? m.id})`;
}

function viewOf(member: MemberEntry, probes: EndpointProbe[]): MemberView {
  const probe =
    probes.find((p) => p.status?.memberId === member.id) ??
    probes.find((p) => member.clientURLs.some((u) => sameUrl(u, p.endpoint)));
  const status = probe?.error ? undefined : probe?.status;
  const reachable = Boolean(status && status.memberId === member.id);
  return {
    name: displayName(member),
    id: member.id,
    endpoint: probe?.endpoint ?? member.clientURLs[0] ?? '',
    reachable,
    leader: reachable && status!.leaderId === member.id,
    learner: member.isLearner,
    raftIndex: status?.raftIndex ?? null,
    raftAppliedIndex: status?.raftAppliedIndex ?? null,
    raftTerm: status?.raftTerm ?? null,
    dbSize: status?.dbSize ?? null,
    version: status?.version ?? null,
    error: reachable ? null : (probe?.error ?? (probe ? 'answered as a different member' : 'not probed')),
  };
}

function unknownMemberView(probe: EndpointProbe): MemberView {
  return {
    name: probe.endpoint,
    id: '',
    endpoint: probe.endpoint,
    reachable: false,
    leader: false,
    learner: false,
    raftIndex: null,
    raftAppliedIndex: null,
    raftTerm: null,
    dbSize: null,
    version: null,
    error: probe.error ?? 'no answer',
  };
}

export function sameUrl(a: string, b: string): boolean {
  return a.replace(/\/+$/, '') === b.replace(/\/+$/, '');
}

type Add = (f: Finding) => void;

function topologyFindings(voting: number, views: MemberView[], add: Add): void {
  if (voting > 0 && voting % 2 === 0) {
    add({
      severity: 'warning',
      code: 'even-members',
      message: `${voting} voting members tolerate no more failures than ${voting - 1} (quorum is ${Math.floor(voting / 2) + 1}): the extra member adds risk, not safety.`,
      action: `add or remove one member to get an odd count.`,
    });
  }
  if (voting > 0 && voting < 3) {
    add({
      severity: 'warning',
      code: 'too-few-members',
      message: `${voting} voting member${voting === 1 ? '' : 's'}: a single failure stops the cluster.`,
      action: 'grow to 3 voting members before relying on this cluster.',
    });
  }
  const learners = views.filter((v) => v.learner).map((v) => v.name);
  if (learners.length) {
    add({
      severity: 'info',
      code: 'learners',
      members: learners,
      message: `${listNames(learners)} ${learners.length === 1 ? 'is a learner' : 'are learners'}: replicating, but not voting, so not counted for quorum.`,
      action: 'promote once caught up (`etcdctl member promote ID`).',
    });
  }
}

function leaderFindings(answered: EndpointProbe[], reachableVoting: number, quorum: number, add: Add): void {
  const leaders = new Set(answered.map((p) => p.status!.leaderId).filter((id) => id !== '0'));
  if (leaders.size === 0 && reachableVoting >= quorum) {
    add({
      severity: 'error',
      code: 'no-leader',
      message:
        'No member knows a leader although enough members answer: an election is failing (network between members, clocks, or disk too slow).',
      action:
        'check the peer port (2380) between control-plane nodes and the etcd logs for "lost leader" or "took too long".',
    });
  }
  const writesFail = answered.every((p) => p.linearizableRead === false);
  if (writesFail && reachableVoting >= quorum && leaders.size > 0) {
    add({
      severity: 'warning',
      code: 'reads-failing',
      message: `Quorum reads fail through every endpoint (${answered[0]?.linearizableError ?? 'no detail'}).`,
      action: "look at the leader's log; a leader election may be in progress.",
    });
  }
  for (const p of answered) {
    for (const e of p.status!.errors) {
      add({ severity: 'warning', code: 'member-error', message: `${p.endpoint} reports: ${e}.` });
    }
  }
}

function lagFindings(views: MemberView[], leader: MemberView | null, maxLag: number, add: Add): void {
  if (!leader || leader.raftIndex === null) return;
  for (const v of views) {
    if (!v.reachable || v.raftIndex === null) continue;
    const lag = leader.raftIndex - v.raftIndex;
    if (lag > maxLag) {
      add({
        severity: 'warning',
        code: 'raft-lag',
        members: [v.name],
        message: `${v.name} is ${lag} raft entries behind the leader ${leader.name} (more than ${maxLag}).`,
        action: `do not take another member down until ${v.name} catches up; check its disk and network.`,
      });
    }
  }
}

function alarmFindings(answered: EndpointProbe[], members: MemberEntry[], add: Add): void {
  const seen = new Set<string>();
  for (const p of answered) {
    for (const a of p.alarms ?? []) {
      if (a.alarm === 'NONE' || seen.has(`${a.memberId}/${a.alarm}`)) continue;
      seen.add(`${a.memberId}/${a.alarm}`);
      const name = members.find((m) => m.id === a.memberId)?.name ?? a.memberId;
      add(
        a.alarm === 'NOSPACE'
          ? {
              severity: 'error',
              code: 'alarm-nospace',
              members: [name],
              message: `NOSPACE alarm on ${name}: the database reached its quota and etcd accepts only reads and deletes.`,
              action: 'compact and defragment (`etcdctl compact`, `etcdctl defrag`), then `etcdctl alarm disarm`.',
            }
          : {
              severity: 'error',
              code: 'alarm-corrupt',
              members: [name],
              message: `CORRUPT alarm on ${name}: its data disagrees with the other members.`,
              action: `take a snapshot from a healthy member, then replace ${name} (remove, wipe its data dir, re-add).`,
            },
      );
    }
  }
}

function memberListFindings(lists: MemberEntry[][], add: Add): void {
  const signatures = new Set(
    lists.map((list) =>
      list
        .map((m) => m.id)
        .sort()
        .join(','),
    ),
  );
  if (signatures.size > 1) {
    add({
      severity: 'error',
      code: 'member-list-mismatch',
      message: `Members disagree on who is in the cluster (${signatures.size} different member lists): a member was removed or added while another was down, or two clusters share endpoints.`,
      action: 'compare `etcdctl member list` on each endpoint before changing anything.',
    });
  }
}

function sizeFindings(views: MemberView[], quotaBytes: number, add: Add): void {
  for (const v of views) {
    if (v.dbSize !== null && v.dbSize > quotaBytes * 0.8) {
      add({
        severity: 'warning',
        code: 'db-size',
        members: [v.name],
        message: `${v.name}'s database is ${formatBytes(v.dbSize)}, over 80% of the ${formatBytes(quotaBytes)} quota.`,
        action: 'compact and defragment before the NOSPACE alarm stops writes.',
      });
    }
  }
}
