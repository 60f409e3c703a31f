import {
  type BackupName,
  buildCatalog,
  type Catalog,
  type Drilled,
  etcdBackupName,
  type PrunePlan,
} from '../../domain/backup/catalog.js';
import { type BackupManifest, parseManifest, renderManifest } from '../../domain/backup/manifest.js';
import { manifestNameFor, SNAPSHOT_PREFIX } from '../../domain/backup/naming.js';
import { errorMessage } from '../../errors.js';
import type { BackupStore } from '../store/types.js';

/** One kind of backup in a store: where its objects live, what their names say, how its manifests are read. */
export interface BackupKind<M extends Drilled> {
  prefix: string;
  parseName(name: string): BackupName | undefined;
  readManifest(store: BackupStore, backup: string): Promise<{ manifest: M } | { error: string } | undefined>;
}

export const ETCD_SNAPSHOTS: BackupKind<BackupManifest> = {
  prefix: SNAPSHOT_PREFIX,
  parseName: etcdBackupName,
  readManifest: (store, snapshot) => readManifest(store, snapshot),
};

/** The snapshots a store holds, with their manifests. */
export function readCatalog(store: BackupStore): Promise<Catalog> {
  return readCatalogOf(store, ETCD_SNAPSHOTS);
}

/** The backups of one kind a store holds, with their manifests (read a few at a time: S3 round trips add up). */
export async function readCatalogOf<M extends Drilled>(store: BackupStore, kind: BackupKind<M>): Promise<Catalog<M>> {
  const objects = await store.list(kind.prefix);
  const present = new Set(objects.map((o) => o.name));
  const manifests = new Map<string, { manifest: M } | { error: string }>();
  const wanted = objects.map((o) => o.name).filter((n) => kind.parseName(n) && present.has(manifestNameFor(n)));
  await eachLimited(wanted, 8, async (name) => {
    const found = await kind.readManifest(store, name);
    if (found) manifests.set(name, found);
  });
  return buildCatalog(objects, (name) => manifests.get(name), kind.parseName);
}

export function readManifest(
  store: BackupStore,
  snapshot: string,
): Promise<{ manifest: BackupManifest } | { error: string } | undefined> {
  return readSidecar(store, manifestNameFor(snapshot), parseManifest);
}

/**
 * A manifest stored beside its backup (etcd snapshot, MySQL dump): undefined when there is none, an error naming
 * the object when it cannot be read or parsed.
 */
export async function readSidecar<M>(
  store: BackupStore,
  name: string,
  parse: (text: string) => { manifest: M } | { error: string },
): Promise<{ manifest: M } | { error: string } | undefined> {
  let data: Buffer | undefined;
  try {
    data = await store.readSmall(name);
  } catch (err) {
    return { error: `cannot read ${name}: ${errorMessage(err)}` };
  }
  if (data === undefined) return undefined;
  const parsed = parse(data.toString('utf8'));
  return 'error' in parsed ? { error: `${name}: ${parsed.error}` } : parsed;
}

/**
 * Rewrites the manifest beside `snapshot` in one atomic put (readers see the old or the new one). The object name,
 * not manifest.name: a snapshot copied elsewhere (verify FILE) keeps the name it was taken under.
 */
export function writeManifest(store: BackupStore, snapshot: string, manifest: BackupManifest): Promise<void> {
  return store.putSmall(manifestNameFor(snapshot), renderManifest(manifest));
}

/**
 * Deletes what the plan removes, object by object in the plan's order (a backup before its manifest, a Helm capture's
 * index.json last), then orphan manifests. Returns the objects deleted.
 */
export async function executePrune(store: BackupStore, plan: PrunePlan): Promise<string[]> {
  const deleted: string[] = [];
  for (const item of plan.remove) {
    for (const name of item.objects) {
      await store.delete(name);
      deleted.push(name);
    }
  }
  for (const name of plan.orphanManifests) {
    await store.delete(name);
    deleted.push(name);
  }
  return deleted;
}

async function eachLimited<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
