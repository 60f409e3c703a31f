import type { ClusterState, QuorumSummary } from './quorum.js';

/**
 * The wording table of etcd's states: the one place that says what `healthy`, `degraded`, `quorum-lost` and
 * `unreachable` mean. `status` and `doctor` (render/cluster.ts), serve's status page and event log, and the alerts
 * all word a state from here, so the terminal, the browser and the pager say the same thing at 3 a.m. The codes
 * are contract (JSON, alert levels); these words are not, and change only here.
 */

/** A member short of losing quorum (the state, the schedule check, the calendar). */
export const ONE_MORE_FAILURE = 'one more failure stops etcd';

/** What a state's words are made of: the state and its counts (a Diagnosis, a status panel, an observation). */
export interface StateFacts extends Pick<QuorumSummary, 'votingMembers' | 'reachableVoting' | 'quorum' | 'margin'> {
  state: ClusterState;
}

/** How the state is shown as one word: `HEALTHY`, `QUORUM-LOST`. */
export function stateLabel(state: ClusterState): string {
  return state.toUpperCase();
}

/** What the counts mean for the cluster, one clause. */
export function stateMeaning(f: StateFacts): string {
  switch (f.state) {
    case 'healthy':
      return `it can lose ${f.margin} more member${f.margin === 1 ? '' : 's'} and keep working`;
    case 'degraded':
      return f.margin === 0 ? ONE_MORE_FAILURE : 'quorum holds, but a finding needs attention';
    case 'quorum-lost':
      return 'it accepts no changes until enough members are back';
    case 'unreachable':
      return 'every member is down, or the address, port or certificates are wrong';
  }
}

/** The counts, in words: "2 of 3 voting members answer, 2 needed for quorum (margin 0)". */
export function stateCounts(f: StateFacts): string {
  if (f.state === 'unreachable') return `none of the ${f.votingMembers} endpoints answered`;
  return `${f.reachableVoting} of ${f.votingMembers} voting members answer, ${f.quorum} needed for quorum (margin ${f.margin})`;
}

/**
 * The state as a sentence: the first line of `status` and `doctor`, the status page's headline, the event log's
 * line (`now`: a change). `label` lets a terminal colour the state word.
 */
export function stateHeadline(f: StateFacts, opts: { label?: (text: string) => string; now?: boolean } = {}): string {
  const label = opts.label ?? ((t: string) => t);
  return `etcd is ${opts.now ? 'now ' : ''}${label(stateLabel(f.state))}: ${stateCounts(f)}; ${stateMeaning(f)}`;
}

/** The state without the counts: an alert's title. */
export function stateTitle(f: StateFacts): string {
  return `etcd is ${stateLabel(f.state)}: ${stateMeaning(f)}`;
}

/** The margin under the status page's quorum gauge. */
export function marginWords(margin: number): string {
  if (margin > 0) return `margin ${margin}: can lose ${margin} more`;
  if (margin === 0) return `margin 0: ${ONE_MORE_FAILURE}`;
  return `margin ${margin}: quorum lost`;
}

/** What a lost quorum does to a Kubernetes cluster (doctor's finding, the alert, the schedule check). */
export const QUORUM_LOST_CONSEQUENCE =
  'running pods keep serving, but no change takes effect: no new pods, no rescheduling, no kube-vip failover, ' +
  'no kubectl apply';

/** The zero-margin finding's and alert's advice. */
export function zeroMarginAction(down: string): string {
  return `bring back ${down} before any planned reboot.`;
}
