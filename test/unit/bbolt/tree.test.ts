import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BoltFileWriter, openBoltFile } from '../../../src/adapters/bbolt/file.js';
import {
  BoltFormatError,
  bucketHeader,
  encodePage,
  type Meta,
  metaPage,
  readMeta,
  readPageHeader,
} from '../../../src/domain/bbolt/format.js';
import {
  BoltReader,
  BucketWriter,
  PageAllocator,
  type PageSource,
  writeRootBucket,
} from '../../../src/domain/bbolt/tree.js';

interface BucketSpec {
  name: Buffer;
  sequence: bigint;
  entries: Array<[Buffer, Buffer]>;
}

/** Writes buckets with the writer into memory; returns a reader over the pages and the raw file. */
function writeInMemory(pageSize: number, buckets: BucketSpec[]): { reader: BoltReader; file: Buffer } {
  const pages = new Map<number, Buffer>();
  const alloc = new PageAllocator(3);
  const sink = (id: number, bytes: Buffer) => {
    expect(bytes.length % pageSize).toBe(0);
    for (let p = id; p < id + bytes.length / pageSize; p++) expect(pages.has(p), `page ${p} written twice`).toBe(false);
    pages.set(id, bytes);
  };
  const headers = buckets.map((b) => {
    const w = new BucketWriter(pageSize, alloc, sink);
    for (const [k, v] of b.entries) w.add(k, v);
    return { name: b.name, header: { root: w.finish(), sequence: b.sequence } };
  });
  const root = writeRootBucket(pageSize, alloc, sink, headers);
  const meta: Meta = { pageSize, flags: 0, root: { root, sequence: 0n }, freelist: 2n, pgid: alloc.next, txid: 7 };
  const file = Buffer.alloc(alloc.next * pageSize);
  metaPage({ ...meta, txid: 6 }).copy(file, 0);
  metaPage(meta).copy(file, pageSize);
  for (const [id, bytes] of pages) bytes.copy(file, id * pageSize);
  // No holes: every page from 3 up to the high-water mark was written (the freelist is empty).
  let covered = 3;
  for (const id of [...pages.keys()].sort((a, b) => a - b)) {
    expect(id).toBe(covered);
    covered += pages.get(id)!.length / pageSize;
  }
  expect(covered).toBe(alloc.next);
  const source: PageSource = {
    pageSize,
    page: (id) => {
      const h = readPageHeader(file, id * pageSize);
      return file.subarray(id * pageSize, (id + 1 + h.overflow) * pageSize);
    },
  };
  return { reader: new BoltReader(source, readMeta(file, pageSize + 16)), file };
}

function sortedUnique(entries: Array<[Buffer, Buffer]>): Array<[Buffer, Buffer]> {
  const byKey = new Map(entries.map(([k, v]) => [k.toString('hex'), [k, v] as [Buffer, Buffer]]));
  return [...byKey.values()].sort((a, b) => Buffer.compare(a[0], b[0]));
}

const bytes = (min: number, max: number) =>
  fc.uint8Array({ minLength: min, maxLength: max }).map((a) => Buffer.from(a));
const value = fc.oneof(
  { weight: 8, arbitrary: bytes(0, 120) },
  // Bigger than any page size used here: a page of its own with overflow pages.
  { weight: 1, arbitrary: fc.integer({ min: 600, max: 20_000 }).map((n) => Buffer.alloc(n, n % 251)) },
);
const bucket = fc.record({
  name: bytes(1, 12),
  sequence: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
  entries: fc.array(fc.tuple(bytes(1, 40), value), { maxLength: 300 }).map(sortedUnique),
});
const buckets = fc
  .array(bucket, { minLength: 1, maxLength: 8 })
  .map((bs) => [...new Map(bs.map((b) => [b.name.toString('hex'), b])).values()]);

describe('bbolt writer and reader', () => {
  it('read back exactly what was written: random buckets, empty ones, big values, page sizes', () => {
    fc.assert(
      fc.property(fc.constantFrom(512, 1024, 4096), buckets, (pageSize, specs) => {
        const { reader } = writeInMemory(pageSize, specs);
        const names = specs.map((s) => s.name).sort(Buffer.compare);
        expect(reader.buckets().map((b) => b.name)).toEqual(names);
        for (const s of specs) {
          const ref = reader.buckets().find((b) => b.name.equals(s.name))!;
          expect(ref.header.sequence).toBe(s.sequence);
          const got = [...reader.entries(ref)].map((e) => [Buffer.from(e.key), Buffer.from(e.value)]);
          expect(got).toEqual(s.entries);
          expect(reader.lastKey(ref)).toEqual(s.entries.at(-1)?.[0]);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('many pages make several branch levels, and keys out of order are refused', () => {
    const entries: Array<[Buffer, Buffer]> = Array.from({ length: 20_000 }, (_, i) => [
      Buffer.from(`key-${String(i).padStart(8, '0')}`),
      Buffer.from(`v${i}`),
    ]);
    const { reader, file } = writeInMemory(512, [{ name: Buffer.from('key'), sequence: 0n, entries }]);
    const ref = reader.bucket('key')!;
    // Depth: walk the first child of each branch down to a leaf.
    let depth = 0;
    for (let id = ref.header.root; readPageHeader(file, id * 512).flags === 0x01; depth++) {
      id = Number(file.readBigUInt64LE(id * 512 + 16 + 8));
    }
    expect(depth).toBeGreaterThanOrEqual(3);
    expect([...reader.entries(ref)].map((e) => e.key.toString())).toEqual(entries.map(([k]) => k.toString()));
    expect(reader.get(ref, Buffer.from('key-00012345'))?.toString()).toBe('v12345');
    expect(reader.get(ref, Buffer.from('key-00012345x'))).toBeUndefined();

    const w = new BucketWriter(512, new PageAllocator(3), () => {});
    w.add(Buffer.from('b'), Buffer.alloc(0));
    expect(() => w.add(Buffer.from('a'), Buffer.alloc(0))).toThrow(/increasing order/);
    expect(() => w.add(Buffer.from('b'), Buffer.alloc(0))).toThrow(/increasing order/);
  });

  it('reads inline buckets (bbolt writes small buckets into their parent)', () => {
    const inlinePage = encodePage(0, 4096, {
      keys: [Buffer.from('a'), Buffer.from('b')],
      values: [Buffer.from('1'), Buffer.from('22')],
    });
    const inline = Buffer.concat([bucketHeader({ root: 0, sequence: 5n }), inlinePage.subarray(0, 16 + 32 + 5)]);
    const pages = new Map<number, Buffer>();
    const alloc = new PageAllocator(3);
    const root = new BucketWriter(4096, alloc, (id, b) => pages.set(id, b));
    root.add(Buffer.from('small'), inline, 1);
    const rootId = root.finish();
    const meta: Meta = {
      pageSize: 4096,
      flags: 0,
      root: { root: rootId, sequence: 0n },
      freelist: 2n,
      pgid: alloc.next,
      txid: 1,
    };
    const reader = new BoltReader({ pageSize: 4096, page: (id) => pages.get(id)! }, meta);
    const small = reader.bucket('small')!;
    expect(small.header).toEqual({ root: 0, sequence: 5n });
    expect([...reader.entries(small)].map((e) => `${e.key}=${e.value}`)).toEqual(['a=1', 'b=22']);
    expect(reader.lastKey(small)?.toString()).toBe('b');
  });

  it('a file: the current meta is the valid one with the higher txid; a damaged meta falls back to the other', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lifeboat-bbolt-'));
    try {
      const path = join(dir, 'db');
      const w = new BoltFileWriter(path, 4096);
      const b = new BucketWriter(4096, w.alloc, w.sink);
      for (let i = 0; i < 500; i++) b.add(Buffer.from(`k${String(i).padStart(4, '0')}`), Buffer.alloc(100, i));
      const root = writeRootBucket(4096, w.alloc, w.sink, [
        { name: Buffer.from('data'), header: { root: b.finish(), sequence: 3n } },
      ]);
      w.finish({ root: { root, sequence: 0n }, txid: 9 });
      const f = openBoltFile(path);
      try {
        expect(f.meta.txid).toBe(9);
        expect([...f.reader.entries(f.reader.bucket('data')!)]).toHaveLength(500);
      } finally {
        f.close();
      }
      expect(() => new BoltFileWriter(path, 4096)).toThrow(/EEXIST/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses what is not a bbolt meta page', () => {
    const page = metaPage({
      pageSize: 4096,
      flags: 0,
      root: { root: 3, sequence: 0n },
      freelist: 2n,
      pgid: 4,
      txid: 2,
    });
    expect(readMeta(page).pgid).toBe(4);
    const bad = Buffer.from(page);
    bad.writeUInt8(bad.readUInt8(16 + 40) ^ 1, 16 + 40); // the high-water mark, under the checksum
    expect(() => readMeta(bad)).toThrow(BoltFormatError);
    expect(() => readMeta(Buffer.alloc(4096))).toThrow(/magic/);
  });
});
