import { listChains, type StoredChain, writeChainManifest } from '../../adapters/etcdlog/store.js';
import type { BackupStore } from '../../adapters/store/types.js';
import type { Catalog, PrunePlan } from '../../domain/backup/catalog.js';
import type { BackupManifest } from '../../domain/backup/manifest.js';
import { chainManifestName, type LogObjectName } from '../../domain/etcdlog/chain.js';
import { type LogPrunePlan, planLogRetention } from '../../domain/etcdlog/retention.js';
import { decodeSegment } from '../../domain/etcdlog/segment.js';

/**
 * Retention of the change log beside the snapshots' (planLogRetention): which log objects and chains go, and which
 * snapshots GFS would delete must stay because a kept window replays from them. Called by pruneStore for etcd.
 */

export interface LogPrune {
  windowMs: number;
  plan: LogPrunePlan;
  /** Leftovers before a chain's start (a prune that stopped between its manifest and its deletes). */
  leftovers: LogObjectName[];
  chains: StoredChain[];
}

/** Plans the log's retention and moves the snapshots it needs from `plan.remove` to `plan.keep` (reason log-base). */
export async function planLogPrune(
  store: BackupStore,
  catalog: Catalog<BackupManifest>,
  plan: PrunePlan,
  now: number,
  windowMs: number,
): Promise<LogPrune | undefined> {
  const { chains } = await listChains(store);
  if (chains.length === 0) return undefined;
  const removed = new Set(plan.remove.map((r) => r.name));
  const logPlan = planLogRetention({
    now,
    windowMs,
    snapshots: catalog.entries.flatMap((e) =>
      e.manifest
        ? [
            {
              name: e.name,
              revision: e.manifest.revision,
              createdAt: e.createdAt,
              clusterId: e.manifest.clusterId,
              kept: !removed.has(e.name),
            },
          ]
        : [],
    ),
    chains: chains.map((c) => ({
      chain: c.manifest.chain,
      clusterId: c.manifest.clusterId,
      start: c.layout.baseRevision,
      objects: c.layout.objects,
      ...(c.layout.problem ? { problem: c.layout.problem } : {}),
    })),
  });
  for (const k of logPlan.keepSnapshots) {
    plan.remove = plan.remove.filter((r) => r.name !== k.name);
    plan.keep.push({ name: k.name, reasons: ['log-base'] });
  }
  const leftovers = chains.flatMap((c) => c.layout.superseded.filter((o) => o.last <= c.layout.baseRevision));
  return { windowMs, plan: logPlan, leftovers, chains };
}

/**
 * Carries a log plan out so that a stop at any point leaves every chain readable: the manifest first records where
 * the chain now starts (objects before it are then leftovers nobody reads), then the objects go oldest first; a
 * whole chain is first cut past its last object, so its manifest goes last. Returns the objects deleted.
 */
export async function executeLogPrune(store: BackupStore, prune: LogPrune, now: number): Promise<string[]> {
  const deleted: string[] = [];
  const remove = async (name: string) => {
    await store.delete(name);
    deleted.push(name);
  };
  for (const o of prune.leftovers) await remove(o.name);
  for (const p of prune.plan.chains) {
    const stored = prune.chains.find((c) => c.manifest.chain === p.chain)!;
    const through = p.deleteChain ? stored.layout.lastRevision : p.cut!.through;
    const next = stored.layout.objects.find((o) => o.first === through + 1);
    await writeChainManifest(store, {
      ...stored.manifest,
      pruned: {
        through,
        prev: next ? await linkOf(store, next) : null,
        base: p.cut?.base ?? stored.manifest.base,
        at: p.cut?.baseCreatedAt ?? now,
      },
    });
    for (const o of p.remove) await remove(o.name);
    if (p.deleteChain) await remove(chainManifestName(p.chain));
  }
  return deleted;
}

/** The hash `object` links to, from its header; null when it cannot be read here (age-encrypted, unreadable). */
async function linkOf(store: BackupStore, object: LogObjectName): Promise<string | null> {
  if (object.encrypted) return null;
  const bytes = await store.readSmall(object.name).catch(() => undefined);
  const decoded = bytes && decodeSegment(bytes);
  return decoded && !('error' in decoded) ? decoded.header.prev : null;
}
