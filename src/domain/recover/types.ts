import type { ClusterState } from '../quorum.js';

/**
 * Executable recovery plans: what `lifeboat recover` runs. A plan is data (numbered steps naming a member and an
 * action); an executor turns each step into processes (lab), or into shell lines on the right node (runbooks).
 */

export const PLAN_NAMES = ['restart', 'replace', 'survivor', 'snapshot'] as const;
export type PlanName = (typeof PLAN_NAMES)[number];
export type PlanChoice = PlanName | 'auto';

/** What recover knows of one member: the diagnosis, the member list, and what the executor sees on its machine. */
export interface RecoverMember {
  name: string;
  /** Member id in the old cluster (decimal string, as the etcd API gives it); '' when unknown. */
  id: string;
  peerUrl: string;
  clientUrl: string;
  reachable: boolean;
  learner: boolean;
  raftIndex: number | null;
  appliedIndex: number | null;
  dbSize: number | null;
  /** The etcd process runs (the executor saw it); null: the executor cannot tell (another host). */
  running: boolean | null;
  pid?: number;
  /** Its data dir holds etcd data; false: the disk is gone; null: cannot tell. */
  hasData: boolean | null;
}

export interface SnapshotInfo {
  file: string;
  /** Store revision the snapshot holds (from the file itself). */
  revision: number;
  /** ISO instant the snapshot was taken (its manifest, else the file's mtime); null when unknown. */
  createdAt: string | null;
  keys: number | null;
  /** Latest restore drill passed (manifest); null: never verified or no manifest. */
  verified: boolean | null;
  size: number;
  /** Where the snapshot was found (a store object: path or s3:// URL), when not the file itself. */
  source?: string;
  /** Cluster id its manifest records (decimal string); null when there is no manifest. */
  clusterId?: string | null;
  /** Which snapshot was picked and why, in one sentence (what was checked, what else was tried). */
  picked?: string;
  /** What the checks against the cluster found that the user must read before restoring (another cluster...). */
  warnings?: string[];
}

export interface RestoreTool {
  tool: 'etcdutl' | 'etcdctl';
  /** e.g. "3.4.23". */
  version: string;
}

export interface RecoverInput {
  state: ClusterState;
  members: RecoverMember[];
  /** Stop old members that still run instead of refusing. */
  force: boolean;
  snapshot?: SnapshotInfo;
  /** Why there is no snapshot to restore ("no --snapshot given and no verified backup in ..."). */
  snapshotProblem?: string;
  restoreTool?: RestoreTool;
  /** Cluster token for a snapshot restore (an input: the domain has no randomness). */
  newToken: string;
  /** Epoch milliseconds, for "taken 3 h ago". */
  now: number;
  /**
   * The user asks to take a cluster that still works back to an older point (`recover --plan snapshot --force` with
   * a snapshot or `--at`: a deleted namespace, a bad upgrade). Then quorum holding does not rule the snapshot out.
   */
  rollback?: boolean;
  /**
   * Set when the members that answer hold less than the newest verified backup (root-causes.ts dataLostFinding):
   * etcd started empty or from an older copy. Then answering is not health: the snapshot plan is the one that applies.
   */
  dataLost?: string;
}

/** What a step does. `via` names the member whose client URL carries cluster API calls. */
export type StepAction =
  | { kind: 'ensure-stopped'; members: string[] }
  /** `dataKnown`: the executor saw the data dir; false: nothing here can see the member's disk. */
  | { kind: 'start'; member: string; dataKnown: boolean }
  | { kind: 'wait-healthy'; members: string[] }
  | { kind: 'wait-caught-up'; member: string; via: string }
  | { kind: 'force-new-cluster'; member: string }
  | { kind: 'wait-writable'; member: string }
  | { kind: 'restart-normal'; member: string }
  | { kind: 'remove-member'; member: string; memberId: string; via: string }
  | { kind: 'add-member'; member: string; peerUrl: string; oldId: string; via: string }
  | { kind: 'wipe'; member: string; via: string }
  | { kind: 'join'; member: string; initialCluster: string; via: string }
  | { kind: 'promote'; member: string; peerUrl: string; via: string }
  | {
      kind: 'restore';
      member: string;
      file: string;
      initialCluster: string;
      token: string;
      /** etcd >= 3.5 with etcdutl: --bump-revision N --mark-compacted (Kubernetes informers must resync). */
      bumpRevision: number | null;
    }
  | { kind: 'start-all'; members: string[]; token: string };

export type PlanStep = StepAction & {
  /** Unique in the plan: `3:force-new-cluster:cp3`. */
  id: string;
  /** Short name for logs and JSON: `force-new-cluster cp3`. */
  name: string;
  /** One sentence a person can follow by hand. */
  title: string;
  /** The machine that acts (runbooks put the step in this node's script). */
  node: string;
};

export interface MemberRef {
  name: string;
  peerUrl: string;
  clientUrl: string;
  /** Id in the old cluster, '' when unknown. */
  id: string;
}

export interface ExecutablePlan {
  name: PlanName;
  title: string;
  /** Plain words: what is lost if this plan runs. */
  dataLoss: string;
  /** Why this plan fits the cluster as it is now. */
  why: string;
  steps: PlanStep[];
  estimateSeconds: number;
  /** Every member at planning time: executors look names up here. */
  members: MemberRef[];
  notes: string[];
  snapshot?: SnapshotInfo;
}

/**
 * A plan as doctor and serve show it: one of recover's plans, summarized. `steps` are the titles of recover's steps,
 * `when` the reason the plan applies, `command` what runs it.
 */
export interface RecoveryPlan {
  name: PlanName;
  title: string;
  /** Plain words: what is lost if this plan runs. */
  dataLoss: string;
  /** Why this plan applies to the cluster as it is. */
  when: string;
  steps: string[];
  /** The command that shows this plan's exact steps and, with --yes, walks them. */
  command: string;
}

/** An old member that must not run while the plan rebuilds the cluster. */
export interface Blocker {
  member: string;
  why: string;
}

export interface Candidate {
  name: PlanName;
  applies: boolean;
  /** Why it applies or not, in one sentence. */
  reason: string;
}

export type PlanDecision =
  | { kind: 'nothing-to-do'; reason: string; candidates: Candidate[] }
  | { kind: 'no-plan'; reason: string; candidates: Candidate[] }
  | { kind: 'plan'; plan: ExecutablePlan; blockers: Blocker[]; candidates: Candidate[] };
