import { closeSync, fsyncSync, openSync, readSync, writeSync } from 'node:fs';
import {
  BoltFormatError,
  emptyFreelistPage,
  META_SIZE,
  type Meta,
  metaPage,
  PAGE_HEADER_SIZE,
  readMeta,
  readPageHeader,
} from '../../domain/bbolt/format.js';
import { BoltReader, PageAllocator, type PageSink } from '../../domain/bbolt/tree.js';

/**
 * bbolt files on disk (format and tree logic in src/domain/bbolt/): a reader that reads pages on demand (a snapshot
 * can be bigger than memory) and a writer that writes the pages a BucketWriter emits, batched into large writes.
 */

export interface BoltFile {
  reader: BoltReader;
  meta: Meta;
  close(): void;
}

/** Opens a bbolt file (a trailing SHA-256 as `etcdctl snapshot save` appends it is simply never read). */
export function openBoltFile(path: string): BoltFile {
  const fd = openSync(path, 'r');
  try {
    const meta = currentMeta(fd);
    const pageSize = meta.pageSize;
    const source = {
      pageSize,
      page(id: number): Buffer {
        const first = readAt(fd, id * pageSize, pageSize);
        const { overflow } = readPageHeader(first);
        if (overflow === 0) return first;
        if (id + overflow >= meta.pgid) throw new BoltFormatError(`page ${id} overflows past the end of the file`);
        return Buffer.concat([first, readAt(fd, (id + 1) * pageSize, overflow * pageSize)]);
      },
    };
    return { reader: new BoltReader(source, meta), meta, close: () => closeSync(fd) };
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

/** The valid meta page with the higher txid, as bbolt picks it. */
function currentMeta(fd: number): Meta {
  const metas: Meta[] = [];
  const problems: string[] = [];
  const tryMeta = (offset: number) => {
    try {
      metas.push(readMeta(readAt(fd, offset, PAGE_HEADER_SIZE + META_SIZE)));
    } catch (err) {
      problems.push(err instanceof Error ? err.message : String(err));
    }
  };
  tryMeta(0);
  // Page 1 sits one page in; the page size comes from meta 0, or is the usual 4096 when meta 0 is damaged.
  tryMeta(metas[0]?.pageSize ?? 4096);
  const best = metas.sort((a, b) => b.txid - a.txid)[0];
  if (!best) throw new BoltFormatError(`no valid meta page: ${problems.join('; ')}`);
  return best;
}

function readAt(fd: number, position: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  let got = 0;
  while (got < length) {
    const n = readSync(fd, buf, got, length - got, position + got);
    if (n === 0) throw new BoltFormatError(`the file ends inside the page at byte ${position}`);
    got += n;
  }
  return buf;
}

const BATCH_BYTES = 4 * 1024 * 1024;

/**
 * Writes a new bbolt file page by page: data pages from page 3 on (`alloc`, `sink`), then `finish()` writes the
 * empty freelist (page 2) and both meta pages. Pages arriving in order are written in batches of 4 MiB.
 */
export class BoltFileWriter {
  readonly alloc = new PageAllocator(3);
  private readonly fd: number;
  private batch: Buffer[] = [];
  private batchBytes = 0;
  private batchAt = 0;
  bytes = 0;

  constructor(
    path: string,
    readonly pageSize: number,
  ) {
    this.fd = openSync(path, 'wx', 0o600);
  }

  readonly sink: PageSink = (id, bytes) => {
    const at = id * this.pageSize;
    if (this.batchBytes > 0 && (at !== this.batchAt + this.batchBytes || this.batchBytes >= BATCH_BYTES)) {
      this.flush();
    }
    if (this.batchBytes === 0) this.batchAt = at;
    this.batch.push(bytes);
    this.batchBytes += bytes.length;
  };

  /** Writes the freelist and meta pages, fsyncs and closes. */
  finish(meta: { root: Meta['root']; txid: number }): void {
    this.flush();
    const pgid = this.alloc.next;
    this.sink(2, emptyFreelistPage(2, this.pageSize));
    this.flush();
    // Both metas name the same tree; the txids differ so that each sits on its own page (id = txid % 2).
    const base = meta.txid - (meta.txid % 2);
    for (const txid of [base, base + 1]) {
      const m: Meta = { pageSize: this.pageSize, flags: 0, root: meta.root, freelist: 2n, pgid, txid };
      this.sink(txid % 2, metaPage(m));
      this.flush();
    }
    this.bytes = pgid * this.pageSize;
    fsyncSync(this.fd);
    closeSync(this.fd);
  }

  abort(): void {
    closeSync(this.fd);
  }

  private flush(): void {
    if (this.batchBytes === 0) return;
    const buf = this.batch.length === 1 ? this.batch[0]! : Buffer.concat(this.batch, this.batchBytes);
    let done = 0;
    while (done < buf.length) done += writeSync(this.fd, buf, done, buf.length - done, this.batchAt + done);
    this.batch = [];
    this.batchBytes = 0;
  }
}
