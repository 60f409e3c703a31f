import type { EndpointProbe } from '../probe.js';

/**
 * Which member to snapshot. A healthy follower first: streaming a large database costs disk and network on the
 * member that serves it, and the leader should keep its heartbeats on time. The most up-to-date follower wins.
 * Without quorum any member that still answers is better than no backup at all (INCIDENT.md, step 4): it is chosen
 * with a warning, because its data may be behind what the cluster last agreed.
 */

export interface SourceChoice {
  endpoint: string;
  memberId: string;
  role: 'follower' | 'leader' | 'member-without-quorum';
  warnings: string[];
}

export function chooseSource(probes: EndpointProbe[]): SourceChoice | { error: string } {
  const answered = probes.filter((p) => p.status && !p.error);
  if (answered.length === 0) {
    const why = probes.map((p) => p.error ?? `${p.endpoint}: no answer`).join('; ');
    return { error: `no etcd member answered (${why})` };
  }
  const voters = answered.filter((p) => !p.status!.isLearner);
  const healthy = voters.filter(
    (p) => p.linearizableRead === true && p.status!.errors.length === 0 && p.status!.leaderId !== '0',
  );
  const applied = (p: EndpointProbe) => p.status!.raftAppliedIndex ?? p.status!.raftIndex;
  const best = (list: EndpointProbe[]) => [...list].sort((a, b) => applied(b) - applied(a))[0];
  const isLeader = (p: EndpointProbe) => p.status!.leaderId === p.status!.memberId;
  const follower = best(healthy.filter((p) => !isLeader(p)));
  if (follower) return pick(follower, 'follower', []);
  const leader = best(healthy.filter(isLeader));
  if (leader) return pick(leader, 'leader', []);
  const any = best(voters.length > 0 ? voters : answered)!;
  return pick(any, 'member-without-quorum', [
    `no healthy member with quorum: snapshotting ${any.endpoint}'s local data, which may be behind what the cluster last agreed`,
  ]);
}

function pick(p: EndpointProbe, role: SourceChoice['role'], warnings: string[]): SourceChoice {
  return { endpoint: p.endpoint, memberId: p.status!.memberId, role, warnings };
}

/** The member's name from any member list the probes returned ('' when unknown). */
export function memberName(probes: EndpointProbe[], memberId: string): string {
  for (const p of probes) {
    const m = p.members?.find((x) => x.id === memberId);
    if (m) return m.name;
  }
  return '';
}
