/**
 * The on-disk format of bbolt, the B+tree file etcd keeps its backend in (go.etcd.io/bbolt, format version 2), as far
 * as Lifeboat reads and writes it: pages, meta pages, leaf/branch elements, bucket headers, the freelist page.
 * Pure: bytes in, bytes out. Little-endian throughout, as bbolt writes it on every platform etcd supports.
 *
 *   page      = header (id u64, flags u16, count u16, overflow u32) | body; a page with `overflow` n spans n+1
 *               consecutive pages of the file
 *   meta      = magic u32, version u32, pageSize u32, flags u32, root bucket (root u64, sequence u64), freelist u64,
 *               pgid u64 (high-water mark: pages in the file), txid u64, checksum u64 = FNV-64a of the fields before it;
 *               pages 0 and 1 hold one each (page id = txid % 2), the valid one with the higher txid is current
 *   leaf      = count elements (flags u32, pos u32, ksize u32, vsize u32), then keys and values; `pos` counts from the
 *               element's own first byte to its key, the value follows the key. flags 1 = the value is a bucket
 *   branch    = count elements (pos u32, ksize u32, pgid u64), then keys: the first key of each child page
 *   bucket    = root u64, sequence u64; root 0 = an inline bucket: a leaf page (header + elements + data) follows
 *   freelist  = count pgids u64 (count 0xFFFF: the first u64 is the real count)
 */

export const PAGE_HEADER_SIZE = 16;
export const ELEMENT_SIZE = 16; // leaf and branch elements are both 16 bytes
export const BUCKET_HEADER_SIZE = 16;
export const META_SIZE = 64;
export const MAGIC = 0xed0cdaed;
export const VERSION = 2;
export const MAX_COUNT = 0xffff;

export const BRANCH_PAGE = 0x01;
export const LEAF_PAGE = 0x02;
export const META_PAGE = 0x04;
export const FREELIST_PAGE = 0x10;
export const BUCKET_LEAF_FLAG = 0x01;
/** meta.freelist when the freelist is not written (bbolt's NoFreelistSync). */
export const NO_FREELIST = 0xffffffffffffffffn;

export interface PageHeader {
  id: number;
  flags: number;
  count: number;
  overflow: number;
}

export function readPageHeader(buf: Buffer, at = 0): PageHeader {
  if (buf.length < at + PAGE_HEADER_SIZE) throw new BoltFormatError('a page is cut short');
  return {
    id: u64(buf, at),
    flags: buf.readUInt16LE(at + 8),
    count: buf.readUInt16LE(at + 10),
    overflow: buf.readUInt32LE(at + 12),
  };
}

export function writePageHeader(buf: Buffer, h: PageHeader, at = 0): void {
  buf.writeBigUInt64LE(BigInt(h.id), at);
  buf.writeUInt16LE(h.flags, at + 8);
  buf.writeUInt16LE(h.count, at + 10);
  buf.writeUInt32LE(h.overflow, at + 12);
}

export interface Meta {
  pageSize: number;
  flags: number;
  root: BucketHeader;
  /** Page of the freelist, or NO_FREELIST. */
  freelist: bigint;
  /** High-water mark: the number of pages the file holds. */
  pgid: number;
  txid: number;
}

export interface BucketHeader {
  /** Page id of the bucket's root page; 0 for an inline bucket. */
  root: number;
  sequence: bigint;
}

/** Parses the meta that follows a page header at `at`; throws BoltFormatError when it is not a valid one. */
export function readMeta(buf: Buffer, at = PAGE_HEADER_SIZE): Meta {
  if (buf.length < at + META_SIZE) throw new BoltFormatError('the meta page is cut short');
  if (buf.readUInt32LE(at) !== MAGIC) throw new BoltFormatError('not a bbolt file (bad magic)');
  const version = buf.readUInt32LE(at + 4);
  if (version !== VERSION) throw new BoltFormatError(`bbolt format version ${version}, not ${VERSION}`);
  if (buf.readBigUInt64LE(at + 56) !== fnv64a(buf.subarray(at, at + 56))) {
    throw new BoltFormatError('the meta page checksum does not match');
  }
  return {
    pageSize: buf.readUInt32LE(at + 8),
    flags: buf.readUInt32LE(at + 12),
    root: readBucketHeader(buf, at + 16),
    freelist: buf.readBigUInt64LE(at + 32),
    pgid: u64(buf, at + 40),
    txid: u64(buf, at + 48),
  };
}

/** A whole meta page (page id txid % 2, as bbolt writes it). */
export function metaPage(m: Meta): Buffer {
  if (m.root.root >= m.pgid) throw new Error(`root bucket page ${m.root.root} is past the high-water mark ${m.pgid}`);
  const page = Buffer.alloc(m.pageSize);
  writePageHeader(page, { id: m.txid % 2, flags: META_PAGE, count: 0, overflow: 0 });
  const at = PAGE_HEADER_SIZE;
  page.writeUInt32LE(MAGIC, at);
  page.writeUInt32LE(VERSION, at + 4);
  page.writeUInt32LE(m.pageSize, at + 8);
  page.writeUInt32LE(m.flags, at + 12);
  writeBucketHeader(page, m.root, at + 16);
  page.writeBigUInt64LE(m.freelist, at + 32);
  page.writeBigUInt64LE(BigInt(m.pgid), at + 40);
  page.writeBigUInt64LE(BigInt(m.txid), at + 48);
  page.writeBigUInt64LE(fnv64a(page.subarray(at, at + 56)), at + 56);
  return page;
}

/** An empty freelist page: the writer leaves no page free. */
export function emptyFreelistPage(id: number, pageSize: number): Buffer {
  const page = Buffer.alloc(pageSize);
  writePageHeader(page, { id, flags: FREELIST_PAGE, count: 0, overflow: 0 });
  return page;
}

export function readBucketHeader(buf: Buffer, at = 0): BucketHeader {
  if (buf.length < at + BUCKET_HEADER_SIZE) throw new BoltFormatError('a bucket header is cut short');
  return { root: u64(buf, at), sequence: buf.readBigUInt64LE(at + 8) };
}

export function writeBucketHeader(buf: Buffer, h: BucketHeader, at = 0): void {
  buf.writeBigUInt64LE(BigInt(h.root), at);
  buf.writeBigUInt64LE(h.sequence, at + 8);
}

export function bucketHeader(h: BucketHeader): Buffer {
  const buf = Buffer.alloc(BUCKET_HEADER_SIZE);
  writeBucketHeader(buf, h);
  return buf;
}

export interface LeafElement {
  flags: number;
  key: Buffer;
  value: Buffer;
}

export interface BranchElement {
  key: Buffer;
  pgid: number;
}

/** The elements of a leaf page starting at `at` in `buf` (views into `buf`, not copies). */
export function leafElements(buf: Buffer, at = 0): LeafElement[] {
  const h = readPageHeader(buf, at);
  if (h.flags !== LEAF_PAGE) throw new BoltFormatError(`page ${h.id} is not a leaf page (flags ${h.flags})`);
  const out: LeafElement[] = [];
  for (let i = 0; i < h.count; i++) {
    const e = at + PAGE_HEADER_SIZE + i * ELEMENT_SIZE;
    const flags = buf.readUInt32LE(e);
    const k = e + buf.readUInt32LE(e + 4);
    const ksize = buf.readUInt32LE(e + 8);
    const vsize = buf.readUInt32LE(e + 12);
    if (k + ksize + vsize > buf.length) throw new BoltFormatError(`page ${h.id}: element ${i} runs past the page`);
    out.push({ flags, key: buf.subarray(k, k + ksize), value: buf.subarray(k + ksize, k + ksize + vsize) });
  }
  return out;
}

export function branchElements(buf: Buffer): BranchElement[] {
  const h = readPageHeader(buf);
  if (h.flags !== BRANCH_PAGE) throw new BoltFormatError(`page ${h.id} is not a branch page (flags ${h.flags})`);
  const out: BranchElement[] = [];
  for (let i = 0; i < h.count; i++) {
    const e = PAGE_HEADER_SIZE + i * ELEMENT_SIZE;
    const k = e + buf.readUInt32LE(e);
    const ksize = buf.readUInt32LE(e + 4);
    if (k + ksize > buf.length) throw new BoltFormatError(`page ${h.id}: element ${i} runs past the page`);
    out.push({ key: buf.subarray(k, k + ksize), pgid: u64(buf, e + 8) });
  }
  return out;
}

/** The bytes a page with these elements takes: header, elements, then keys (and values). */
export function pageBytes(count: number, dataBytes: number): number {
  return PAGE_HEADER_SIZE + count * ELEMENT_SIZE + dataBytes;
}

/**
 * Lays out a leaf (`values` given) or branch (`children` given) page with id `id`: as many consecutive pages as it
 * needs (the overflow), zero-filled to whole pages.
 */
export function encodePage(
  id: number,
  pageSize: number,
  elements: { keys: Buffer[]; values?: Buffer[]; flags?: number[]; children?: number[] },
): Buffer {
  const { keys, values, children } = elements;
  const count = keys.length;
  if (count > MAX_COUNT) throw new Error(`a page holds at most ${MAX_COUNT} elements, not ${count}`);
  let data = 0;
  for (let i = 0; i < count; i++) data += keys[i]!.length + (values ? values[i]!.length : 0);
  const size = pageBytes(count, data);
  const pages = Math.ceil(size / pageSize);
  const buf = Buffer.alloc(pages * pageSize);
  writePageHeader(buf, { id, flags: values ? LEAF_PAGE : BRANCH_PAGE, count, overflow: pages - 1 });
  let off = PAGE_HEADER_SIZE + count * ELEMENT_SIZE;
  for (let i = 0; i < count; i++) {
    const e = PAGE_HEADER_SIZE + i * ELEMENT_SIZE;
    const key = keys[i]!;
    if (values) {
      const value = values[i]!;
      buf.writeUInt32LE(elements.flags?.[i] ?? 0, e);
      buf.writeUInt32LE(off - e, e + 4);
      buf.writeUInt32LE(key.length, e + 8);
      buf.writeUInt32LE(value.length, e + 12);
      key.copy(buf, off);
      value.copy(buf, off + key.length);
      off += key.length + value.length;
    } else {
      buf.writeUInt32LE(off - e, e);
      buf.writeUInt32LE(key.length, e + 4);
      buf.writeBigUInt64LE(BigInt(children![i]!), e + 8);
      key.copy(buf, off);
      off += key.length;
    }
  }
  return buf;
}

const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const MASK64 = 0xffffffffffffffffn;

/** FNV-1a, 64 bit: bbolt's meta checksum. */
export function fnv64a(bytes: Uint8Array): bigint {
  let h = FNV_OFFSET;
  for (const b of bytes) h = ((h ^ BigInt(b)) * FNV_PRIME) & MASK64;
  return h;
}

/** A u64 that must be a safe integer (page ids, txids). */
function u64(buf: Buffer, at: number): number {
  const v = buf.readBigUInt64LE(at);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new BoltFormatError(`value ${v} is out of range`);
  return Number(v);
}

export class BoltFormatError extends Error {
  override name = 'BoltFormatError';
}
