import type { EtcdConnectionOptions } from '../adapters/etcd/client.js';
import { EtcdKv } from '../adapters/lock/etcd-kv.js';
import { listLocks } from '../adapters/lock/etcd-lock.js';

/** Who holds a maintenance lock slot right now (what `lifeboat maintain status` shows). */
export type LockInfo = Awaited<ReturnType<typeof listLocks>>[number];

/**
 * Reads the maintenance locks the agents keep in etcd. One client, reused between probes; reads need quorum, so
 * without it (or on any error) the answer is null: unknown, not "free".
 */
export class LockReader {
  private kv: EtcdKv | undefined;

  constructor(
    private readonly endpoints: string[],
    private readonly connection: EtcdConnectionOptions,
    private readonly deadlineMs: number,
  ) {}

  async read(): Promise<LockInfo[] | null> {
    try {
      this.kv ??= new EtcdKv(this.endpoints, this.connection, this.deadlineMs);
      return await listLocks(this.kv);
    } catch {
      return null;
    }
  }

  close(): void {
    this.kv?.close();
    this.kv = undefined;
  }
}
