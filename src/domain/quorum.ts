/**
 * Quorum arithmetic. Only voting members count: learners replicate but never vote, so they neither help nor
 * hurt quorum.
 */

/** Votes needed for etcd to elect a leader and commit writes. */
export function quorumOf(votingMembers: number): number {
  return Math.floor(votingMembers / 2) + 1;
}

/** How many voting members may be down while the cluster still has quorum (never negative). */
export function toleranceOf(votingMembers: number): number {
  return Math.max(0, votingMembers - quorumOf(votingMembers));
}

/**
 * How many more voting members may fail before quorum is lost, minus one: 1 = one can fail, 0 = the next failure
 * stops the cluster, negative = quorum already lost.
 */
export function quorumMargin(reachableVoting: number, votingMembers: number): number {
  return reachableVoting - quorumOf(votingMembers);
}

export type ClusterState = 'healthy' | 'degraded' | 'quorum-lost' | 'unreachable';

/** State from the counts alone (diagnosis may downgrade "healthy" for other findings, never upgrade). */
export function classifyQuorum(reachableVoting: number, votingMembers: number): ClusterState {
  // Nobody answered: we cannot tell a dead cluster from a wrong address, so say exactly that.
  if (reachableVoting === 0) return 'unreachable';
  const margin = quorumMargin(reachableVoting, votingMembers);
  if (margin < 0) return 'quorum-lost';
  if (margin === 0) return 'degraded';
  return 'healthy';
}

export interface QuorumSummary {
  votingMembers: number;
  reachableVoting: number;
  quorum: number;
  tolerance: number;
  margin: number;
}

export function summarizeQuorum(reachableVoting: number, votingMembers: number): QuorumSummary {
  return {
    votingMembers,
    reachableVoting,
    quorum: quorumOf(votingMembers),
    tolerance: toleranceOf(votingMembers),
    margin: quorumMargin(reachableVoting, votingMembers),
  };
}
