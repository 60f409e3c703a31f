/**
 * Whether a snapshot belongs to the cluster it is about to replace, decided before anything stops. Pure: the cluster
 * ids and revisions come from the members that answer, the names from the manifest and the config.
 */

export interface SnapshotOrigin {
  revision: number;
  /** From its manifest; null when it has none. */
  clusterId: string | null;
  clusterName?: string;
}

export interface ClusterSeen {
  /** Cluster ids the answering members report (empty when none answers). */
  clusterIds: string[];
  /** Highest store revision among the answering members. */
  revision?: number;
  /** cluster.name of the config. */
  name?: string;
}

export interface SnapshotFit {
  /** Set when the snapshot must not be restored (unless forced). */
  refuse?: string;
  /** What the plan must say before it runs. */
  warnings: string[];
}

export function snapshotFit(snap: SnapshotOrigin, cluster: ClusterSeen, force: boolean): SnapshotFit {
  const warnings: string[] = [];
  const ids = [...new Set(cluster.clusterIds)];
  let foreign: string | undefined;
  if (snap.clusterId === null) {
    warnings.push('the snapshot has no manifest: which cluster it was taken of cannot be checked');
  } else if (ids.length > 0 && !ids.includes(snap.clusterId)) {
    foreign = `the snapshot was taken of another cluster (id ${hex(snap.clusterId)}${named(snap.clusterName)}); the members here answer as cluster ${ids.map(hex).join(', ')}`;
  } else if (ids.length === 0 && snap.clusterName && cluster.name && snap.clusterName !== cluster.name) {
    foreign = `the snapshot was taken of cluster "${snap.clusterName}"; this config is for "${cluster.name}"`;
  }
  if (foreign && !force) {
    return { refuse: `${foreign}: refusing it (pass --force to restore it anyway)`, warnings };
  }
  if (foreign) warnings.push(`WARNING: ${foreign}; --force restores it anyway, replacing this cluster's data`);
  if (cluster.revision !== undefined && !foreign) {
    if (snap.revision < cluster.revision) {
      warnings.push(
        `members answer at revision ${cluster.revision}: the ${cluster.revision - snap.revision} revisions after the snapshot's ${snap.revision} are lost`,
      );
    } else if (snap.revision > cluster.revision) {
      warnings.push(
        `the snapshot (revision ${snap.revision}) is newer than every member that answers (revision ${cluster.revision})`,
      );
    }
  }
  return { warnings };
}

/** etcd prints cluster ids in hex (etcdctl member list, logs); manifests keep the API's decimal. */
function hex(id: string): string {
  try {
    return BigInt(id).toString(16);
  } catch {
    return id;
  }
}

function named(name: string | undefined): string {
  return name ? `, "${name}"` : '';
}
