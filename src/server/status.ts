import type { FollowStatus } from '../app/etcdlog/follow.js';
import type { ChainInfo } from '../app/etcdlog/restore.js';
import type { ActiveAlert } from '../domain/alerts.js';
import type { Diagnosis } from '../domain/diagnosis.js';
import type { RecoveryPlan } from '../domain/recover/types.js';
import { marginWords, stateHeadline } from '../domain/words.js';
import type { Calendar, ScheduleReport } from './calendar.js';
import type { ServeEvent } from './events.js';
import type { LockInfo } from './locks.js';
import type { KindSummary, Timeline } from './timeline.js';

/**
 * `/api/status`: everything the status page shows, as one JSON document (the page polls it every 2 s). Instants are
 * ISO-8601. Fields are added freely, never renamed: scripts may read it too.
 */
export interface StatusDocument {
  version: string;
  cluster: string;
  generatedAt: string;
  startedAt: string;
  /** Zone the calendar and timeline days are in. */
  zone: string;
  config: { path: string | null; ok: boolean; error: string | null; loadedAt: string | null };
  etcd: EtcdPanel | null;
  /** The recovery plan `doctor` ranks first right now; null when healthy. */
  plan: RecoveryPlan | null;
  otherPlans: string[];
  backups: {
    destination: string | null;
    kinds: Array<
      Omit<KindSummary, 'lastSuccessAt' | 'lastVerifiedAt'> & {
        lastSuccessAt: string | null;
        lastVerifiedAt: string | null;
        stale: boolean;
      }
    >;
    timeline: Timeline | null;
    error: string | null;
  };
  jobs: Array<{
    name: string;
    every: number;
    running: boolean;
    runs: number;
    nextRunAt: string | null;
    last: { at: string; ok: boolean; seconds: number; summary: string } | null;
  }>;
  check: ScheduleReport['check'] | null;
  calendar: Calendar | null;
  locks: LockInfo[] | null;
  alerts: { webhooks: number; firing: Array<ActiveAlert & { key: string; sinceIso: string }> };
  events: ServeEvent[];
  /** The change log (backups.etcd.follow): the follower's lag and the windows a restore can reach; null: none. */
  pointInTime: PointInTimePanel | null;
}

export interface PointInTimePanel {
  follower: {
    chain: string | null;
    endpoint: string | null;
    durableRevision: number;
    durableAt: string;
    clusterRevision: number;
    lagRevisions: number;
    lagSeconds: number;
    gaps: number;
  } | null;
  /** Oldest first; the newest one's end follows the follower live. */
  windows: Array<{
    chain: string;
    fromRevision: number;
    toRevision: number;
    from: string;
    to: string;
    reason: string;
    problem: string | null;
  }>;
}

/** The follower's status and the store's chains, as the status page shows them. */
export function pointInTimePanel(follow: FollowStatus | undefined, chains: ChainInfo[]): PointInTimePanel | null {
  if (!follow && chains.length === 0) return null;
  const iso = (ms: number) => new Date(ms).toISOString();
  return {
    follower: follow
      ? {
          chain: follow.chain ?? null,
          endpoint: follow.endpoint ?? null,
          durableRevision: follow.durableRevision,
          durableAt: iso(follow.durableAt),
          clusterRevision: follow.clusterRevision,
          lagRevisions: follow.lagRevisions,
          lagSeconds: follow.lagSeconds,
          gaps: follow.gaps,
        }
      : null,
    windows: chains.map((c) => {
      const live = follow && follow.chain === c.chain && follow.durableRevision > c.toRevision;
      return {
        chain: c.chain,
        fromRevision: c.fromRevision,
        toRevision: live ? follow.durableRevision : c.toRevision,
        from: iso(c.fromTime),
        to: iso(live ? follow.durableAt : c.toTime),
        reason: c.reason,
        problem: c.problem ?? null,
      };
    }),
  };
}

export interface EtcdPanel {
  state: Diagnosis['state'];
  headline: string;
  explanation: string;
  margin: number;
  /** The margin in words, under the page's quorum gauge. */
  marginWords: string;
  quorum: number;
  votingMembers: number;
  reachableVoting: number;
  tolerance: number;
  leader: string | null;
  leaderChanges: number;
  probedAt: string;
  probeMs: number;
  members: Array<
    Pick<
      Diagnosis['members'][number],
      'name' | 'endpoint' | 'reachable' | 'leader' | 'learner' | 'raftIndex' | 'dbSize' | 'version' | 'error'
    >
  >;
  findings: Diagnosis['findings'];
}

export function etcdPanel(
  d: Diagnosis,
  extra: { probedAt: number; probeMs: number; leaderChanges: number },
): EtcdPanel {
  return {
    state: d.state,
    headline: stateHeadline(d),
    explanation: d.findings[0]?.message ?? '',
    margin: d.margin,
    marginWords: marginWords(d.margin),
    quorum: d.quorum,
    votingMembers: d.votingMembers,
    reachableVoting: d.reachableVoting,
    tolerance: d.tolerance,
    leader: d.leader,
    leaderChanges: extra.leaderChanges,
    probedAt: new Date(extra.probedAt).toISOString(),
    probeMs: extra.probeMs,
    members: d.members.map((m) => ({
      name: m.name,
      endpoint: m.endpoint,
      reachable: m.reachable,
      leader: m.leader,
      learner: m.learner,
      raftIndex: m.raftIndex,
      dbSize: m.dbSize,
      version: m.version,
      error: m.error,
    })),
    findings: d.findings,
  };
}
