import { EtcdConnection, type EtcdConnectionOptions } from '../etcd/connection.js';
import { EtcdError, toEtcdError } from '../etcd/errors.js';
import { prefixRangeEnd, toBytes, toNumber } from '../etcd/mapping.js';
import type { RawHeader, RawKeyValue, RawLeaseGrantResponse, RawLeaseKeepAliveResponse } from '../etcd/proto.js';

/**
 * The few KV and lease calls the maintenance lock and records need, over every endpoint with failover: the member
 * this agent runs beside is exactly the one that goes down, so no call may depend on one endpoint. A call moves to
 * the next endpoint only for "could not get an answer here" errors; without quorum every endpoint fails and the
 * call throws (so no lock is ever granted without quorum).
 */

export interface KvEntry {
  key: string;
  value: string;
  createRevision: number;
  modRevision: number;
  lease: string;
}

export interface TxnCompare {
  key: string;
  target: 'CREATE' | 'MOD' | 'VALUE';
  result: 'EQUAL' | 'NOT_EQUAL' | 'GREATER' | 'LESS';
  createRevision?: number;
  modRevision?: number;
}

export type TxnOp =
  | { put: { key: string; value: string; lease?: string; ignoreLease?: boolean } }
  | { delete: { key: string } }
  | { range: { key: string } };

export interface TxnResult {
  succeeded: boolean;
  revision: number;
  /** kvs of each range op, in order. */
  ranges: KvEntry[][];
}

interface RawTxn {
  header: RawHeader;
  succeeded: boolean;
  responses: Array<{ response_range?: { kvs: RawKeyValue[] } }>;
}

const RETRY_SERVER =
  /no leader|leader changed|timed out|stopped|not capable|too many requests|unhealthy cluster|cancel/i;

export class EtcdKv {
  private readonly conns: EtcdConnection[];
  private preferred = 0;

  constructor(
    readonly endpoints: string[],
    opts: EtcdConnectionOptions = {},
    readonly deadlineMs = 2000,
  ) {
    if (endpoints.length === 0) throw new Error('EtcdKv: no endpoints');
    this.conns = endpoints.map((e) => new EtcdConnection(e, opts));
  }

  close(): void {
    for (const c of this.conns) c.close();
  }

  /** Runs `op` on the last endpoint that worked, then on each other one; the first answer wins. */
  async run<T>(op: (conn: EtcdConnection) => Promise<T>): Promise<T> {
    let last: unknown;
    for (let i = 0; i < this.conns.length; i++) {
      const index = (this.preferred + i) % this.conns.length;
      try {
        const value = await op(this.conns[index]!);
        this.preferred = index;
        return value;
      } catch (err) {
        const e = toEtcdError(this.endpoints[index]!, err, this.deadlineMs);
        last = e;
        const retry =
          e.kind === 'unreachable' || e.kind === 'timeout' || (e.kind === 'server' && RETRY_SERVER.test(e.problem));
        if (!retry) throw e;
      }
    }
    throw last instanceof EtcdError
      ? new EtcdError('etcd', last.kind, `no endpoint could answer (last: ${last.message})`)
      : last;
  }

  async range(key: string, opts: { prefix?: boolean; serializable?: boolean } = {}): Promise<KvEntry[]> {
    const k = toBytes(key);
    const req = {
      key: k,
      ...(opts.prefix ? { range_end: prefixRangeEnd(k) } : {}),
      serializable: Boolean(opts.serializable),
    };
    const res = await this.run((c) => c.unary<{ kvs: RawKeyValue[] }>('KV', 'Range', req, this.deadlineMs));
    return res.kvs.map(toEntry);
  }

  async get(key: string): Promise<KvEntry | undefined> {
    return (await this.range(key))[0];
  }

  async put(key: string, value: string): Promise<number> {
    const req = { key: toBytes(key), value: toBytes(value) };
    const res = await this.run((c) => c.unary<{ header: RawHeader }>('KV', 'Put', req, this.deadlineMs));
    return toNumber(res.header.revision);
  }

  async delete(key: string): Promise<number> {
    const req = { key: toBytes(key) };
    const res = await this.run((c) => c.unary<{ deleted: string }>('KV', 'DeleteRange', req, this.deadlineMs));
    return toNumber(res.deleted);
  }

  async txn(compare: TxnCompare[], success: TxnOp[], failure: TxnOp[] = []): Promise<TxnResult> {
    const req = { compare: compare.map(rawCompare), success: success.map(rawOp), failure: failure.map(rawOp) };
    const res = await this.run((c) => c.unary<RawTxn>('KV', 'Txn', req, this.deadlineMs));
    return {
      succeeded: res.succeeded,
      revision: toNumber(res.header.revision),
      ranges: res.responses.filter((r) => r.response_range).map((r) => r.response_range!.kvs.map(toEntry)),
    };
  }

  async leaseGrant(ttlSeconds: number): Promise<string> {
    const req = { TTL: String(ttlSeconds), ID: '0' };
    const res = await this.run((c) => c.unary<RawLeaseGrantResponse>('Lease', 'LeaseGrant', req, this.deadlineMs));
    if (res.error) throw new EtcdError('etcd', 'server', `lease grant failed: ${res.error}`);
    return String(res.ID);
  }

  async leaseRevoke(id: string): Promise<void> {
    await this.run((c) => c.unary('Lease', 'LeaseRevoke', { ID: id }, this.deadlineMs));
  }

  /** One keep-alive round trip; the remaining TTL in seconds (<= 0: the lease is gone). */
  leaseKeepAlive(id: string): Promise<number> {
    return this.run((c) => keepAliveOnce(c, id, this.deadlineMs));
  }
}

function toEntry(kv: RawKeyValue): KvEntry {
  return {
    key: kv.key.toString('utf8'),
    value: kv.value.toString('utf8'),
    createRevision: toNumber(kv.create_revision),
    modRevision: toNumber(kv.mod_revision),
    lease: String(kv.lease ?? '0'),
  };
}

function rawCompare(c: TxnCompare) {
  const base = { result: c.result, target: c.target, key: toBytes(c.key) };
  if (c.target === 'CREATE') return { ...base, create_revision: String(c.createRevision ?? 0) };
  return { ...base, mod_revision: String(c.modRevision ?? 0) };
}

function rawOp(op: TxnOp) {
  if ('put' in op) {
    const p = op.put;
    return {
      request_put: {
        key: toBytes(p.key),
        value: toBytes(p.value),
        lease: p.lease ?? '0',
        ignore_lease: Boolean(p.ignoreLease),
      },
    };
  }
  if ('delete' in op) return { request_delete_range: { key: toBytes(op.delete.key) } };
  return { request_range: { key: toBytes(op.range.key) } };
}

async function keepAliveOnce(conn: EtcdConnection, id: string, deadlineMs: number): Promise<number> {
  const res = await conn.firstReply<RawLeaseKeepAliveResponse>('Lease', 'LeaseKeepAlive', { ID: id }, deadlineMs);
  return toNumber(res.TTL);
}
