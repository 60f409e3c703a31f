import { guardAfter } from '../../domain/etcdlog/replay.js';
import type { RevisionGroup } from '../../domain/etcdlog/segment.js';
import { EtcdConnection } from '../etcd/connection.js';
import { toNumber } from '../etcd/mapping.js';
import type { RawTxnResponse } from '../etcd/proto.js';

/**
 * Applies logged revisions to a scratch etcd, each as one Txn, by the replay rule of ADR 010: the Txn of revision r
 * must come out as revision r exactly. Txns are pipelined; each compares a key the previous revision put (mod
 * revision == r-1), so one that reaches etcd's raft log before its predecessor fails without writing.
 *
 * Go-back-N: etcd serves every request on a goroutine of its own, so pipelined Txns are sometimes proposed out of
 * order. After one fails, every later one in flight fails too (its guard names a revision that is not there yet).
 * The replayer then stops sending, lets what is in flight settle, and resends from the first failure, pipelined
 * again; the window halves on each such rewind and grows by one per success (resending each failed Txn only after
 * its predecessor, as a first version did, turned one reorder into a sequential replay: 450 instead of 3,000
 * revisions/s). A group is never in flight twice and is resent only after etcd said it did not write it.
 *
 * Leases the log names are granted with their own id (TTL LEASE_TTL_S) before first use, and every lease of the
 * scratch member is kept alive while the replay runs: a lease expiring there would write a revision the source
 * never had.
 */

const LEASE_TTL_S = 3600;
const KEEPALIVE_EVERY_MS = 1000;
const DEADLINE_MS = 30_000;

interface Entry {
  group: RevisionGroup;
  guard: { key: Buffer; modRevision: number } | undefined;
  state: 'queued' | 'sent' | 'failed' | 'done';
  /** Sent when everything before it was already in: its guard cannot fail by overtaking. */
  sentAtHead: boolean;
}

export class Replayer {
  private readonly conn: EtcdConnection;
  private readonly leases = new Set<string>();
  /** Groups not yet confirmed, in revision order; `next` indexes the first not sent. */
  private queue: Entry[] = [];
  private next = 0;
  private inflight = 0;
  /** A Txn failed its guard: send nothing until every one in flight has settled, then go back. */
  private rewinding = false;
  private window: number;
  private previous: RevisionGroup | undefined;
  private failure: unknown;
  private keepAlive: NodeJS.Timeout | undefined;
  private waiters: Array<() => void> = [];
  revisions = 0;
  events = 0;
  /** Txns etcd refused because they overtook their predecessor (each was resent). */
  resent = 0;

  constructor(
    endpoint: string,
    private readonly maxWindow = 256,
  ) {
    this.conn = new EtcdConnection(endpoint, {});
    this.window = Math.min(64, maxWindow);
  }

  /** Learns the leases the restored snapshot holds and starts keeping them (and any granted later) alive. */
  async start(): Promise<void> {
    const res = await this.conn.unary<{ leases: Array<{ ID: string }> }>('Lease', 'LeaseLeases', {}, DEADLINE_MS);
    for (const l of res.leases) this.leases.add(String(l.ID));
    await this.keepAllAlive();
    this.keepAlive = setInterval(() => {
      this.keepAllAlive().catch((err: unknown) => this.fail(err));
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
    const leases = g.events.filter((e) => e.type === 'put' && e.lease !== '0' && !this.leases.has(e.lease));
    if (leases.length) {
      await this.drain(); // granting writes no revision, but keep it out of the middle of a resend
      for (const e of leases) if (e.type === 'put' && !this.leases.has(e.lease)) await this.grant(e.lease);
    }
    this.queue.push({
      group: g,
      guard: this.previous ? guardAfter(this.previous) : undefined,
      state: 'queued',
      sentAtHead: false,
    });
    this.previous = g;
    this.revisions++;
    this.events += g.events.length;
    this.pump();
    while (this.queue.length >= 4 * this.maxWindow && !this.failure) await this.changed();
    if (this.failure) throw this.failure;
  }

  /** Waits for every queued revision; throws the first failure. */
  async finish(): Promise<void> {
    await this.drain();
    if (this.failure) throw this.failure;
  }

  close(): void {
    clearInterval(this.keepAlive);
    this.conn.close();
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0 && !this.failure) await this.changed();
  }

  private changed(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  private fail(err: unknown): void {
    this.failure ??= err;
    this.notify();
  }

  private pump(): void {
    while (!this.failure && !this.rewinding && this.inflight < this.window && this.next < this.queue.length) {
      const e = this.queue[this.next]!;
      if (e.state !== 'queued') {
        this.next++;
        continue;
      }
      // Without a guard (the revision before it deleted only) it may go only once everything before it is in.
      if (!e.guard && this.next > 0) return;
      e.sentAtHead = this.next === 0;
      this.next++;
      this.inflight++;
      e.state = 'sent';
      this.send(e).then(
        (ok) => this.settled(e, ok),
        (err: unknown) => {
          this.inflight--;
          this.fail(err);
        },
      );
    }
  }

  private async send(e: Entry): Promise<boolean> {
    const compare = e.guard
      ? [{ result: 'EQUAL', target: 'MOD', key: e.guard.key, mod_revision: String(e.guard.modRevision) }]
      : [];
    const success = e.group.events.map((ev) =>
      ev.type === 'put'
        ? { request_put: { key: ev.key, value: ev.value, lease: ev.lease } }
        : { request_delete_range: { key: ev.key } },
    );
    const res = await this.conn.unary<RawTxnResponse & { header: { revision: string } }>(
      'KV',
      'Txn',
      { compare, success, failure: [] },
      DEADLINE_MS,
    );
    if (!res.succeeded) return false;
    const got = toNumber(res.header.revision);
    if (got !== e.group.revision) {
      throw new Error(
        `revision ${e.group.revision} was replayed as revision ${got}: the scratch etcd wrote something else (an expired lease?)`,
      );
    }
    return true;
  }

  private settled(e: Entry, ok: boolean): void {
    this.inflight--;
    if (ok) {
      e.state = 'done';
      if (this.window < this.maxWindow) this.window++;
      let confirmed = 0;
      while (this.queue[confirmed]?.state === 'done') confirmed++;
      if (confirmed) {
        this.queue = this.queue.slice(confirmed);
        this.next -= confirmed;
      }
    } else {
      if (e.sentAtHead) {
        // Everything before it is in and its guard still fails: something else writes to the scratch etcd.
        this.fail(new Error(`revision ${e.group.revision}: its guard failed right after its predecessor`));
        return;
      }
      e.state = 'failed';
      this.resent++;
      if (!this.rewinding) this.window = Math.max(1, this.window >> 1);
      this.rewinding = true;
    }
    if (this.rewinding && this.inflight === 0) {
      // Go back to the first group etcd did not write; everything after it is resent in order.
      this.rewinding = false;
      this.next = this.queue.findIndex((q) => q.state !== 'done');
      if (this.next < 0) this.next = this.queue.length;
      for (const q of this.queue.slice(this.next)) if (q.state === 'failed') q.state = 'queued';
    }
    this.pump();
    this.notify();
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
