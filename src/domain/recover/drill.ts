import type { ClusterState } from '../quorum.js';
import { quorumOf } from '../quorum.js';
import { listNames } from '../text.js';
import type { PlanName } from './types.js';

/**
 * The incident drill, as decisions on plain data: who fails, how, what `doctor` and `recover` should make of it, and
 * how the writer's acknowledged writes are judged afterwards. Pure.
 */

/** Scenarios where members fail (doctor sees them; plans-agree compares doctor's plans with recover's). */
export const FAILURE_SCENARIOS = ['incident', 'disk-loss', 'total-loss'] as const;
/** namespace-delete: nothing fails; a user deletes a namespace and the cluster goes back to the moment before. */
export const SCENARIOS = [...FAILURE_SCENARIOS, 'namespace-delete'] as const;
export type Scenario = (typeof SCENARIOS)[number];

/** The namespace the namespace-delete drill deletes, and the kinds of object it holds in the lab's sample data. */
export const DELETED_NAMESPACE = 'shop';
export const NAMESPACED_PREFIXES = ['pods', 'configmaps', 'secrets', 'deployments', 'services/specs'].map(
  (kind) => `/registry/${kind}/${DELETED_NAMESPACE}/`,
);

export interface FailurePlan {
  scenario: Scenario;
  /** Killed at the same moment (SIGKILL: a power cut). */
  victims: string[];
  /** Victims whose data dir is then removed (a lost disk). */
  wiped: string[];
  /** The member the writer writes through (a stacked control plane's API server talks to its local member). */
  writer: string;
  /** What doctor must report after the failure. */
  expectState: ClusterState;
  expectPlan: PlanName;
  /** Several members survive: the survivor plan must stop the others (recover --force). */
  force: boolean;
  /** The plan restores the drill's backup. */
  needsSnapshot: boolean;
  story: string;
}

/**
 * incident: a majority dies at once (2 of 3, 3 of 5), the leader among them, and the leader's disk is lost; the writer
 * writes through a member that survives. disk-loss: the leader loses its disk, the others are fine. total-loss: every
 * member loses its disk; only the backup is left.
 */
export function planFailure(scenario: Scenario, members: string[], leader: string | null): FailurePlan {
  const lead = leader && members.includes(leader) ? leader : members[0]!;
  const followers = members.filter((m) => m !== lead);
  if (scenario === 'incident') {
    const count = members.length - quorumOf(members.length) + 1;
    const victims = [lead, ...followers.slice(0, count - 1)];
    const survivors = members.filter((m) => !victims.includes(m));
    return {
      scenario,
      victims,
      wiped: [lead],
      writer: survivors[survivors.length - 1]!,
      expectState: 'quorum-lost',
      // The victims that kept their data bring quorum back; the wiped leader is then re-added: nothing is lost.
      expectPlan: 'replace',
      force: false,
      needsSnapshot: false,
      story: `${listNames(victims)} die at the same moment (a reboot schedule slip); ${lead}'s disk is lost`,
    };
  }
  if (scenario === 'namespace-delete') {
    return {
      scenario,
      victims: [],
      wiped: [],
      writer: followers[followers.length - 1]!,
      expectState: 'healthy',
      expectPlan: 'snapshot',
      // The cluster is healthy and ahead of the point: restoring an older moment over it is what the user asks.
      force: true,
      needsSnapshot: true,
      story: `a user deletes namespace ${DELETED_NAMESPACE} (every object in it, kind by kind, as the namespace controller does); the cluster goes back to the second before`,
    };
  }
  if (scenario === 'disk-loss') {
    return {
      scenario,
      victims: [lead],
      wiped: [lead],
      writer: followers[followers.length - 1]!,
      expectState: 'degraded',
      expectPlan: 'replace',
      force: false,
      needsSnapshot: false,
      story: `${lead} (the leader) dies and its disk is lost; the others keep quorum`,
    };
  }
  return {
    scenario,
    victims: [...members],
    wiped: [...members],
    writer: members[0]!,
    expectState: 'unreachable',
    expectPlan: 'snapshot',
    force: false,
    needsSnapshot: true,
    story: 'every member dies and every disk is lost; only the backup is left',
  };
}

/** One acknowledged write, as the writer logged it. */
export interface Ack {
  seq: number;
  key: string;
  revision: number;
  /** Cluster id from the response header: a snapshot restore founds a new cluster. */
  clusterId: string;
}

export interface WriteVerdict {
  acked: number;
  /** Acknowledged writes not found after the recovery. */
  lost: number;
  /** Acknowledged writes a snapshot restore is expected to lose: old cluster, revision after the snapshot's. */
  expectedLost: number;
  /** Lost although the plan should have kept them (must be 0). */
  lostUnexpectedly: number;
  /** Present although the snapshot cannot hold them (must be 0: the restore was not what it claimed). */
  presentUnexpectedly: number;
  lostKeys: string[];
}

/**
 * Judge the writer's log against what the recovered cluster holds. Without a snapshot every acknowledged write must be
 * there. With one, writes acknowledged by the old cluster after the snapshot's revision must be gone and all others
 * there.
 */
export function judgeWrites(
  acks: Ack[],
  present: (key: string) => boolean,
  snapshot?: { revision: number; clusterId: string },
): WriteVerdict {
  let lost = 0;
  let expectedLost = 0;
  let lostUnexpectedly = 0;
  let presentUnexpectedly = 0;
  const lostKeys: string[] = [];
  for (const a of acks) {
    const shouldBeLost = snapshot !== undefined && a.clusterId === snapshot.clusterId && a.revision > snapshot.revision;
    const here = present(a.key);
    if (shouldBeLost) expectedLost++;
    if (!here) {
      lost++;
      if (lostKeys.length < 20) lostKeys.push(a.key);
      if (!shouldBeLost) lostUnexpectedly++;
    } else if (shouldBeLost) presentUnexpectedly++;
  }
  return { acked: acks.length, lost, expectedLost, lostUnexpectedly, presentUnexpectedly, lostKeys };
}

export function drillKey(seq: number): string {
  return `/drill/writes/${String(seq).padStart(8, '0')}`;
}
