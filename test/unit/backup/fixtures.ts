import { createHash } from 'node:crypto';
import { fnv1a64 } from '../../../src/domain/backup/snapshot-check.js';

/** A bbolt-shaped database (valid meta page 0) of `pages` pages with pseudo-random content, deterministic by seed. */
export function fakeDatabase(pages: number, pageSize = 4096, seed = 1): Buffer {
  const db = Buffer.alloc(pages * pageSize);
  let x = seed >>> 0 || 1;
  for (let i = 80; i < db.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    db[i] = x & 0xff;
  }
  db.fill(0, 0, 80);
  db.writeUInt16LE(0x04, 8); // meta page flag
  db.writeUInt32LE(0xed0cdaed, 16);
  db.writeUInt32LE(2, 20);
  db.writeUInt32LE(pageSize, 24);
  db.writeBigUInt64LE(3n, 32); // root bucket page
  db.writeBigUInt64LE(2n, 48); // freelist page
  db.writeBigUInt64LE(BigInt(pages), 56);
  db.writeBigUInt64LE(7n, 64); // txid
  db.writeBigUInt64LE(fnv1a64(db.subarray(16, 72)), 72);
  return db;
}

/** What etcd streams: the database followed by its SHA-256. */
export function fakeSnapshot(pages = 6, pageSize = 4096, seed = 1): Buffer {
  const db = fakeDatabase(pages, pageSize, seed);
  return Buffer.concat([db, createHash('sha256').update(db).digest()]);
}

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** `bytes` cut at the given offsets. */
export function split(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set([0, ...cuts.filter((c) => c > 0 && c < bytes.length), bytes.length])].sort(
    (a, b) => a - b,
  );
  return points.slice(1).map((end, i) => bytes.subarray(points[i]!, end));
}
