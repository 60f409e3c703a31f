import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseBoltMeta, SnapshotChecker } from '../../../src/domain/backup/snapshot-check.js';
import { fakeDatabase, fakeSnapshot, sha256, split } from './fixtures.js';

function check(bytes: Buffer, cuts: number[] = []) {
  const checker = new SnapshotChecker();
  for (const chunk of split(bytes, cuts)) checker.update(chunk);
  return checker.finish();
}

describe('snapshot trailer check', () => {
  const good = fakeSnapshot(6);

  it('accepts an intact snapshot and reports the whole-file SHA-256', () => {
    const result = check(good, [100, 4096, 9000]);
    expect(result).toMatchObject({ ok: true, size: good.length, expectedDatabaseBytes: 6 * 4096 });
    expect(result.sha256).toBe(sha256(good));
  });

  it('gives the same verdict and hash however the stream is chunked (1-byte chunks and chunks < 32 included)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: good.length - 1 }), { maxLength: 40 }), (cuts) => {
        const r = check(good, cuts);
        expect(r.ok).toBe(true);
        expect(r.sha256).toBe(sha256(good));
      }),
      { numRuns: 200 },
    );
    const bytewise = check(
      good,
      Array.from({ length: good.length }, (_, i) => i),
    );
    expect(bytewise.ok).toBe(true);
  });

  it('names a flipped byte anywhere as a hash mismatch', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: good.length - 1 }), fc.integer({ min: 1, max: 255 }), (at, bits) => {
        const bad = Buffer.from(good);
        bad[at]! ^= bits;
        const r = check(bad, [at, at + 1]);
        expect(r.ok).toBe(false);
        // A flip in the bolt magic makes it "not a snapshot"; anywhere else the hash catches it.
        expect(['hash-mismatch', 'not-bolt']).toContain(r.problem!.code);
        if (at >= 20) expect(r.problem!.code).toBe('hash-mismatch');
      }),
      { numRuns: 300 },
    );
  });

  it('names truncation at any offset', () => {
    for (const end of [1, 79, 80, 4096, 4096 * 3 + 17, good.length - 33, good.length - 31, good.length - 1]) {
      const r = check(good.subarray(0, end));
      expect(r.ok, `cut at ${end}`).toBe(false);
      expect(r.problem!.code, `cut at ${end}`).toBe('truncated');
      expect(r.problem!.message).toMatch(/^truncated/);
    }
  });

  it('names a file without the hash trailer (a bare bbolt database)', () => {
    const r = check(fakeDatabase(6));
    expect(r.problem).toMatchObject({ code: 'missing-trailer' });
    expect(r.problem!.message).toMatch(/hash trailer missing/);
  });

  it("names a live member's db grown past its data (etcd 3.5 preallocates) as a missing trailer, not extra bytes", () => {
    const grown = Buffer.concat([fakeDatabase(6), Buffer.alloc(4 * 4096)]);
    const r = check(grown);
    expect(r.problem).toMatchObject({ code: 'missing-trailer' });
    expect(r.problem!.message).toMatch(/whole pages \(the database uses the first 24576\).*member\/snap\/db/);
    // A snapshot with bytes appended that do not make whole pages is still extra bytes.
    expect(check(Buffer.concat([good, Buffer.alloc(4096)])).problem!.code).toBe('extra-bytes');
  });

  it('names bytes after the trailer, an empty file, a stranger and an age file', () => {
    expect(check(Buffer.concat([good, Buffer.from('x')])).problem!.code).toBe('extra-bytes');
    expect(check(Buffer.alloc(0)).problem!.code).toBe('empty');
    expect(check(Buffer.alloc(8192, 7)).problem!.code).toBe('not-bolt');
    const age = Buffer.concat([Buffer.from('age-encryption.org/v1\n-> X25519 abc\n'), Buffer.alloc(200)]);
    expect(check(age).problem!.code).toBe('encrypted');
  });

  it('falls back to the trailer when the meta page itself is damaged', () => {
    const bad = Buffer.from(good);
    bad[60]! ^= 0x01; // page count field: meta checksum no longer holds
    expect(parseBoltMeta(bad)!.checksumOk).toBe(false);
    expect(check(bad).problem!.code).toBe('hash-mismatch');
  });

  it('reads bbolt meta: page size and page count', () => {
    expect(parseBoltMeta(fakeDatabase(9, 8192))).toMatchObject({ pageSize: 8192, pageCount: 9, checksumOk: true });
    expect(check(fakeSnapshot(9, 8192)).ok).toBe(true);
  });
});
