import { EtcdConnection, type EtcdConnectionOptions } from '../etcd/connection.js';
import { toNumber } from '../etcd/mapping.js';
import type { RawHashKVResponse, RawRangeResponse } from '../etcd/proto.js';

/**
 * Range questions the plain client does not ask: a key count together with the revision it was counted at (one
 * request, so the two belong together), and a count at a fixed past revision. Serializable: they ask this member's
 * own data, which is what a snapshot of this member holds, and they work without quorum.
 */

/** "\0" .. "\0" is etcd's spelling of the whole keyspace. */
const ALL = { key: Buffer.from([0]), range_end: Buffer.from([0]) };

export interface KeyspacePoint {
  revision: number;
  keys: number;
  clusterId: string;
  memberId: string;
  raftTerm: number;
}

export class KeyspaceReader {
  private readonly conn: EtcdConnection;

  constructor(endpoint: string, opts: EtcdConnectionOptions = {}) {
    this.conn = new EtcdConnection(endpoint, opts);
  }

  close(): void {
    this.conn.close();
  }

  /** The auth token for raw requests (undefined without auth, or when Authenticate cannot get through). */
  async authToken(deadlineMs = 10_000): Promise<string | undefined> {
    return (await this.conn.authToken(Date.now() + deadlineMs, deadlineMs)).token;
  }

  /** Every key counted at this member's current revision, with the header that names the revision. */
  async point(deadlineMs = 10_000): Promise<KeyspacePoint> {
    const res = await this.range(0, deadlineMs);
    return {
      revision: toNumber(res.header.revision),
      keys: toNumber(res.count),
      clusterId: String(res.header.cluster_id),
      memberId: String(res.header.member_id),
      raftTerm: toNumber(res.header.raft_term),
    };
  }

  /** Keys that existed at `revision` (fails with "required revision has been compacted" below the compaction). */
  async countAt(revision: number, deadlineMs = 10_000): Promise<number> {
    return toNumber((await this.range(revision, deadlineMs)).count);
  }

  /** HashKV of the revisions <= `revision` (0 = current) and the compaction it was computed under. */
  async hashKV(revision: number, deadlineMs = 120_000): Promise<{ hash: number; compactRevision: number }> {
    const res = await this.conn.unary<RawHashKVResponse>(
      'Maintenance',
      'HashKV',
      { revision: String(revision) },
      deadlineMs,
    );
    return { hash: res.hash, compactRevision: toNumber(res.compact_revision) };
  }

  private range(revision: number, deadlineMs: number): Promise<RawRangeResponse> {
    const req = { ...ALL, count_only: true, serializable: true, revision: String(revision) };
    return this.conn.unary<RawRangeResponse>('KV', 'Range', req, deadlineMs);
  }
}
