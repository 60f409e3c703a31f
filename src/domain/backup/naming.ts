/**
 * Object names of etcd snapshots in a store: `etcd/2026-11-27T150905.123Z-home.db` (`.db.age` when encrypted), with
 * `NAME.manifest.json` beside each. The creation instant is in the name, so a listing alone orders and dates backups
 * (retention still works when a manifest is lost), and names sort chronologically as text.
 */

export const SNAPSHOT_PREFIX = 'etcd/';
export const MANIFEST_SUFFIX = '.manifest.json';

const NAME = /^etcd\/(\d{4}-\d{2}-\d{2}T\d{6}\.\d{3}Z)-([A-Za-z0-9._-]+)\.db(\.age)?$/;
const STAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2})(\d{2})(\d{2})\.(\d{3})Z$/;

/** `2026-11-27T150905.123Z` (the instant in a backup's object name) as epoch milliseconds; undefined if not one. */
export function parseStamp(stamp: string): number | undefined {
  const m = STAMP.exec(stamp);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, ms] = m.map(Number) as number[];
  const at = Date.UTC(y!, mo! - 1, d!, h!, mi!, s!, ms!);
  // Date.UTC rolls Feb 30 over to March and second 60 to the next minute: such a name is not one of ours.
  const back = new Date(at);
  const same = back.getUTCDate() === d && back.getUTCHours() === h && back.getUTCMinutes() === mi;
  return Number.isNaN(at) || !same || back.getUTCSeconds() !== s ? undefined : at;
}

export interface SnapshotName {
  name: string;
  /** Epoch milliseconds. */
  createdAt: number;
  cluster: string;
  encrypted: boolean;
}

/** A cluster name made safe for an object key: letters, digits, `.`, `_`, `-`; anything else becomes `-`. */
export function safeClusterName(cluster: string | undefined): string {
  const cleaned = (cluster ?? '').replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[-.]+|[-.]+$/g, '');
  return cleaned || 'etcd';
}

export function snapshotName(createdAt: number, cluster: string | undefined, encrypted: boolean): string {
  const iso = new Date(createdAt).toISOString(); // 2026-11-27T15:09:05.123Z
  const stamp = `${iso.slice(0, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 23)}Z`;
  return `${SNAPSHOT_PREFIX}${stamp}-${safeClusterName(cluster)}.db${encrypted ? '.age' : ''}`;
}

/** The parts of a snapshot object name, or undefined when `name` is not one (manifests, temp files, strangers). */
export function parseSnapshotName(name: string): SnapshotName | undefined {
  const m = NAME.exec(name);
  const createdAt = m ? parseStamp(m[1]!) : undefined;
  if (!m || createdAt === undefined) return undefined;
  return { name, createdAt, cluster: m[2]!, encrypted: m[3] !== undefined };
}

export function manifestNameFor(snapshot: string): string {
  return `${snapshot}${MANIFEST_SUFFIX}`;
}

/** The snapshot a manifest describes, or undefined when `name` is not a manifest. */
export function snapshotOfManifest(name: string): string | undefined {
  return name.endsWith(MANIFEST_SUFFIX) ? name.slice(0, -MANIFEST_SUFFIX.length) : undefined;
}
