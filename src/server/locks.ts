import type { EtcdConnectionOptions } from '../adapters/etcd/client.js';
import { EtcdKv } from '../adapters/lock/etcd-kv.js';
import { type LockBackend, openLockBackend, readLockHolders } from '../adapters/lock/open.js';
import type { LifeboatConfig } from '../domain/config.js';
import type { LockHolder } from '../domain/maintenance/lock-view.js';

/** Who holds a maintenance lock slot right now (what `lifeboat maintain status` shows). */
export type LockInfo = LockHolder;

/**
 * Reads the maintenance locks the agents keep, on the backend the config names (etcd keys, or Kubernetes Leases).
 * One client, reused between probes; etcd reads need quorum, so without it (or on any error) the answer is null:
 * unknown, not "free".
 */
export class LockReader {
  private kv: EtcdKv | undefined;
  private backend: LockBackend | undefined;

  constructor(
    private readonly endpoints: string[],
    private readonly connection: EtcdConnectionOptions,
    private readonly deadlineMs: number,
    private readonly config?: LifeboatConfig,
  ) {}

  async read(): Promise<LockInfo[] | null> {
    try {
      this.kv ??= new EtcdKv(this.endpoints, this.connection, this.deadlineMs);
      this.backend ??= await openLockBackend(this.config, this.kv, {});
      return await readLockHolders(this.backend);
    } catch {
      return null;
    }
  }

  close(): void {
    this.kv?.close();
    this.kv = undefined;
    this.backend = undefined;
  }
}
