import { applyRetention, type KeepReason, type RetentionPolicy } from '../retention.js';
import type { BackupManifest } from './manifest.js';
import { manifestNameFor, parseSnapshotName, snapshotOfManifest } from './naming.js';

/** The etcd snapshots in a store, from a listing plus their manifests; and what retention removes. Pure. */

export interface ListedObject {
  name: string;
  size: number;
  modifiedAt: number;
}

export interface CatalogEntry {
  name: string;
  /** Epoch milliseconds, from the object name. */
  createdAt: number;
  size: number;
  encrypted: boolean;
  manifest?: BackupManifest;
  /** Set when a manifest exists but cannot be read. */
  manifestError?: string;
  /** true/false: the latest restore drill passed/failed; null: never verified (or no manifest). */
  verified: boolean | null;
}

export interface Catalog {
  /** Newest first. */
  entries: CatalogEntry[];
  /** Manifests whose snapshot is gone (an interrupted prune). */
  orphanManifests: string[];
}

export type ManifestLookup = (snapshot: string) => { manifest: BackupManifest } | { error: string } | undefined;

export function buildCatalog(objects: ListedObject[], manifestOf: ManifestLookup): Catalog {
  const names = new Set(objects.map((o) => o.name));
  const entries: CatalogEntry[] = [];
  for (const o of objects) {
    const parsed = parseSnapshotName(o.name);
    if (!parsed) continue;
    const found = manifestOf(o.name);
    const entry: CatalogEntry = {
      name: o.name,
      createdAt: parsed.createdAt,
      size: o.size,
      encrypted: parsed.encrypted,
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
      const snap = snapshotOfManifest(n);
      return snap !== undefined && parseSnapshotName(snap) !== undefined && !names.has(snap);
    });
  return { entries, orphanManifests };
}

/** Newest snapshot whose latest drill passed, if any. */
export function newestVerified(catalog: Catalog): CatalogEntry | undefined {
  return catalog.entries.find((e) => e.verified === true);
}

export interface PrunePlan {
  keep: Array<{ name: string; reasons: KeepReason[] }>;
  /** Each removal deletes the snapshot first, then its manifest (a crash between leaves only an orphan manifest). */
  remove: Array<{ name: string; objects: string[]; createdAt: number; size: number }>;
  orphanManifests: string[];
}

export function planPrune(catalog: Catalog, policy: RetentionPolicy, now: number): PrunePlan {
  const decision = applyRetention(
    catalog.entries.map((e) => ({ id: e.name, createdAt: e.createdAt, verified: e.verified === true })),
    policy,
    now,
  );
  const byName = new Map(catalog.entries.map((e) => [e.name, e]));
  return {
    keep: decision.keep.map((k) => ({ name: k.id, reasons: k.reasons })),
    remove: decision.remove.map((name) => {
      const e = byName.get(name)!;
      const objects = e.manifest || e.manifestError ? [name, manifestNameFor(name)] : [name];
      return { name, objects, createdAt: e.createdAt, size: e.size };
    }),
    orphanManifests: catalog.orphanManifests,
  };
}
