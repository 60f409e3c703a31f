import { guardAfter } from '../../domain/etcdlog/replay.js';
import type { RevisionGroup } from '../../domain/etcdlog/segment.js';
import { EtcdConnection } from '../etcd/connection.js';
import { toNumber } from '../etcd/mapping.js';
import type { RawTxnResponse } from '../etcd/proto.js';

/**
 * Applies logged revisions to a scratch etcd, each as one Txn, by the replay rule of ADR 010: the Txn of revision r
 * must come out as revision r exactly. Up to `window` Txns are in flight; each one compares a key the previous
 * revision put (mod revision == r-1), so one that overtakes its predecessor fails without writing and is resent once
 * the predecessor is in. Leases the log names are granted with their own id (TTL LEASE_TTL_S) before first use, and
 * every lease of the scratch member is kept alive while the replay runs: a lease expiring there would write a
 * revision the source never had.
 */

const LEASE_TTL_S = 3600;
const KEEPALIVE_EVERY_MS = 1000;
const DEADLINE_MS = 30_000;

export class Replayer {
  private readonly conn: EtcdConnection;
  private readonly leases = new Set<string>();
  private inflight = new Map<number, Promise<void>>();
  private previous: RevisionGroup | undefined;
  private previousDone: Promise<void> = Promise.resolve();
  private failure: unknown;
  private keepAlive: NodeJS.Timeout | undefined;
  revisions = 0;
  events = 0;

  constructor(
    endpoint: string,
    private readonly window = 64,
  ) {
    this.conn = new EtcdConnection(endpoint, {});
  }

  /** Learns the leases the restored snapshot holds and starts keeping them (and any granted later) alive. */
  async start(): Promise<void> {
    const res = await this.conn.unary<{ leases: Array<{ ID: string }> }>('Lease', 'LeaseLeases', {}, DEADLINE_MS);
    for (const l of res.leases) this.leases.add(String(l.ID));
    await this.keepAllAlive();
    this.keepAlive = setInterval(() => {
      this.keepAllAlive().catch((err: unknown) => {
        this.failure ??= err;
      });
    }, KEEPALIVE_EVERY_MS);
  }

  private async keepAllAlive(): Promise<void> {
    await Promise.all(
      [...this.leases].map((id) => this.conn.firstReply('Lease', 'LeaseKeepAlive', { ID: id }, DEADLINE_MS)),
    );
  }

  /** The store revision of the scratch member now. */
  async revision(): Promise<number> {
    const res = await this.conn.unary<{ header: { revision: string } }>('Maintenance', 'Status', {}, DEADLINE_MS);
    return toNumber(res.header.revision);
  }

  /** Queues revision `g` (revisions must come in order, consecutive from the restored snapshot's). */
  async apply(g: RevisionGroup): Promise<void> {
    if (this.failure) throw this.failure;
    for (const e of g.events) {
      if (e.type === 'put' && e.lease !== '0' && !this.leases.has(e.lease)) await this.grant(e.lease);
    }
    const guard = this.previous ? guardAfter(this.previous) : undefined;
    // A revision of deletes only gives nothing to compare against: wait for it before sending the next.
    if (this.previous && !guard) await this.previousDone;
    while (this.inflight.size >= this.window) await Promise.race(this.inflight.values());
    const predecessor = this.previousDone;
    const compare = guard
      ? [{ result: 'EQUAL', target: 'MOD', key: guard.key, mod_revision: String(guard.modRevision) }]
      : [];
    const success = g.events.map((e) =>
      e.type === 'put'
        ? { request_put: { key: e.key, value: e.value, lease: e.lease } }
        : { request_delete_range: { key: e.key } },
    );
    const done = (async () => {
      let res = await this.txn(compare, success);
      if (!res.succeeded) {
        await predecessor; // overtook its predecessor: no write happened; send again once it is in
        res = await this.txn(compare, success);
        if (!res.succeeded) throw new Error(`revision ${g.revision}: the guard failed twice (something else wrote?)`);
      }
      const got = toNumber(res.header.revision);
      if (got !== g.revision) {
        throw new Error(
          `revision ${g.revision} was replayed as revision ${got}: the scratch etcd wrote something else (an expired lease?)`,
        );
      }
    })();
    const tracked = done.then(
      () => {
        this.inflight.delete(g.revision);
      },
      (err: unknown) => {
        this.inflight.delete(g.revision);
        this.failure ??= err;
      },
    );
    this.inflight.set(g.revision, tracked);
    this.previous = g;
    this.previousDone = done.catch(() => undefined);
    this.revisions++;
    this.events += g.events.length;
  }

  /** Waits for every queued revision; throws the first failure. */
  async finish(): Promise<void> {
    await Promise.all(this.inflight.values());
    if (this.failure) throw this.failure;
  }

  close(): void {
    clearInterval(this.keepAlive);
    this.conn.close();
  }

  private txn(compare: unknown[], success: unknown[]): Promise<RawTxnResponse & { header: { revision: string } }> {
    return this.conn.unary('KV', 'Txn', { compare, success, failure: [] }, DEADLINE_MS);
  }

  private async grant(id: string): Promise<void> {
    try {
      const req = { TTL: String(LEASE_TTL_S), ID: id };
      const res = await this.conn.unary<{ error: string }>('Lease', 'LeaseGrant', req, DEADLINE_MS);
      if (res.error) throw new Error(res.error);
    } catch (err) {
      // The snapshot already holds it (granted before the snapshot, first used after): keep it.
      if (!/already exists/.test(err instanceof Error ? err.message : String(err))) {
        throw new Error(`cannot grant lease ${id}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    this.leases.add(id);
  }
}
