import { MYSQL_DUMPS } from '../adapters/mysql/catalog.js';
import { executePrune, readCatalog, readCatalogOf } from '../adapters/snapshot/catalog.js';
import type { BackupStore } from '../adapters/store/types.js';
import { type Catalog, type Drilled, type PrunePlan, planPrune } from '../domain/backup/catalog.js';
import { HELM_PREFIX, helmCaptureCatalog } from '../domain/helm/captures.js';
import type { RetentionPolicy } from '../domain/retention.js';

export type CatalogReader = (store: BackupStore) => Promise<Catalog<Drilled>>;

export const readDumps: CatalogReader = (store) => readCatalogOf(store, MYSQL_DUMPS);
export const readHelmCaptures: CatalogReader = async (store) => helmCaptureCatalog(await store.list(HELM_PREFIX));

/**
 * Plan retention over the store's backups of one kind (etcd snapshots unless told) and, unless dry-run, carry it out.
 * Used by `prune`, `backup etcd --every` and serve's schedules.
 */
export async function pruneStore(
  store: BackupStore,
  policy: RetentionPolicy | ((group: string) => RetentionPolicy),
  now: number,
  dryRun: boolean,
  read: CatalogReader = readCatalog,
): Promise<{ plan: PrunePlan; deleted: string[] }> {
  const catalog = await read(store);
  const plan = planPrune(catalog, policy, now);
  const deleted = dryRun ? [] : await executePrune(store, plan);
  if (!dryRun && store.reclaimLeftovers) {
    // Temp files of killed runs, beside the backups of this kind (they are never listed, so never in the plan).
    const kinds = new Set(
      catalog.entries.map((e) => (e.name.includes('/') ? e.name.slice(0, e.name.indexOf('/') + 1) : '')),
    );
    for (const prefix of kinds.size ? kinds : ['etcd/']) deleted.push(...(await store.reclaimLeftovers(prefix)).names);
  }
  return { plan, deleted };
}
