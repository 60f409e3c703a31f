import type { LogEvent } from './segment.js';

/**
 * What etcd's mvcc store keeps in its bbolt backend (etcd server/mvcc, the same on 3.4 and 3.5), as far as a replay
 * writes it (ADR 015). Pure.
 *
 * - bucket `key`: one entry per change, keyed by revision: 8-byte big-endian main revision, '_', 8-byte big-endian
 *   sub revision (the change's index inside its transaction), plus 't' for a deletion (a tombstone). The value is
 *   an mvccpb.KeyValue: key, create_revision, mod_revision, version, value, lease; a tombstone holds the key only.
 *   Keys sort by revision, so every revision after a snapshot's sorts after all of the snapshot's.
 * - bucket `lease`: 8-byte big-endian lease id → leasepb.Lease {ID, TTL}.
 * - bucket `meta`: `finishedCompactRev` / `scheduledCompactRev` (revision bytes), consistent index, term …
 * etcd rebuilds its in-memory index from the key bucket at start: its current revision is the greatest main
 * revision there, or the finished compaction's when that is greater.
 */

export const KEY_BUCKET = 'key';
export const META_BUCKET = 'meta';
export const LEASE_BUCKET = 'lease';
export const FINISHED_COMPACT_KEY = 'finishedCompactRev';
/** The TTL a lease first named by the log gets (the watch carries lease ids, not TTLs; ADR 010). */
export const REPLAYED_LEASE_TTL_S = 3600;

const REV_BYTES = 17;

export function revisionKey(main: number, sub: number, tombstone: boolean): Buffer {
  const buf = Buffer.alloc(tombstone ? REV_BYTES + 1 : REV_BYTES);
  writeU64BE(buf, main, 0);
  buf[8] = 0x5f; // '_'
  writeU64BE(buf, sub, 9);
  if (tombstone) buf[REV_BYTES] = 0x74; // 't'
  return buf;
}

/** A safe integer as 8 bytes big-endian, without a BigInt per call (a replay writes millions). */
function writeU64BE(buf: Buffer, v: number, at: number): void {
  buf.writeUInt32BE(Math.floor(v / 0x1_0000_0000), at);
  buf.writeUInt32BE(v % 0x1_0000_0000, at + 4);
}

/** The main revision of a key-bucket key or a compaction mark. */
export function mainRevision(revBytes: Buffer): number {
  if (revBytes.length < REV_BYTES || revBytes[8] !== 0x5f) {
    throw new Error(`not an etcd revision: ${revBytes.toString('hex')}`);
  }
  return Number(revBytes.readBigUInt64BE(0));
}

/** The key-bucket entry of the `sub`th change of revision `revision`. */
export function keyBucketEntry(revision: number, sub: number, e: LogEvent): { key: Buffer; value: Buffer } {
  if (e.type === 'delete') return { key: revisionKey(revision, sub, true), value: encodeKeyValue({ key: e.key }) };
  return {
    key: revisionKey(revision, sub, false),
    value: encodeKeyValue({
      key: e.key,
      createRevision: e.createRevision,
      modRevision: revision,
      version: e.version,
      value: e.value,
      lease: e.lease === '0' ? 0n : BigInt(e.lease),
    }),
  };
}

/** mvccpb.KeyValue as gogoproto marshals it: fields in number order, zero values left out. */
export function encodeKeyValue(kv: {
  key: Buffer;
  createRevision?: number;
  modRevision?: number;
  version?: number;
  value?: Buffer;
  lease?: bigint;
}): Buffer {
  const w = new ProtoWriter(kv.key.length + (kv.value?.length ?? 0) + 48);
  w.bytes(1, kv.key);
  w.int(2, kv.createRevision ?? 0);
  w.int(3, kv.modRevision ?? 0);
  w.int(4, kv.version ?? 0);
  if (kv.value) w.bytes(5, kv.value);
  w.int(6, kv.lease ?? 0n);
  return w.done();
}

export function leaseKey(id: bigint): Buffer {
  const buf = Buffer.alloc(8);
  buf.writeBigInt64BE(id);
  return buf;
}

/** leasepb.Lease {ID, TTL}. */
export function encodeLease(id: bigint, ttlSeconds: number): Buffer {
  const w = new ProtoWriter(24);
  w.int(1, id);
  w.int(2, ttlSeconds);
  return w.done();
}

class ProtoWriter {
  private buf: Buffer;
  private at = 0;

  constructor(size: number) {
    this.buf = Buffer.alloc(size);
  }

  bytes(field: number, b: Buffer): void {
    if (b.length === 0) return;
    this.varint((field << 3) | 2);
    this.varint(b.length);
    this.room(b.length);
    b.copy(this.buf, this.at);
    this.at += b.length;
  }

  /** An int64 field (negatives take ten bytes, as in Go). */
  int(field: number, v: number | bigint): void {
    if (v === 0 || v === 0n) return;
    this.varint(field << 3);
    this.varint(typeof v === 'bigint' || v < 0 || v > Number.MAX_SAFE_INTEGER ? BigInt.asUintN(64, BigInt(v)) : v);
  }

  done(): Buffer {
    return this.buf.subarray(0, this.at);
  }

  private varint(v: number | bigint): void {
    this.room(10);
    if (typeof v === 'bigint') {
      while (v >= 0x80n) {
        this.buf[this.at++] = Number(v & 0x7fn) | 0x80;
        v >>= 7n;
      }
      this.buf[this.at++] = Number(v);
      return;
    }
    while (v >= 0x80) {
      this.buf[this.at++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.at++] = v;
  }

  private room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const bigger = Buffer.alloc(Math.max(this.buf.length * 2, this.at + n));
    this.buf.copy(bigger);
    this.buf = bigger;
  }
}
