/**
 * What the etcd adapter learned about one endpoint, as plain data. The domain decides everything from these;
 * the adapter never interprets them. Member ids are decimal strings (uint64 does not fit a JS number).
 */
export interface MemberEntry {
  id: string;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
  isLearner: boolean;
}

export interface MemberStatus {
  memberId: string;
  /** Cluster id from the response header (decimal string); recover compares it with a snapshot's manifest. */
  clusterId?: string;
  /** Store revision of this member (response header). */
  revision?: number;
  leaderId: string; // '0' when the member knows no leader
  version: string;
  dbSize: number;
  dbSizeInUse?: number;
  raftTerm: number;
  raftIndex: number;
  raftAppliedIndex?: number; // etcd >= 3.4
  isLearner: boolean;
  /** Errors the member reports about itself, e.g. "etcdserver: no leader". */
  errors: string[];
}

export type AlarmType = 'NOSPACE' | 'CORRUPT' | 'NONE';

export interface AlarmEntry {
  memberId: string;
  alarm: AlarmType;
}

export interface EndpointProbe {
  endpoint: string;
  /** Set when the endpoint answered nothing at all (connect, TLS, timeout...). One line, names the problem. */
  error?: string;
  status?: MemberStatus;
  /** Member list as this endpoint sees it (serializable: works without quorum). */
  members?: MemberEntry[];
  alarms?: AlarmEntry[];
  /** A linearizable read succeeded through this endpoint (needs quorum). undefined = not tried. */
  linearizableRead?: boolean;
  linearizableError?: string;
  /** A serializable read succeeded (served from the member's local data: works without quorum). */
  serializableRead?: boolean;
  /** Milliseconds the whole probe of this endpoint took. */
  elapsedMs: number;
}

/** One member as `status` and `doctor` show it: the member list joined with its probe. */
export interface MemberView {
  name: string;
  id: string;
  endpoint: string;
  reachable: boolean;
  leader: boolean;
  learner: boolean;
  raftIndex: number | null;
  raftAppliedIndex: number | null;
  raftTerm: number | null;
  dbSize: number | null;
  version: string | null;
  error: string | null;
}
