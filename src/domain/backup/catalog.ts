import { applyRetention, type KeepReason, type RetentionPolicy } from '../retention.js';
import type { BackupManifest } from './manifest.js';
import { manifestNameFor, parseSnapshotName, parseStamp, snapshotOfManifest } from './naming.js';

/**
 * The backups of one kind in a store (etcd snapshots, MySQL dumps; Helm captures through helm/captures.ts), from a
 * listing plus their manifests; and what retention removes. Pure.
 */

export interface ListedObject {
  name: string;
  size: number;
  modifiedAt: number;
}

/** What a backup's object name says; retention applies to each group on its own (MySQL: one group per source). */
export interface BackupName {
  /** Epoch milliseconds. */
  createdAt: number;
  encrypted: boolean;
  group: string;
}

/** Every manifest records its latest restore drill. */
export interface Drilled {
  verified: { ok: boolean } | null;
}

export interface CatalogEntry<M extends Drilled = BackupManifest> {
  name: string;
  /** Epoch milliseconds, from the object name. */
  createdAt: number;
  size: number;
  encrypted: boolean;
  group: string;
  manifest?: M;
  /** Set when a manifest exists but cannot be read. */
  manifestError?: string;
  /** true/false: the latest restore drill passed/failed; null: never verified (or no manifest). */
  verified: boolean | null;
  /** The objects a prune deletes, in order, when not just the backup and its manifest (a Helm capture's files). */
  objects?: string[];
}

export interface Catalog<M extends Drilled = BackupManifest> {
  /** Newest first. */
  entries: CatalogEntry<M>[];
  /** Manifests whose backup is gone (an interrupted prune). */
  orphanManifests: string[];
}

export type ManifestLookup<M extends Drilled = BackupManifest> = (
  backup: string,
) => { manifest: M } | { error: string } | undefined;

/** etcd snapshots: one group, whatever the cluster name in the file name (as it always was). */
export function etcdBackupName(name: string): BackupName | undefined {
  const parsed = parseSnapshotName(name);
  return parsed && { createdAt: parsed.createdAt, encrypted: parsed.encrypted, group: '' };
}

export function buildCatalog<M extends Drilled = BackupManifest>(
  objects: ListedObject[],
  manifestOf: ManifestLookup<M>,
  parseName: (name: string) => BackupName | undefined = etcdBackupName,
): Catalog<M> {
  const names = new Set(objects.map((o) => o.name));
  const entries: CatalogEntry<M>[] = [];
  for (const o of objects) {
    const parsed = parseName(o.name);
    if (!parsed) continue;
    const found = manifestOf(o.name);
    const entry: CatalogEntry<M> = {
      name: o.name,
      createdAt: parsed.createdAt,
      size: o.size,
      encrypted: parsed.encrypted,
      group: parsed.group,
      verified: null,
    };
    if (found && 'manifest' in found) {
      entry.manifest = found.manifest;
      entry.verified = found.manifest.verified ? found.manifest.verified.ok : null;
    } else if (found) entry.manifestError = found.error;
    entries.push(entry);
  }
  entries.sort((a, b) => b.createdAt - a.createdAt || b.name.localeCompare(a.name));
  const orphanManifests = objects
    .map((o) => o.name)
    .filter((n) => {
      const backup = snapshotOfManifest(n);
      return backup !== undefined && parseName(backup) !== undefined && !names.has(backup);
    });
  return { entries, orphanManifests };
}

/** Newest backup whose latest drill passed, if any. */
export function newestVerified<M extends Drilled>(catalog: Catalog<M>): CatalogEntry<M> | undefined {
  return catalog.entries.find((e) => e.verified === true);
}

export interface PrunePlan {
  keep: Array<{ name: string; reasons: KeepReason[] }>;
  /** Each removal deletes the snapshot first, then its manifest (a crash between leaves only an orphan manifest). */
  remove: Array<{ name: string; objects: string[]; createdAt: number; size: number }>;
  orphanManifests: string[];
}

/**
 * Retention over a catalog, group by group: each group (a MySQL source) keeps its own last, hourly, daily... and its
 * own newest verified backup, by its own policy when `policy` is a function of the group.
 */
export function planPrune<M extends Drilled>(
  catalog: Catalog<M>,
  policy: RetentionPolicy | ((group: string) => RetentionPolicy),
  now: number,
): PrunePlan {
  const policyOf = typeof policy === 'function' ? policy : () => policy;
  const byName = new Map(catalog.entries.map((e) => [e.name, e]));
  const groups = new Map<string, CatalogEntry<M>[]>();
  for (const e of catalog.entries) {
    const group = groups.get(e.group);
    if (group) group.push(e);
    else groups.set(e.group, [e]);
  }
  const plan: PrunePlan = {
    keep: [],
    remove: [],
    orphanManifests: catalog.orphanManifests.filter((n) => !inProgress(n, now)),
  };
  for (const [group, entries] of groups) {
    const decision = applyRetention(
      entries.map((e) => ({ id: e.name, createdAt: e.createdAt, verified: e.verified === true })),
      policyOf(group),
      now,
    );
    plan.keep.push(...decision.keep.map((k) => ({ name: k.id, reasons: k.reasons })));
    for (const name of decision.remove) {
      const e = byName.get(name)!;
      const objects = e.objects ?? (e.manifest || e.manifestError ? [name, manifestNameFor(name)] : [name]);
      plan.remove.push({ name, objects, createdAt: e.createdAt, size: e.size });
    }
  }
  return plan;
}

/**
 * A backup writes its manifest just before it commits the backup itself, so a manifest without its backup may be one
 * being written right now: prune leaves it alone for an hour (an interrupted backup's is removed after that).
 */
export const ORPHAN_GRACE_MS = 3_600_000;

function inProgress(manifest: string, now: number): boolean {
  const stamp = /(\d{4}-\d{2}-\d{2}T\d{6}\.\d{3}Z)/.exec(manifest)?.[1];
  const at = stamp ? parseStamp(stamp) : undefined;
  return at === undefined || at > now - ORPHAN_GRACE_MS;
}
