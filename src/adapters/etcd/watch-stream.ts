import type { LogEvent, RevisionGroup } from '../../domain/etcdlog/segment.js';
import type { EtcdConnectionOptions } from './connection.js';
import { EtcdError } from './errors.js';
import { frame, ReplyReader } from './h2-channel.js';
import { toNumber } from './mapping.js';
import type { Long, RawHeader, RawKeyValue } from './proto.js';
import { RawStream } from './raw-stream.js';
import { decodeMessage, encodeMessage } from './wire.js';

/**
 * Watch.Watch over node:http2: one bidirectional stream watching the whole keyspace from a revision. Like the
 * snapshot reader (snapshot-stream.ts) it owns its HTTP/2 session, so a long-lived watch never shares a connection
 * with (or is cut by) short calls. Progress requests go out every `progressEveryMs`: their answers carry the
 * member's current revision (the follower's lag) and prove the stream is alive; silence for `idleTimeoutMs` ends it.
 * The `hasleader` metadata makes a member that loses its leader end the stream instead of going quiet (etcd's
 * WithRequireLeader), so the follower moves to another member.
 */

const PATH = '/etcdserverpb.Watch/Watch';

interface RawWatchResponse {
  header: RawHeader;
  watch_id: Long;
  created: boolean;
  canceled: boolean;
  compact_revision: Long;
  cancel_reason: string;
  events: Array<{ type: 'PUT' | 'DELETE'; kv: RawKeyValue }>;
}

/** History the watch asked for is gone: etcd compacted it. */
export class WatchCompactedError extends Error {
  constructor(
    readonly endpoint: string,
    readonly compactRevision: number,
    readonly requested: number,
  ) {
    super(`etcd compacted its history up to revision ${compactRevision}; revisions from ${requested} are gone`);
    this.name = 'WatchCompactedError';
  }
}

/** What one watch response brings: whole revisions, and the member's revision when it answered. */
export interface WatchBatch {
  groups: RevisionGroup[];
  /** The member's current revision (header): events up to it exist. */
  headerRevision: number;
}

export interface WatchOptions {
  startRevision: number;
  token?: string;
  progressEveryMs?: number;
  idleTimeoutMs?: number;
  signal?: AbortSignal;
  /** Clock for observedAt. */
  now?: () => number;
}

export async function* watchKeyspace(
  endpoint: string,
  conn: EtcdConnectionOptions,
  opts: WatchOptions,
): AsyncGenerator<WatchBatch> {
  const now = opts.now ?? Date.now;
  const idleMs = opts.idleTimeoutMs ?? 15_000;
  const progressMs = opts.progressEveryMs ?? Math.max(500, Math.floor(idleMs / 3));
  const stream = new RawStream(endpoint, conn, {
    path: PATH,
    idleMs,
    token: opts.token,
    headers: { hasleader: 'true' },
  });
  const { req } = stream;
  // Whole keyspace: key "\0", range_end "\0".
  const create = {
    create_request: { key: Buffer.from([0]), range_end: Buffer.from([0]), start_revision: String(opts.startRevision) },
  };
  req.write(frame(encodeMessage('etcdserverpb.WatchRequest', create)));
  const progress = frame(encodeMessage('etcdserverpb.WatchRequest', { progress_request: {} }));
  const ticker = setInterval(() => {
    if (!req.closed && !req.destroyed) req.write(progress);
  }, progressMs);
  const onAbort = () => stream.cancel();
  opts.signal?.addEventListener('abort', onAbort);
  const reader = new ReplyReader();
  try {
    stream.arm();
    for await (const data of req as AsyncIterable<Buffer>) {
      stream.arm();
      reader.push(data);
      const messages = reader.messages.splice(0);
      for (const m of messages) {
        const res = decodeMessage<RawWatchResponse>('etcdserverpb.WatchResponse', m);
        const compacted = toNumber(res.compact_revision);
        if (compacted > 0) throw new WatchCompactedError(endpoint, compacted, opts.startRevision);
        if (res.canceled) {
          throw new EtcdError(endpoint, 'server', `watch cancelled: ${res.cancel_reason || 'no reason given'}`);
        }
        const headerRevision = toNumber(res.header?.revision ?? '0');
        yield { groups: toGroups(res.events, now()), headerRevision };
      }
    }
    if (opts.signal?.aborted) return;
    if (stream.idle) throw new EtcdError(endpoint, 'timeout', `watch went silent for ${idleMs} ms`);
    const status = stream.status;
    const message = stream.message(stream.sessionError?.message ?? 'stream ended');
    throw new EtcdError(
      endpoint,
      'unreachable',
      `watch ended (${status === undefined ? message : `${status} ${message}`})`,
    );
  } catch (err) {
    if (opts.signal?.aborted) return;
    if (stream.idle) throw new EtcdError(endpoint, 'timeout', `watch went silent for ${idleMs} ms`);
    if (err instanceof EtcdError || err instanceof WatchCompactedError) throw err;
    const cause = stream.sessionError ?? err;
    throw new EtcdError(endpoint, 'unreachable', cause instanceof Error ? cause.message : String(cause));
  } finally {
    clearInterval(ticker);
    opts.signal?.removeEventListener('abort', onAbort);
    stream.close();
  }
}

/** Watch events grouped by revision (etcd sends a revision's events together and in order). */
export function toGroups(events: RawWatchResponse['events'], observedAt: number): RevisionGroup[] {
  const groups: RevisionGroup[] = [];
  let current: RevisionGroup | undefined;
  for (const e of events) {
    const revision = toNumber(e.kv.mod_revision);
    if (!current || current.revision !== revision) {
      current = { revision, observedAt, events: [] };
      groups.push(current);
    }
    const event: LogEvent =
      e.type === 'DELETE'
        ? { type: 'delete', key: e.kv.key }
        : {
            type: 'put',
            key: e.kv.key,
            value: e.kv.value,
            createRevision: toNumber(e.kv.create_revision),
            version: toNumber(e.kv.version),
            lease: String(e.kv.lease),
          };
    current.events.push(event);
  }
  return groups;
}
