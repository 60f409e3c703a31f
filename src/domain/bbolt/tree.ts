import {
  BoltFormatError,
  BRANCH_PAGE,
  BUCKET_LEAF_FLAG,
  type BucketHeader,
  branchElements,
  bucketHeader,
  ELEMENT_SIZE,
  encodePage,
  LEAF_PAGE,
  type LeafElement,
  leafElements,
  MAX_COUNT,
  type Meta,
  PAGE_HEADER_SIZE,
  pageBytes,
  readBucketHeader,
  readPageHeader,
} from './format.js';

/**
 * Reading and writing bbolt trees (format in ./format.ts). Pure: pages come from a PageSource and go to a PageSink,
 * the adapter (src/adapters/bbolt/file.ts) does the file I/O.
 *
 * The reader walks a bucket's B+tree in key order (branch pages → leaf pages, overflow included, inline buckets).
 * The writer is a bulk loader for keys that arrive already sorted: it fills leaf pages one after the other (a value
 * too big for a page gets a page with overflow pages of its own), emits each page as soon as it is full, and at the
 * end builds the branch levels above them from the first key of every page. Memory: one page of entries plus one
 * key per page written. It writes every bucket with a root page of its own (never inline) and leaves no page free:
 * both are states bbolt itself reads and writes on.
 */

/** Whole pages by id (a page with overflow comes back with all its pages). */
export interface PageSource {
  readonly pageSize: number;
  page(id: number): Buffer;
}

export type PageSink = (id: number, bytes: Buffer) => void;

/** Where a bucket's tree starts: its root page, or the inline page inside its parent's value. */
export interface BucketRef {
  header: BucketHeader;
  /** The inline page (header + elements + data) when header.root is 0. */
  inline?: Buffer;
}

export interface NamedBucket extends BucketRef {
  name: Buffer;
}

export class BoltReader {
  constructor(
    private readonly source: PageSource,
    readonly meta: Meta,
  ) {}

  /** The top-level buckets, in name order. */
  buckets(): NamedBucket[] {
    const out: NamedBucket[] = [];
    for (const e of this.entries({ header: this.meta.root })) {
      if (!(e.flags & BUCKET_LEAF_FLAG))
        throw new BoltFormatError(`the root bucket holds a plain key ${e.key.toString('hex')}`);
      out.push({ name: Buffer.from(e.key), ...bucketRef(e.value) });
    }
    return out;
  }

  bucket(name: string): NamedBucket | undefined {
    return this.buckets().find((b) => b.name.toString() === name);
  }

  /** Every element of a bucket in key order (views into page buffers: copy what you keep). */
  *entries(b: BucketRef): Generator<LeafElement> {
    if (b.header.root === 0) {
      if (!b.inline) throw new BoltFormatError('an inline bucket without its page');
      yield* leafElements(b.inline);
      return;
    }
    yield* this.walk(b.header.root, 0);
  }

  /** The greatest key of a bucket (one path down the tree). */
  lastKey(b: BucketRef): Buffer | undefined {
    if (b.header.root === 0) return leafElements(b.inline!).at(-1)?.key;
    for (let id = b.header.root, depth = 0; ; depth++) {
      const page = this.page(id, depth);
      if (readPageHeader(page).flags === LEAF_PAGE) return leafElements(page).at(-1)?.key;
      const last = branchElements(page).at(-1);
      if (!last) return undefined;
      id = last.pgid;
    }
  }

  get(b: BucketRef, key: Buffer): Buffer | undefined {
    for (const e of this.entries(b)) {
      const c = Buffer.compare(e.key, key);
      if (c === 0) return e.value;
      if (c > 0) return undefined;
    }
    return undefined;
  }

  private *walk(id: number, depth: number): Generator<LeafElement> {
    const page = this.page(id, depth);
    const h = readPageHeader(page);
    if (h.flags === LEAF_PAGE) {
      yield* leafElements(page);
    } else {
      for (const child of branchElements(page)) yield* this.walk(child.pgid, depth + 1);
    }
  }

  private page(id: number, depth: number): Buffer {
    if (depth > 64) throw new BoltFormatError('the tree is deeper than 64 levels (a loop?)');
    if (id < 2 || id >= this.meta.pgid) throw new BoltFormatError(`page ${id} is outside the file (${this.meta.pgid})`);
    const page = this.source.page(id);
    const h = readPageHeader(page);
    if (h.id !== id) throw new BoltFormatError(`page ${id} says it is page ${h.id}`);
    if (h.flags !== LEAF_PAGE && h.flags !== BRANCH_PAGE) {
      throw new BoltFormatError(`page ${id} is neither a leaf nor a branch (flags ${h.flags})`);
    }
    return page;
  }
}

export function bucketRef(value: Buffer): BucketRef {
  const header = readBucketHeader(value);
  return header.root === 0 ? { header, inline: value.subarray(16) } : { header };
}

/** Hands out page ids in order: the writer's pages are consecutive and none is left free. */
export class PageAllocator {
  constructor(public next: number) {}

  take(pages: number): number {
    const id = this.next;
    this.next += pages;
    return id;
  }
}

/**
 * Bulk-loads one bucket from keys in strictly increasing order (bbolt compares keys bytewise). `finish()` writes the
 * last leaf and the branch levels and returns the root page id.
 */
export class BucketWriter {
  private keys: Buffer[] = [];
  private values: Buffer[] = [];
  private flags: number[] = [];
  private data = 0;
  private last: Buffer | undefined;
  /** First key and page id of every page of the level being built above the leaves. */
  private children: Array<{ key: Buffer; id: number }> = [];
  entries = 0;

  constructor(
    private readonly pageSize: number,
    private readonly alloc: PageAllocator,
    private readonly sink: PageSink,
  ) {}

  add(key: Buffer, value: Buffer, flags = 0): void {
    if (this.last && Buffer.compare(key, this.last) <= 0) {
      throw new Error(`keys must come in increasing order: ${key.toString('hex')} after ${this.last.toString('hex')}`);
    }
    const adds = key.length + value.length;
    if (this.keys.length > 0) {
      const full = pageBytes(this.keys.length + 1, this.data + adds) > this.pageSize;
      if (full || this.keys.length === MAX_COUNT) this.flushLeaf();
    }
    this.keys.push(key);
    this.values.push(value);
    this.flags.push(flags);
    this.data += adds;
    this.last = key;
    this.entries++;
  }

  finish(): number {
    if (this.keys.length > 0 || this.children.length === 0) this.flushLeaf();
    let level = this.children;
    this.children = [];
    while (level.length > 1) level = this.branchLevel(level);
    return level[0]!.id;
  }

  private flushLeaf(): void {
    const pages = Math.ceil(pageBytes(this.keys.length, this.data) / this.pageSize);
    const id = this.alloc.take(pages);
    const encoded = encodePage(id, this.pageSize, { keys: this.keys, values: this.values, flags: this.flags });
    // Copy the first key: it may be a view into a big buffer the caller would otherwise keep alive.
    this.children.push({ key: Buffer.from(this.keys[0] ?? Buffer.alloc(0)), id });
    this.sink(id, encoded);
    this.keys = [];
    this.values = [];
    this.flags = [];
    this.data = 0;
  }

  private branchLevel(level: Array<{ key: Buffer; id: number }>): Array<{ key: Buffer; id: number }> {
    const above: Array<{ key: Buffer; id: number }> = [];
    let start = 0;
    while (start < level.length) {
      let end = start;
      let bytes = PAGE_HEADER_SIZE;
      // At least two children per branch page, as bbolt keeps them (a one-key page would not shrink the level).
      while (
        end < level.length &&
        (end - start < 2 || (bytes + ELEMENT_SIZE + level[end]!.key.length <= this.pageSize && end - start < MAX_COUNT))
      ) {
        bytes += ELEMENT_SIZE + level[end]!.key.length;
        end++;
      }
      const slice = level.slice(start, end);
      const pages = Math.ceil(bytes / this.pageSize);
      const id = this.alloc.take(pages);
      this.sink(id, encodePage(id, this.pageSize, { keys: slice.map((c) => c.key), children: slice.map((c) => c.id) }));
      above.push({ key: slice[0]!.key, id });
      start = end;
    }
    return above;
  }
}

/** Writes the root bucket: one element per top-level bucket (names in any order), returns its root page. */
export function writeRootBucket(
  pageSize: number,
  alloc: PageAllocator,
  sink: PageSink,
  buckets: Array<{ name: Buffer; header: BucketHeader }>,
): number {
  const root = new BucketWriter(pageSize, alloc, sink);
  for (const b of [...buckets].sort((x, y) => Buffer.compare(x.name, y.name))) {
    root.add(b.name, bucketHeader(b.header), BUCKET_LEAF_FLAG);
  }
  return root.finish();
}
