import type { AlarmEntry, MemberEntry, MemberStatus } from '../../domain/probe.js';
import { MAX_TXN_OPS, planBatches, runPool } from './bulk.js';
import { EtcdConnection, type EtcdConnectionOptions } from './connection.js';
import { EtcdError } from './errors.js';
import { prefixRangeEnd, toAlarms, toBytes, toMember, toNumber, toStatus } from './mapping.js';
import type {
  RawAlarmResponse,
  RawDeleteRangeResponse,
  RawHashKVResponse,
  RawLeaseGrantResponse,
  RawLeaseKeepAliveResponse,
  RawMemberAddResponse,
  RawMembersResponse,
  RawRangeResponse,
  RawStatus,
  RawTxnResponse,
} from './proto.js';
import { rawSnapshot, type SnapshotChunk } from './snapshot-stream.js';

export type { EtcdConnectionOptions } from './connection.js';
export { EtcdError, type EtcdErrorKind } from './errors.js';

export type Bytes = string | Buffer;

/** Used when a caller gives no deadline. Everything has one: a hung member must never hang us. */
export const DEFAULT_DEADLINE_MS = 5000;

export interface ReadOptions {
  /** Serve from this member's local data (works without quorum; may be stale). Default false: linearizable. */
  serializable?: boolean;
  deadlineMs?: number;
}

export interface HashKVResult {
  memberId: string;
  hash: number;
  compactRevision: number;
  /** Header revision: the store's current revision on that member when it answered. */
  revision: number;
}

export type { SnapshotChunk } from './snapshot-stream.js';

/**
 * A client bound to exactly ONE etcd endpoint (one gRPC channel). A pooled client answers from whichever member it
 * picks and so hides a dead one; Lifeboat needs to know what each member says, so it asks each one directly.
 */
export class EtcdEndpointClient {
  private readonly conn: EtcdConnection;

  constructor(
    readonly endpoint: string,
    private readonly opts: EtcdConnectionOptions = {},
  ) {
    this.conn = new EtcdConnection(endpoint, opts);
  }

  close(): void {
    this.conn.close();
  }

  async status(deadlineMs = DEFAULT_DEADLINE_MS): Promise<MemberStatus> {
    return toStatus(await this.conn.unary<RawStatus>('Maintenance', 'Status', {}, deadlineMs));
  }

  /** Serializable by default (this member's view, works without quorum). `linearizable` needs etcd >= 3.5. */
  async memberList(deadlineMs = DEFAULT_DEADLINE_MS, opts: { linearizable?: boolean } = {}): Promise<MemberEntry[]> {
    const req = { linearizable: opts.linearizable ?? false };
    const res = await this.conn.unary<RawMembersResponse>('Cluster', 'MemberList', req, deadlineMs);
    return res.members.map(toMember);
  }

  /** Active alarms, cluster-wide. Note: etcd serves this through raft, so it needs quorum. */
  async alarms(deadlineMs = DEFAULT_DEADLINE_MS): Promise<AlarmEntry[]> {
    const req = { action: 'GET', memberID: '0', alarm: 'NONE' };
    return toAlarms(await this.conn.unary<RawAlarmResponse>('Maintenance', 'Alarm', req, deadlineMs));
  }

  /** The value of `key` as UTF-8, or undefined when absent. */
  async get(key: Bytes, opts: ReadOptions = {}): Promise<string | undefined> {
    const req = { key: toBytes(key), serializable: opts.serializable ?? false, limit: '1' };
    const res = await this.conn.unary<RawRangeResponse>('KV', 'Range', req, opts.deadlineMs ?? DEFAULT_DEADLINE_MS);
    return res.kvs[0]?.value.toString('utf8');
  }

  /** Number of keys starting with `prefix` ('' = every key). */
  async count(prefix: Bytes, opts: ReadOptions = {}): Promise<number> {
    const raw = toBytes(prefix);
    // Range needs a non-empty key; "\0" .. "\0" is etcd's spelling of "the whole keyspace".
    const key = raw.length === 0 ? Buffer.from([0]) : raw;
    const req = { key, range_end: prefixRangeEnd(raw), count_only: true, serializable: opts.serializable ?? false };
    const res = await this.conn.unary<RawRangeResponse>('KV', 'Range', req, opts.deadlineMs ?? DEFAULT_DEADLINE_MS);
    return toNumber(res.count);
  }

  /** Returns the store revision after the put. `lease` is a lease id (decimal string). */
  async put(key: Bytes, value: Bytes, opts: { deadlineMs?: number; lease?: string } = {}): Promise<number> {
    const req = { key: toBytes(key), value: toBytes(value), lease: opts.lease ?? '0' };
    const res = await this.conn.unary<{ header: { revision: string } }>(
      'KV',
      'Put',
      req,
      opts.deadlineMs ?? DEFAULT_DEADLINE_MS,
    );
    return toNumber(res.header.revision);
  }

  /**
   * Bulk load. Puts are grouped into Txns of up to 128 (etcd's default --max-txn-ops) and `concurrency` Txns stay in
   * flight over the one HTTP/2 connection. Measured on 2 cores (with grpc-js then): one Put per request is client-CPU bound (it cost
   * ~0.7 ms per call) at ~1000-3000 keys/s; batched it is ~20000 keys/s. A server with a lower --max-txn-ops makes
   * us fall back to single Puts for that batch. Stops at the first failure and rethrows it. Batches apply in any
   * order, so a key given twice may end with either value.
   */
  async putMany(
    entries: Array<[Bytes, Bytes]>,
    opts: { concurrency?: number; deadlineMs?: number; batchSize?: number } = {},
  ): Promise<number> {
    const deadlineMs = opts.deadlineMs ?? 10_000;
    const batches = planBatches(entries, Math.max(1, opts.batchSize ?? MAX_TXN_OPS));
    await runPool(batches, opts.concurrency ?? 16, async (batch) => {
      if (batch.length === 1) {
        await this.put(batch[0]![0], batch[0]![1], { deadlineMs });
        return;
      }
      const req = { compare: [], success: batch.map(([key, value]) => ({ request_put: { key, value } })), failure: [] };
      try {
        await this.conn.unary<RawTxnResponse>('KV', 'Txn', req, deadlineMs);
      } catch (err) {
        if (!(err instanceof EtcdError && err.problem.includes('too many operations in txn request'))) throw err;
        await runPool(batch, 16, ([key, value]) => this.put(key, value, { deadlineMs }).then(() => undefined));
      }
    });
    return entries.length;
  }

  /** Deletes every key starting with `prefix`; returns how many. An empty prefix is refused: too easy to wipe all. */
  async deleteRange(prefix: Bytes, opts: { deadlineMs?: number } = {}): Promise<number> {
    const key = toBytes(prefix);
    if (key.length === 0) throw new Error('deleteRange: refusing an empty prefix (it would delete every key)');
    const req = { key, range_end: prefixRangeEnd(key) };
    const deadlineMs = opts.deadlineMs ?? DEFAULT_DEADLINE_MS;
    return toNumber((await this.conn.unary<RawDeleteRangeResponse>('KV', 'DeleteRange', req, deadlineMs)).deleted);
  }

  /** Creates `key` only if it does not exist (a Txn on create_revision == 0): the building block of a lock. */
  async createIfAbsent(key: Bytes, value: Bytes, opts: { lease?: string; deadlineMs?: number } = {}): Promise<boolean> {
    const k = toBytes(key);
    const req = {
      compare: [{ result: 'EQUAL', target: 'CREATE', key: k, create_revision: '0' }],
      success: [{ request_put: { key: k, value: toBytes(value), lease: opts.lease ?? '0' } }],
      failure: [],
    };
    const res = await this.conn.unary<RawTxnResponse>('KV', 'Txn', req, opts.deadlineMs ?? DEFAULT_DEADLINE_MS);
    return res.succeeded;
  }

  /** Hash of the MVCC keyspace up to `revision` (0 = latest). Members at the same revision must agree. */
  async hashKV(revision: number, deadlineMs = DEFAULT_DEADLINE_MS): Promise<HashKVResult> {
    const res = await this.conn.unary<RawHashKVResponse>(
      'Maintenance',
      'HashKV',
      { revision: String(revision) },
      deadlineMs,
    );
    return {
      memberId: String(res.header.member_id),
      hash: res.hash,
      compactRevision: toNumber(res.compact_revision),
      revision: toNumber(res.header.revision),
    };
  }

  /** Must be sent to the current leader ("etcdserver: not leader" otherwise). */
  async moveLeader(targetId: string, deadlineMs = DEFAULT_DEADLINE_MS): Promise<void> {
    await this.conn.unary('Maintenance', 'MoveLeader', { targetID: targetId }, deadlineMs);
  }

  async memberAdd(
    peerURLs: string[],
    opts: { isLearner?: boolean; deadlineMs?: number } = {},
  ): Promise<{ member: MemberEntry; members: MemberEntry[] }> {
    const req = { peerURLs, isLearner: opts.isLearner ?? false };
    const deadlineMs = opts.deadlineMs ?? DEFAULT_DEADLINE_MS;
    const res = await this.conn.unary<RawMemberAddResponse>('Cluster', 'MemberAdd', req, deadlineMs);
    return { member: toMember(res.member), members: res.members.map(toMember) };
  }

  async memberRemove(id: string, opts: { deadlineMs?: number } = {}): Promise<MemberEntry[]> {
    const deadlineMs = opts.deadlineMs ?? DEFAULT_DEADLINE_MS;
    const res = await this.conn.unary<RawMembersResponse>('Cluster', 'MemberRemove', { ID: id }, deadlineMs);
    return res.members.map(toMember);
  }

  async memberPromote(id: string, opts: { deadlineMs?: number } = {}): Promise<MemberEntry[]> {
    const deadlineMs = opts.deadlineMs ?? DEFAULT_DEADLINE_MS;
    const res = await this.conn.unary<RawMembersResponse>('Cluster', 'MemberPromote', { ID: id }, deadlineMs);
    return res.members.map(toMember);
  }

  /** Grants a lease; returns its id (decimal string) and the TTL the server chose. */
  async leaseGrant(ttlSeconds: number, deadlineMs = DEFAULT_DEADLINE_MS): Promise<{ id: string; ttl: number }> {
    const req = { TTL: String(ttlSeconds), ID: '0' };
    const res = await this.conn.unary<RawLeaseGrantResponse>('Lease', 'LeaseGrant', req, deadlineMs);
    if (res.error) throw new EtcdError(this.endpoint, 'server', `lease grant failed: ${res.error}`);
    return { id: String(res.ID), ttl: toNumber(res.TTL) };
  }

  async leaseRevoke(id: string, deadlineMs = DEFAULT_DEADLINE_MS): Promise<void> {
    await this.conn.unary('Lease', 'LeaseRevoke', { ID: id }, deadlineMs);
  }

  /** One keep-alive round trip; returns the remaining TTL in seconds (<= 0: the lease is gone). */
  async leaseKeepAliveOnce(id: string, deadlineMs = DEFAULT_DEADLINE_MS): Promise<number> {
    const res = await this.conn.firstReply<RawLeaseKeepAliveResponse>(
      'Lease',
      'LeaseKeepAlive',
      { ID: id },
      deadlineMs,
    );
    return toNumber(res.TTL);
  }

  /**
   * Streams this member's backend database. No overall deadline (a big db takes a while), but the stream fails when
   * no chunk arrives for `idleTimeoutMs` (frozen member, dead network). Time spent by the consumer is not counted.
   */
  async *snapshot(opts: { idleTimeoutMs?: number } = {}): AsyncGenerator<SnapshotChunk> {
    const idleMs = opts.idleTimeoutMs ?? 30_000;
    const { token } = await this.conn.authToken(Date.now() + idleMs, idleMs);
    yield* rawSnapshot(this.endpoint, this.opts, { token, idleTimeoutMs: idleMs });
  }
}
