import { createHash } from 'node:crypto';

/**
 * The change log's file format (ADR 010): one object holds the events of consecutive etcd revisions, with a header
 * naming its first and last revision and the hash of the object before it in its chain, and a SHA-256 trailer over
 * everything before it. A missing object breaks the revision sequence or the hash chain; a truncated one lacks its
 * trailer; an altered one fails the trailer. Pure: bytes in, bytes out (no I/O, no clock).
 *
 *   "LBLOG1\n" | u32 BE header length | header JSON | revision records | SHA-256 of all that (32 bytes)
 *
 * A revision record: varint revision, varint observedAt (epoch ms the follower received it), varint event count, then
 * per event a type byte (0 put, 1 delete), varint key length, key; a put adds varint value length, value, varint
 * create revision, varint version and the lease id as 8 bytes big-endian. The mod revision of every event is the
 * record's revision (etcd writes one revision per transaction), so it is not repeated.
 */

export const LOG_MAGIC = 'LBLOG1\n';
export const LOG_FORMAT = 1;
/** The `prev` of the first object of a chain. */
export const GENESIS_HASH = '0'.repeat(64);
const TRAILER = 32;

export interface LogPut {
  type: 'put';
  key: Buffer;
  value: Buffer;
  createRevision: number;
  version: number;
  /** Lease id as a decimal string; '0' = no lease. */
  lease: string;
}

export interface LogDelete {
  type: 'delete';
  key: Buffer;
}

export type LogEvent = LogPut | LogDelete;

/** Every event etcd wrote at one revision (one transaction): replayed together, as one transaction. */
export interface RevisionGroup {
  revision: number;
  /** Epoch ms when the follower received it: what `--at TIME` is matched against. */
  observedAt: number;
  events: LogEvent[];
}

/**
 * `segment`: sealed (size or time bound reached). `chunk`: a piece of the open segment, written every durability
 * tick; superseded by the sealed segment that covers it.
 */
export type LogObjectKind = 'segment' | 'chunk';

export interface SegmentHeader {
  format: number;
  chain: string;
  kind: LogObjectKind;
  first: number;
  last: number;
  /** Hash of the previous object of the chain (GENESIS_HASH for the first). */
  prev: string;
  revisions: number;
  events: number;
}

export interface DecodedSegment {
  header: SegmentHeader;
  groups: RevisionGroup[];
  /** SHA-256 (hex) of the object: what the next object's `prev` names. */
  hash: string;
}

/** Encodes revision groups (consecutive revisions, in order) into one object. */
export function encodeSegment(
  meta: { chain: string; kind: LogObjectKind; prev: string },
  groups: RevisionGroup[],
): { bytes: Buffer; header: SegmentHeader; hash: string } {
  if (groups.length === 0) throw new Error('a log object holds at least one revision');
  checkConsecutive(groups.map((g) => g.revision));
  return assemble(meta, summarize(groups), encodeGroups(groups));
}

/** What a header says about revision groups (consecutive, in order). */
export interface GroupSummary {
  first: number;
  last: number;
  revisions: number;
  events: number;
}

export function summarize(groups: Pick<RevisionGroup, 'revision' | 'events'>[]): GroupSummary {
  return {
    first: groups[0]!.revision,
    last: groups[groups.length - 1]!.revision,
    revisions: groups.length,
    events: groups.reduce((n, g) => n + g.events.length, 0),
  };
}

/** Summaries of consecutive runs, joined (the follower's chunks, joined into the sealed segment). */
export function joinSummaries(parts: GroupSummary[]): GroupSummary {
  for (let i = 1; i < parts.length; i++) {
    if (parts[i]!.first !== parts[i - 1]!.last + 1) throw new Error('revisions must be consecutive');
  }
  return {
    first: parts[0]!.first,
    last: parts[parts.length - 1]!.last,
    revisions: parts.reduce((n, p) => n + p.revisions, 0),
    events: parts.reduce((n, p) => n + p.events, 0),
  };
}

/** Builds an object from records already encoded by encodeGroups (the follower keeps its open segment encoded). */
export function assemble(
  meta: { chain: string; kind: LogObjectKind; prev: string },
  summary: GroupSummary,
  body: Buffer,
): { bytes: Buffer; header: SegmentHeader; hash: string } {
  const { pieces, header, hash } = assemblePieces(meta, summary, [body]);
  return { bytes: Buffer.concat(pieces), header, hash };
}

/**
 * The object as the pieces it is made of (head, the bodies as given, trailer), not joined: the follower streams a
 * sealed segment from the chunk bodies it holds instead of joining them (issue 19's memory bound).
 */
export function assemblePieces(
  meta: { chain: string; kind: LogObjectKind; prev: string },
  summary: GroupSummary,
  bodies: Buffer[],
): { pieces: Buffer[]; size: number; header: SegmentHeader; hash: string } {
  const header: SegmentHeader = {
    format: LOG_FORMAT,
    chain: meta.chain,
    kind: meta.kind,
    first: summary.first,
    last: summary.last,
    prev: meta.prev,
    revisions: summary.revisions,
    events: summary.events,
  };
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  const head = Buffer.alloc(LOG_MAGIC.length + 4 + headerBytes.length);
  head.write(LOG_MAGIC, 0, 'latin1');
  head.writeUInt32BE(headerBytes.length, LOG_MAGIC.length);
  headerBytes.copy(head, LOG_MAGIC.length + 4);
  const sha = createHash('sha256').update(head);
  for (const body of bodies) sha.update(body);
  const hash = sha.digest();
  const pieces = [head, ...bodies, hash];
  return { pieces, size: pieces.reduce((n, p) => n + p.length, 0), header, hash: hash.toString('hex') };
}

function checkConsecutive(revisions: number[]): void {
  for (let i = 1; i < revisions.length; i++) {
    if (revisions[i] !== revisions[i - 1]! + 1) {
      throw new Error(`revisions must be consecutive: ${revisions[i - 1]} then ${revisions[i]}`);
    }
  }
}

/** Revision records, back to back (see the file comment), in a buffer of exactly their size. */
export function encodeGroups(groups: RevisionGroup[]): Buffer {
  const w = new Writer(encodedSize(groups));
  for (const g of groups) {
    w.varint(g.revision);
    w.varint(g.observedAt);
    w.varint(g.events.length);
    for (const e of g.events) {
      w.byte(e.type === 'put' ? 0 : 1);
      w.bytes(e.key);
      if (e.type === 'put') {
        w.bytes(e.value);
        w.varint(e.createRevision);
        w.varint(e.version);
        w.u64(e.lease);
      }
    }
  }
  return w.finish();
}

/**
 * What encodeGroups will write, to the byte: the follower holds encoded revisions until the seal, and a buffer
 * grown by doubling would hold up to twice that (and churn the allocator at every watch response).
 */
function encodedSize(groups: RevisionGroup[]): number {
  let n = 0;
  for (const g of groups) {
    n += varintSize(g.revision) + varintSize(g.observedAt) + varintSize(g.events.length);
    for (const e of g.events) {
      n += 1 + varintSize(e.key.length) + e.key.length;
      if (e.type === 'put')
        n += varintSize(e.value.length) + e.value.length + varintSize(e.createRevision) + varintSize(e.version) + 8;
    }
  }
  return n;
}

function varintSize(n: number): number {
  let size = 1;
  for (let v = n; v >= 0x80; v = Math.floor(v / 0x80)) size++;
  return size;
}

/** The object's header and revisions, or one line saying why it is not a whole, unaltered log object. */
export function decodeSegment(bytes: Buffer): DecodedSegment | { error: string } {
  const headerAt = LOG_MAGIC.length + 4;
  if (bytes.length < headerAt || bytes.toString('latin1', 0, LOG_MAGIC.length) !== LOG_MAGIC) {
    return { error: bytes.length === 0 ? 'empty file' : 'not a Lifeboat log object (bad magic)' };
  }
  const headerLength = bytes.readUInt32BE(LOG_MAGIC.length);
  if (headerAt + headerLength > bytes.length) return { error: 'truncated (header cut off)' };
  let header: SegmentHeader;
  try {
    header = JSON.parse(bytes.toString('utf8', headerAt, headerAt + headerLength)) as SegmentHeader;
  } catch {
    return { error: 'header is not JSON' };
  }
  if (header.format !== LOG_FORMAT) return { error: `unknown log format ${String(header.format)}` };
  const bodyAt = headerAt + headerLength;
  if (bytes.length < bodyAt + TRAILER) return { error: 'truncated (no trailer)' };
  const end = bytes.length - TRAILER;
  const hash = createHash('sha256').update(bytes.subarray(0, end)).digest();
  if (!hash.equals(bytes.subarray(end))) {
    // Either the end was cut off (the last 32 bytes are then data, not a hash) or a byte changed: say which is likely.
    const groups = tryDecode(bytes, bodyAt, end);
    const complete = groups !== undefined && groups.length === header.revisions;
    return { error: complete ? 'altered (SHA-256 trailer does not match)' : 'truncated or altered (SHA-256 mismatch)' };
  }
  const groups = tryDecode(bytes, bodyAt, end);
  if (!groups) return { error: 'malformed revision records' };
  const problem = headerProblem(header, groups);
  if (problem) return { error: problem };
  return { header, groups, hash: hash.toString('hex') };
}

function headerProblem(h: SegmentHeader, groups: RevisionGroup[]): string | undefined {
  if (groups.length === 0) return 'no revisions';
  if (groups.length !== h.revisions) return `header says ${h.revisions} revisions, found ${groups.length}`;
  if (groups[0]!.revision !== h.first || groups[groups.length - 1]!.revision !== h.last) {
    return `header says revisions ${h.first}..${h.last}, found ${groups[0]!.revision}..${groups.at(-1)!.revision}`;
  }
  for (let i = 1; i < groups.length; i++) {
    if (groups[i]!.revision !== groups[i - 1]!.revision + 1) {
      return `revision ${groups[i - 1]!.revision + 1} is missing inside the object`;
    }
  }
  const events = groups.reduce((n, g) => n + g.events.length, 0);
  if (events !== h.events) return `header says ${h.events} events, found ${events}`;
  return undefined;
}

function tryDecode(bytes: Buffer, from: number, to: number): RevisionGroup[] | undefined {
  try {
    return decodeGroups(bytes.subarray(from, to));
  } catch {
    return undefined;
  }
}

/** Inverse of encodeGroups; throws on malformed input. Keys and values are views into `body` (no copies). */
export function decodeGroups(body: Buffer): RevisionGroup[] {
  const r = new Reader(body);
  const groups: RevisionGroup[] = [];
  while (!r.done) {
    const revision = r.varint();
    const observedAt = r.varint();
    const count = r.varint();
    const events: LogEvent[] = [];
    for (let i = 0; i < count; i++) {
      const type = r.byte();
      const key = r.bytes();
      if (type === 0) {
        const value = r.bytes();
        events.push({ type: 'put', key, value, createRevision: r.varint(), version: r.varint(), lease: r.u64() });
      } else if (type === 1) events.push({ type: 'delete', key });
      else throw new Error(`unknown event type ${type}`);
    }
    groups.push({ revision, observedAt, events });
  }
  return groups;
}

class Writer {
  private buf: Buffer;
  private pos = 0;

  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  byte(b: number): void {
    this.room(1);
    this.buf[this.pos++] = b;
  }

  varint(n: number): void {
    if (!Number.isSafeInteger(n) || n < 0) throw new Error(`not a non-negative safe integer: ${n}`);
    this.room(varintSize(n));
    let v = n;
    while (v >= 0x80) {
      this.buf[this.pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.pos++] = v;
  }

  bytes(b: Buffer): void {
    this.varint(b.length);
    this.room(b.length);
    b.copy(this.buf, this.pos);
    this.pos += b.length;
  }

  u64(decimal: string): void {
    this.room(8);
    this.buf.writeBigUInt64BE(BigInt.asUintN(64, BigInt(decimal)), this.pos);
    this.pos += 8;
  }

  finish(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

class Reader {
  private pos = 0;

  constructor(private readonly buf: Buffer) {}

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw new Error('record cut off');
  }

  byte(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  varint(): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.byte();
      value += (b & 0x7f) * scale;
      if (b < 0x80) return value;
      scale *= 128;
    }
    throw new Error('varint too long');
  }

  bytes(): Buffer {
    const n = this.varint();
    this.need(n);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  u64(): string {
    this.need(8);
    const v = this.buf.readBigUInt64BE(this.pos);
    this.pos += 8;
    return BigInt.asIntN(64, v).toString();
  }
}
