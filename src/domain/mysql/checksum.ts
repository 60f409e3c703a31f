/**
 * lifeboat-rowsum-v2: a table's checksum over its rows as the dump tool wrote them, JSON documents in canonical form
 * (v1 hashed them byte for byte; see canonicalJson in dump-parser.ts).
 *
 * Each row (the bytes between its parentheses in the INSERT) is hashed into two 32-bit lanes while the parser walks
 * it (FNV-1a and a multiply-xorshift lane, each finished with murmur3's fmix32, the row length mixed in); the table's
 * checksum is the sum of the row hashes, lane by lane, modulo 2^32. A sum does not depend on row order (a restored
 * table may come back in another order) and, unlike XOR, does not cancel duplicate rows of a table without a key.
 * This detects lost, extra or altered rows; it is not a cryptographic digest and does not pretend to be one (the
 * SHA-256 of the stored file in the manifest covers tampering with the file itself).
 */
export const CHECKSUM_ALGORITHM = 'lifeboat-rowsum-v2';

export class RowChecksum {
  private a = 0;
  private b = 0;

  /** One row's lanes as left by the parser's byte loop. */
  add(h1: number, h2: number, length: number): void {
    this.a = (this.a + fmix32(h1 ^ length)) >>> 0;
    this.b = (this.b + fmix32(h2 + Math.imul(length, 0x9e3779b1))) >>> 0;
  }

  hex(): string {
    return this.a.toString(16).padStart(8, '0') + this.b.toString(16).padStart(8, '0');
  }
}

function fmix32(value: number): number {
  let h = value;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
