import { readMysqlManifest } from '../adapters/mysql/catalog.js';
import { readCatalog } from '../adapters/snapshot/catalog.js';
import type { BackupStore } from '../adapters/store/types.js';
import { type ChainInfo, chainWindows } from '../app/etcdlog/restore.js';
import { HELM_PREFIX, helmCaptureCatalog } from '../domain/helm/captures.js';
import { MYSQL_PREFIX, parseDumpName } from '../domain/mysql/manifest.js';
import { errorMessage } from '../errors.js';
import type { BackupItem } from './timeline.js';

/**
 * The backups the store holds, as timeline items: etcd snapshots from the catalog `backup list` reads, database dumps
 * from their object names and manifests (only those of the last `withinMs`, plus the newest of each source, since
 * each manifest is one more round trip on S3).
 */
export class InventoryCache {
  items: BackupItem[] = [];
  /** The change log's chains and the windows they restore (point-in-time restore). */
  chains: ChainInfo[] = [];
  error: string | null = null;
  private running: Promise<void> | undefined;
  private again = false;

  /** Re-reads the store; a call while a read runs asks for one more read after it (never two at once). */
  refresh(store: BackupStore | undefined, now: () => number): Promise<void> {
    if (!store) return Promise.resolve();
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        try {
          this.items = await readInventory(store, now(), 31 * 86_400_000);
          this.chains = (await chainWindows(store)).chains;
          this.error = null;
        } catch (err) {
          this.error = errorMessage(err);
        }
      } while (this.again);
      this.running = undefined;
    })();
    return this.running;
  }

  async idle(): Promise<void> {
    await this.running;
  }
}

export async function readInventory(store: BackupStore, now: number, withinMs: number): Promise<BackupItem[]> {
  const items: BackupItem[] = [];
  const catalog = await readCatalog(store);
  for (const e of catalog.entries) {
    const v = e.manifest?.verified;
    items.push({
      kind: 'etcd',
      name: e.name,
      createdAt: e.createdAt,
      size: e.size,
      verified: v ? { ok: v.ok, at: Date.parse(v.at), problems: v.problems } : null,
    });
  }
  const dumps = (await store.list(MYSQL_PREFIX))
    .map((o) => ({ o, parsed: parseDumpName(o.name) }))
    .filter((d) => d.parsed !== undefined);
  const newestBySource = new Map<string, string>();
  for (const d of dumps) {
    const prev = newestBySource.get(d.parsed!.source);
    if (!prev || prev < d.parsed!.stamp) newestBySource.set(d.parsed!.source, d.parsed!.stamp);
  }
  const wanted = dumps.filter(
    (d) => now - d.o.modifiedAt <= withinMs || newestBySource.get(d.parsed!.source) === d.parsed!.stamp,
  );
  const found = await Promise.all(wanted.map((d) => readMysqlManifest(store, d.o.name).catch(() => undefined)));
  wanted.forEach((d, i) => {
    const m = found[i];
    const manifest = m && 'manifest' in m ? m.manifest : undefined;
    const v = manifest?.verified;
    items.push({
      kind: `mysql/${d.parsed!.source}`,
      name: d.o.name,
      createdAt: manifest ? Date.parse(manifest.createdAt) : d.o.modifiedAt,
      size: d.o.size,
      verified: v ? { ok: v.ok, at: Date.parse(v.at), problems: v.problems } : null,
    });
  });
  items.push(...(await helmCaptures(store)));
  return items;
}

/** Helm captures: complete ones only (index.json is written last), sized by everything under their prefix. */
async function helmCaptures(store: BackupStore): Promise<BackupItem[]> {
  return helmCaptureCatalog(await store.list(HELM_PREFIX)).entries.map((e) => ({
    kind: 'helm',
    name: e.name,
    createdAt: e.createdAt,
    size: e.size,
    verified: null,
  }));
}
