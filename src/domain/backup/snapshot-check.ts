import { createHash, type Hash } from 'node:crypto';

/**
 * What makes a file an intact etcd snapshot, checked as the bytes stream past (no second read, constant memory).
 *
 * An etcd snapshot (Maintenance.Snapshot, `etcdctl snapshot save`) is a bbolt database followed by 32 bytes: the
 * SHA-256 of everything before them. `etcdctl snapshot restore` checks that trailer; we check it first so a bad file is
 * named precisely. bbolt's meta page says how many pages the database has, so the expected length is known exactly:
 * that tells a truncated file, a file without trailer and a corrupted byte apart.
 */

export const TRAILER_BYTES = 32;
/** bbolt's header: page header (16) + meta up to and including its checksum (64). */
const HEADER_BYTES = 80;
const BOLT_MAGIC = 0xed0cdaed;
const AGE_HEADER = 'age-encryption.org/';

export type SnapshotProblemCode =
  | 'empty'
  | 'encrypted'
  | 'not-bolt'
  | 'missing-trailer'
  | 'truncated'
  | 'extra-bytes'
  | 'hash-mismatch';

export interface SnapshotProblem {
  code: SnapshotProblemCode;
  /** One sentence naming the check that failed. */
  message: string;
}

export interface SnapshotCheck {
  ok: boolean;
  problem?: SnapshotProblem;
  /** Bytes seen. */
  size: number;
  /** SHA-256 (hex) of every byte seen: the file's checksum, trailer included. */
  sha256: string;
  /** Database length the bbolt meta page promises (pages x page size), when its meta checksum holds. */
  expectedDatabaseBytes?: number;
}

export interface BoltMeta {
  pageSize: number;
  /** High-water page id: the database is exactly pageCount x pageSize bytes when written by bbolt's Tx.WriteTo. */
  pageCount: number;
  txid: number;
  checksumOk: boolean;
}

/** bbolt meta page 0 of a database (or snapshot) header, or undefined when the bytes are not bbolt. */
export function parseBoltMeta(header: Buffer): BoltMeta | undefined {
  if (header.length < HEADER_BYTES || header.readUInt32LE(16) !== BOLT_MAGIC) return undefined;
  const pageSize = header.readUInt32LE(24);
  const pageCount = Number(header.readBigUInt64LE(56));
  const txid = Number(header.readBigUInt64LE(64));
  const checksumOk = fnv1a64(header.subarray(16, 72)) === header.readBigUInt64LE(72);
  return { pageSize, pageCount, txid, checksumOk };
}

/** FNV-1a 64-bit: bbolt's meta checksum. */
export function fnv1a64(bytes: Uint8Array): bigint {
  let hash = 0xcbf29ce484222325n;
  for (const byte of bytes) {
    hash ^= BigInt(byte);
    hash = (hash * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return hash;
}

/**
 * Feed every byte in order with `update`, then `finish`. The last 32 bytes are held back from the body hash until
 * the stream ends (only then is it known which bytes are the trailer); the whole-file hash is derived from the body
 * hash with Hash.copy(), so each byte is hashed once.
 */
export class SnapshotChecker {
  private readonly body: Hash = createHash('sha256');
  private tail: Buffer = Buffer.alloc(0);
  private header: Buffer = Buffer.alloc(0);
  private size = 0;

  update(chunk: Buffer): void {
    this.size += chunk.length;
    if (this.header.length < HEADER_BYTES) {
      this.header = Buffer.concat([this.header, chunk.subarray(0, HEADER_BYTES - this.header.length)]);
    }
    if (chunk.length >= TRAILER_BYTES) {
      if (this.tail.length > 0) this.body.update(this.tail);
      this.body.update(chunk.subarray(0, chunk.length - TRAILER_BYTES));
      this.tail = Buffer.from(chunk.subarray(chunk.length - TRAILER_BYTES));
      return;
    }
    const joined = Buffer.concat([this.tail, chunk]);
    const release = joined.length - TRAILER_BYTES;
    if (release > 0) this.body.update(joined.subarray(0, release));
    this.tail = release > 0 ? joined.subarray(release) : joined;
  }

  /** Bytes seen so far. */
  get bytes(): number {
    return this.size;
  }

  finish(): SnapshotCheck {
    const whole = this.body.copy().update(this.tail).digest('hex');
    const bodyDigest = this.body.digest();
    return judgeSnapshot({ size: this.size, header: this.header, tail: this.tail, bodyDigest, sha256: whole });
  }
}

export interface SnapshotFacts {
  size: number;
  /** The first 80 bytes (fewer when the file is shorter). */
  header: Buffer;
  /** The last 32 bytes (fewer when the file is shorter). */
  tail: Buffer;
  /** SHA-256 of all bytes but the last 32. */
  bodyDigest: Buffer;
  sha256: string;
}

/** The verdict on a snapshot from what the stream showed. Checks in the order that names the cause best. */
export function judgeSnapshot(f: SnapshotFacts): SnapshotCheck {
  const base = { size: f.size, sha256: f.sha256 };
  const fail = (code: SnapshotProblemCode, message: string, extra: Partial<SnapshotCheck> = {}): SnapshotCheck => ({
    ...base,
    ...extra,
    ok: false,
    problem: { code, message },
  });
  if (f.size === 0) return fail('empty', 'empty file: no snapshot data at all');
  if (f.header.subarray(0, AGE_HEADER.length).toString('latin1') === AGE_HEADER) {
    return fail('encrypted', 'the file is age-encrypted: decrypt it first (--identity FILE or LIFEBOAT_AGE_IDENTITY)');
  }
  if (f.size < HEADER_BYTES) return fail('truncated', `truncated: only ${f.size} bytes, shorter than a bbolt header`);
  const meta = parseBoltMeta(f.header);
  if (!meta) return fail('not-bolt', 'not an etcd snapshot: the file does not start with a bbolt database header');
  const trailerOk = f.size >= TRAILER_BYTES && f.tail.length === TRAILER_BYTES && f.bodyDigest.equals(f.tail);
  const expected = meta.checksumOk ? meta.pageCount * meta.pageSize : undefined;
  const extra = expected === undefined ? {} : { expectedDatabaseBytes: expected };
  if (expected !== undefined) {
    if (f.size === expected) {
      return fail(
        'missing-trailer',
        `hash trailer missing: the file ends where the database ends (${expected} bytes) without the 32-byte SHA-256 etcd appends` +
          " (a copy of a member's member/snap/db is not a snapshot: take one with backup etcd)",
        extra,
      );
    }
    if (f.size < expected + TRAILER_BYTES) {
      return fail(
        'truncated',
        `truncated: ${f.size} bytes, but the database header promises ${expected} bytes plus a 32-byte hash trailer`,
        extra,
      );
    }
    if (f.size > expected + TRAILER_BYTES && f.size % meta.pageSize === 0 && !trailerOk) {
      // A live member's db on etcd 3.5 is grown ahead of its data (bbolt preallocates): whole pages past the last
      // one in use, and no trailer. Still a copy of member/snap/db, not a snapshot with bytes appended.
      return fail(
        'missing-trailer',
        `hash trailer missing: the file is ${f.size} bytes of whole pages (the database uses the first ${expected}) without the 32-byte SHA-256 etcd appends` +
          " (a copy of a member's member/snap/db is not a snapshot: take one with backup etcd)",
        extra,
      );
    }
    if (f.size > expected + TRAILER_BYTES) {
      return fail(
        'extra-bytes',
        `unexpected bytes after the hash trailer: ${f.size} bytes, expected ${expected + TRAILER_BYTES}`,
        extra,
      );
    }
  } else if (f.size % 512 === 0 && !trailerOk) {
    return fail(
      'missing-trailer',
      'hash trailer missing: the file length is a whole number of pages (no SHA-256 appended)',
    );
  }
  if (!trailerOk) {
    return fail(
      'hash-mismatch',
      `hash mismatch: the SHA-256 of the first ${Math.max(0, f.size - TRAILER_BYTES)} bytes is not the one in the trailer (the file is corrupted)`,
      extra,
    );
  }
  return { ...base, ...extra, ok: true };
}
