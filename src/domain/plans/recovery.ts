import type { ClusterState } from '../quorum.js';

/** What a recovery plan needs to know of a member (a subset of the diagnosis' member view). */
export interface PlanMember {
  name: string;
  reachable: boolean;
  learner: boolean;
  raftAppliedIndex: number | null;
  raftIndex: number | null;
}

export type PlanName = 'restart' | 'survivor' | 'snapshot';

export interface RecoveryPlan {
  name: PlanName;
  title: string;
  /** Plain words: what is lost if this plan runs. */
  dataLoss: string;
  /** Why this plan is ranked where it is. */
  when: string;
  steps: string[];
  /** The command that shows this plan's exact steps and, with --yes, walks them. */
  command: string;
}

/**
 * Recovery plans, safest first, as doctor describes them (`lifeboat recover`, src/domain/recover, plans the exact
 * steps from the same diagnosis plus what the executor sees of each machine). The ranking says which to try first:
 * restart loses nothing, survivor loses at most what the freshest survivor had not applied, snapshot loses every
 * change after the snapshot.
 */
export function recoveryPlans(input: { state: ClusterState; members: PlanMember[] }): RecoveryPlan[] {
  const voting = input.members.filter((m) => !m.learner);
  const down = voting.filter((m) => !m.reachable).map((m) => m.name);
  const survivors = voting.filter((m) => m.reachable);
  const plans: RecoveryPlan[] = [];
  if (down.length) {
    plans.push({
      name: 'restart',
      title: 'Restart the missing members',
      dataLoss: 'none',
      when: 'their machines and data directories are intact (a reboot, a crash, a stopped service).',
      command: 'lifeboat recover --plan restart',
      steps: [
        ...down.map((name) => `Start etcd on ${name} with its existing data directory (do not wipe it).`),
        'Wait until a leader is elected and every member answers (`lifeboat doctor`).',
        'Wait until each restarted member has caught up in raft index before any other maintenance.',
      ],
    });
  }
  const freshest = freshestSurvivor(survivors);
  if (freshest && input.state === 'quorum-lost') {
    plans.push({
      name: 'survivor',
      title: `Rebuild from the freshest survivor (${freshest.name})`,
      dataLoss: `none beyond what ${freshest.name} had not applied (applied index ${freshest.raftAppliedIndex ?? freshest.raftIndex ?? 'unknown'}).`,
      when: 'the missing members cannot come back with their data (lost disks, dead machines).',
      command: 'lifeboat recover --plan survivor',
      steps: [
        `Make sure every other old member is stopped (${voting
          .filter((m) => m !== freshest)
          .map((m) => m.name)
          .join(', ')}): a member that comes back later would fight the rebuilt cluster.`,
        `Take a snapshot of ${freshest.name}'s data first (copy its data directory) in case anything goes wrong.`,
        `Restart ${freshest.name} once with --force-new-cluster: it becomes a one-member cluster with all its data.`,
        `Confirm ${freshest.name} accepts writes, then restart it normally (without --force-new-cluster).`,
        ...voting
          .filter((m) => m !== freshest)
          .map(
            (m) =>
              `Re-add ${m.name}: remove its old entry, \`etcdctl member add --learner\`, wipe its data directory, start it with --initial-cluster-state=existing, wait until it catches up, promote it.`,
          ),
      ],
    });
  }
  if (input.state === 'quorum-lost' || input.state === 'unreachable') {
    plans.push({
      name: 'snapshot',
      title: 'Restore the latest verified snapshot',
      dataLoss: 'every change made after the snapshot was taken.',
      when: 'no member has usable data left.',
      command: 'lifeboat recover --plan snapshot --snapshot FILE',
      steps: [
        'Stop etcd on every member.',
        'Pick the newest snapshot that passed `lifeboat verify`.',
        'Restore it on every member with one new cluster token (`etcdutl snapshot restore`, or `etcdctl snapshot restore` on 3.4); on etcd >= 3.5 add --bump-revision and --mark-compacted so Kubernetes caches resync.',
        'Start every member together, then check with `lifeboat doctor`.',
      ],
    });
  }
  return plans;
}

/** The reachable voting member with the highest applied raft index: it holds the most committed data. */
export function freshestSurvivor<M extends PlanMember>(survivors: M[]): M | undefined {
  const index = (m: PlanMember) => m.raftAppliedIndex ?? m.raftIndex ?? -1;
  return [...survivors].sort((a, b) => index(b) - index(a) || a.name.localeCompare(b.name))[0];
}
