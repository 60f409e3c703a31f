import { MYSQL_DUMPS } from '../adapters/mysql/catalog.js';
import { executePrune, readCatalog, readCatalogOf } from '../adapters/snapshot/catalog.js';
import type { BackupStore } from '../adapters/store/types.js';
import { type Catalog, type Drilled, type PrunePlan, planPrune } from '../domain/backup/catalog.js';
import type { BackupManifest } from '../domain/backup/manifest.js';
import { DEFAULT_LOG_WINDOW_MS } from '../domain/etcdlog/retention.js';
import { HELM_PREFIX, helmCaptureCatalog } from '../domain/helm/captures.js';
import type { RetentionPolicy } from '../domain/retention.js';
import { executeLogPrune, type LogPrune, planLogPrune } from './etcdlog/retention.js';

export type CatalogReader = (store: BackupStore) => Promise<Catalog<Drilled>>;

export const readDumps: CatalogReader = (store) => readCatalogOf(store, MYSQL_DUMPS);
export const readHelmCaptures: CatalogReader = async (store) => helmCaptureCatalog(await store.list(HELM_PREFIX));

/** What the change log's retention decided, as `prune --json` shows it. */
export interface LogPruneSummary {
  windowMs: number;
  keepSnapshots: Array<{ name: string; chain: string }>;
  chains: Array<{ chain: string; remove: string[]; deleteChain: boolean; cutThrough?: number; base?: string }>;
}

/**
 * Plan retention over the store's backups of one kind (etcd snapshots unless told) and, unless dry-run, carry it out.
 * For etcd snapshots the change log's retention comes with it (every point of the last `logWindowMs` stays
 * restorable, and the snapshots that needs stay). Used by `prune`, `backup etcd --every` and serve's schedules.
 */
export async function pruneStore(
  store: BackupStore,
  policy: RetentionPolicy | ((group: string) => RetentionPolicy),
  now: number,
  dryRun: boolean,
  read: CatalogReader = readCatalog,
  logWindowMs: number = DEFAULT_LOG_WINDOW_MS,
): Promise<{ plan: PrunePlan; deleted: string[]; log?: LogPruneSummary }> {
  const catalog = await read(store);
  const plan = planPrune(catalog, policy, now);
  const log: LogPrune | undefined =
    read === readCatalog
      ? await planLogPrune(store, catalog as Catalog<BackupManifest>, plan, now, logWindowMs)
      : undefined;
  const deleted = dryRun ? [] : await executePrune(store, plan);
  if (log && !dryRun) deleted.push(...(await executeLogPrune(store, log, now)));
  if (!dryRun && store.reclaimLeftovers) {
    // Temp files of killed runs, beside the backups of this kind (they are never listed, so never in the plan).
    const kinds = new Set(
      catalog.entries.map((e) => (e.name.includes('/') ? e.name.slice(0, e.name.indexOf('/') + 1) : '')),
    );
    for (const prefix of kinds.size ? kinds : ['etcd/']) deleted.push(...(await store.reclaimLeftovers(prefix)).names);
  }
  return { plan, deleted, ...(log ? { log: summarize(log) } : {}) };
}

function summarize(log: LogPrune): LogPruneSummary {
  return {
    windowMs: log.windowMs,
    keepSnapshots: log.plan.keepSnapshots,
    chains: log.plan.chains.map((c) => ({
      chain: c.chain,
      remove: c.remove.map((o) => o.name),
      deleteChain: c.deleteChain,
      ...(c.cut ? { cutThrough: c.cut.through, base: c.cut.base } : {}),
    })),
  };
}
