import { oneLine } from '../../domain/text.js';
import type { EtcdConnectionOptions } from './connection.js';
import { EtcdError } from './errors.js';
import { RawStream } from './raw-stream.js';

/**
 * Maintenance.Snapshot spoken directly over node:http2, apart from the other calls (h2-channel.ts): a generic message
 * reader costs ~4 ms of CPU per MB here (message objects, protobuf decoding, per-frame bookkeeping); on a small
 * control-plane node that CPU is taken from the etcd member serving the snapshot. This reader parses the gRPC
 * length-prefixed frames and the three fields of SnapshotResponse itself (~1 ms/MB), and sizes the HTTP/2
 * flow-control window so a few MB are in flight at most: when the consumer stops pulling, Node stops granting
 * window and etcd stops sending.
 */

const PATH = '/etcdserverpb.Maintenance/Snapshot';

/** A piece of the database and how many bytes the member says are still to come. */
export interface SnapshotChunk {
  blob: Buffer;
  remainingBytes: number;
}
/** Per stream and per connection: enough to keep a LAN link busy, small enough to bound memory. */
const STREAM_WINDOW = 1024 * 1024;
const SESSION_WINDOW = 2 * 1024 * 1024;
/** An empty SnapshotRequest in one uncompressed gRPC frame. */
const EMPTY_REQUEST = Buffer.from([0, 0, 0, 0, 0]);

export interface RawSnapshotOptions {
  /** Auth token (from Authenticate) when the cluster has auth enabled. */
  token?: string;
  /** The stream fails when no bytes arrive for this long (frozen member, dead link). */
  idleTimeoutMs?: number;
}

export async function* rawSnapshot(
  endpoint: string,
  conn: EtcdConnectionOptions,
  opts: RawSnapshotOptions = {},
): AsyncGenerator<SnapshotChunk> {
  const idleMs = opts.idleTimeoutMs ?? 30_000;
  const stream = new RawStream(endpoint, conn, {
    path: PATH,
    idleMs,
    token: opts.token,
    settings: { initialWindowSize: STREAM_WINDOW },
    sessionWindow: SESSION_WINDOW,
  });
  stream.req.end(EMPTY_REQUEST);
  const stalled = () => new EtcdError(endpoint, 'timeout', `snapshot stalled: no data for ${idleMs} ms`);
  const parser = new SnapshotFrameParser();
  try {
    stream.arm();
    for await (const data of stream.req as AsyncIterable<Buffer>) {
      stream.arm();
      yield* parser.push(data);
    }
    if (stream.idle) throw stalled();
    const status = stream.status;
    if (status === undefined) {
      const why = stream.sessionError?.message ?? (stream.responseHeaders ? 'no gRPC status' : 'no response');
      throw new EtcdError(endpoint, 'unreachable', `snapshot stream broke off (${why})`);
    }
    if (status !== '0') {
      const message = stream.message(`gRPC status ${status}`);
      throw new EtcdError(endpoint, message.includes('auth') ? 'auth' : 'server', message);
    }
    if (!parser.atBoundary) throw new EtcdError(endpoint, 'server', 'snapshot stream ended inside a message');
  } catch (err) {
    if (stream.idle) throw stalled();
    if (err instanceof EtcdError) throw err;
    const cause = stream.sessionError ?? err;
    throw new EtcdError(endpoint, 'unreachable', oneLine(cause instanceof Error ? cause.message : String(cause)));
  } finally {
    stream.close();
  }
}

/**
 * Turns the HTTP/2 DATA of a Snapshot call into blob pieces without copying them: gRPC frames (1-byte compressed flag,
 * 4-byte big-endian length) carrying SnapshotResponse (1 header, 2 remaining_bytes, 3 blob, 4 version). The blob is
 * handed on as views of the received buffers, a piece per DATA chunk; only a field header cut by a chunk boundary
 * (a few bytes) is ever copied.
 */
export class SnapshotFrameParser {
  private carry: Buffer = Buffer.alloc(0);
  /** Payload bytes of the current message not yet parsed; 0 = a frame header comes next. */
  private messageLeft = 0;
  private blobLeft = 0;
  private skipLeft = 0;
  private remainingBytes = 0;

  /** True between messages: the stream may end here. */
  get atBoundary(): boolean {
    return this.messageLeft === 0 && this.carry.length === 0;
  }

  *push(data: Buffer): Generator<SnapshotChunk> {
    let buf = data;
    if (this.carry.length > 0) {
      buf = Buffer.concat([this.carry, data]);
      this.carry = Buffer.alloc(0);
    }
    let pos = 0;
    while (pos < buf.length) {
      const available = buf.length - pos;
      if (this.blobLeft > 0 || this.skipLeft > 0) {
        const blob = this.blobLeft > 0;
        const n = Math.min(blob ? this.blobLeft : this.skipLeft, available);
        if (blob) {
          this.blobLeft -= n;
          yield { blob: buf.subarray(pos, pos + n), remainingBytes: this.remainingBytes };
        } else this.skipLeft -= n;
        this.messageLeft -= n;
        pos += n;
        continue;
      }
      if (this.messageLeft === 0) {
        if (available < 5) break;
        if (buf[pos] !== 0) throw new Error('compressed gRPC messages are not supported');
        this.messageLeft = buf.readUInt32BE(pos + 1);
        this.remainingBytes = 0; // proto3 leaves a zero out: a message without the field means 0
        pos += 5;
        continue;
      }
      const field = readField(buf, pos, Math.min(buf.length, pos + this.messageLeft));
      if (!field) {
        if (available >= this.messageLeft) throw new Error('malformed SnapshotResponse');
        break; // the field header continues in the next chunk
      }
      this.messageLeft -= field.next - pos;
      pos = field.next;
      if (field.wire === 0 && field.number === 2) this.remainingBytes = field.value;
      else if (field.wire === 2 && field.number === 3) this.blobLeft = field.value;
      else if (field.wire === 2) this.skipLeft = field.value;
      else if (field.wire === 1) this.skipLeft = 8;
      else if (field.wire === 5) this.skipLeft = 4;
      else if (field.wire !== 0) throw new Error(`unexpected wire type ${field.wire} in SnapshotResponse`);
      if (this.skipLeft + this.blobLeft > this.messageLeft) throw new Error('malformed SnapshotResponse');
    }
    if (pos < buf.length) this.carry = Buffer.from(buf.subarray(pos));
  }
}

/** A field tag and its varint (the value, or a length), or undefined when `end` comes first. */
function readField(buf: Buffer, pos: number, end: number) {
  const tag = readVarint(buf, pos, end);
  if (!tag) return undefined;
  const wire = tag.value & 7;
  const number = Math.floor(tag.value / 8);
  if (wire !== 0 && wire !== 2) return { number, wire, value: 0, next: tag.next };
  const value = readVarint(buf, tag.next, end);
  return value ? { number, wire, value: value.value, next: value.next } : undefined;
}

function readVarint(buf: Buffer, pos: number, end: number): { value: number; next: number } | undefined {
  let value = 0;
  let scale = 1;
  for (let i = pos; i < end; i++) {
    const byte = buf[i]!;
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return { value, next: i + 1 };
    scale *= 128;
  }
  return undefined;
}
