import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { BoltFormatError, BUCKET_LEAF_FLAG, type BucketHeader } from '../../domain/bbolt/format.js';
import { BucketWriter, type NamedBucket, writeRootBucket } from '../../domain/bbolt/tree.js';
import {
  encodeLease,
  FINISHED_COMPACT_KEY,
  KEY_BUCKET,
  keyBucketEntry,
  LEASE_BUCKET,
  leaseKey,
  META_BUCKET,
  mainRevision,
  REPLAYED_LEASE_TTL_S,
} from '../../domain/etcdlog/backend.js';
import type { RevisionGroup } from '../../domain/etcdlog/segment.js';
import { type BoltFile, BoltFileWriter, openBoltFile } from '../bbolt/file.js';
import type { SnapshotChunk } from '../etcd/snapshot-stream.js';

/**
 * The replay of ADR 015: a point-in-time backend written straight into a new bbolt file, from the base snapshot's
 * backend and the logged revisions, without an etcd in between. The `key` bucket is streamed: the base's entries in
 * order, then one entry per logged event (all of them sort after the base's, revisions only grow), so memory stays
 * at about a page plus one key per page written. Every other bucket is copied from the base; the lease bucket also
 * gets the leases the log names that the base does not hold (TTL one hour, as etcd's own replay granted them).
 * `meta` is copied as it is: the base's compaction marks still hold, and `etcdctl/etcdutl snapshot restore` writes
 * the consistent index, term and membership of the restored cluster itself.
 */
export class BackendReplay {
  /** The base's revision: where etcd would start, so where the log continues. */
  readonly baseRevision: number;
  revisions = 0;
  events = 0;
  private readonly base: BoltFile;
  private readonly buckets: NamedBucket[];
  private readonly out: BoltFileWriter;
  private readonly keys: BucketWriter;
  private readonly baseLeases = new Set<bigint>();
  private readonly newLeases = new Set<bigint>();
  private expectRevision: number;

  constructor(baseFile: string, outFile: string) {
    this.base = openBoltFile(baseFile);
    try {
      const { reader } = this.base;
      this.buckets = reader.buckets();
      const key = this.named(KEY_BUCKET);
      const meta = this.named(META_BUCKET);
      if (!key || !meta) throw new BoltFormatError(`${baseFile} is not an etcd backend (no key or meta bucket)`);
      const last = reader.lastKey(key);
      const compacted = reader.get(meta, Buffer.from(FINISHED_COMPACT_KEY));
      // An etcd that never wrote a key is at revision 1, not 0 (mvcc starts its store there).
      this.baseRevision = Math.max(1, last ? mainRevision(last) : 0, compacted ? mainRevision(compacted) : 0);
      this.expectRevision = this.baseRevision + 1;
      const lease = this.named(LEASE_BUCKET);
      if (lease) for (const e of reader.entries(lease)) this.baseLeases.add(e.key.readBigInt64BE());
      this.out = new BoltFileWriter(outFile, this.base.meta.pageSize);
      this.keys = new BucketWriter(this.base.meta.pageSize, this.out.alloc, this.out.sink);
      for (const e of reader.entries(key)) {
        if (e.flags & BUCKET_LEAF_FLAG) throw new BoltFormatError('the key bucket holds a nested bucket');
        this.keys.add(e.key, e.value);
      }
    } catch (err) {
      this.base.close();
      throw err;
    }
  }

  /** Appends revision `g`: the next one after the base's or the last applied (the caller checks the log). */
  apply(g: RevisionGroup): void {
    if (g.revision !== this.expectRevision) {
      throw new Error(`revision ${g.revision} cannot follow ${this.expectRevision - 1}: the log has a gap`);
    }
    g.events.forEach((e, sub) => {
      const { key, value } = keyBucketEntry(g.revision, sub, e);
      this.keys.add(key, value);
      if (e.type === 'put' && e.lease !== '0') {
        const id = BigInt(e.lease);
        if (!this.baseLeases.has(id)) this.newLeases.add(id);
      }
    });
    this.expectRevision++;
    this.revisions++;
    this.events += g.events.length;
  }

  /** The revision the written backend holds (etcd's current revision once restored). */
  get revision(): number {
    return this.expectRevision - 1;
  }

  /** Writes every other bucket, the root and the meta pages; fsyncs. Returns the backend's size in bytes. */
  finish(): number {
    try {
      const { pageSize } = this.base.meta;
      const key = this.named(KEY_BUCKET)!;
      const headers: Array<{ name: Buffer; header: BucketHeader }> = [
        { name: key.name, header: { root: this.keys.finish(), sequence: key.header.sequence } },
      ];
      for (const b of this.buckets) {
        const name = b.name.toString();
        if (name === KEY_BUCKET) continue;
        const w = new BucketWriter(pageSize, this.out.alloc, this.out.sink);
        const entries: Array<{ key: Buffer; value: Buffer }> = [...this.base.reader.entries(b)].map((e) => {
          if (e.flags & BUCKET_LEAF_FLAG) throw new BoltFormatError(`bucket ${name} holds a nested bucket`);
          return { key: e.key, value: e.value };
        });
        if (name === LEASE_BUCKET) {
          for (const id of this.newLeases)
            entries.push({ key: leaseKey(id), value: encodeLease(id, REPLAYED_LEASE_TTL_S) });
          entries.sort((x, y) => Buffer.compare(x.key, y.key));
        }
        for (const e of entries) w.add(e.key, e.value);
        headers.push({ name: b.name, header: { root: w.finish(), sequence: b.header.sequence } });
      }
      if (this.newLeases.size > 0 && !this.named(LEASE_BUCKET)) {
        throw new BoltFormatError('the log names leases but the base has no lease bucket');
      }
      const root = writeRootBucket(pageSize, this.out.alloc, this.out.sink, headers);
      this.out.finish({ root: { root, sequence: this.base.meta.root.sequence }, txid: this.base.meta.txid + 1 });
      return this.out.bytes;
    } finally {
      this.base.close();
    }
  }

  abort(): void {
    this.out.abort();
    this.base.close();
  }

  private named(name: string): NamedBucket | undefined {
    return this.buckets.find((b) => b.name.toString() === name);
  }
}

/**
 * A backend file as the chunks of a snapshot stream, the way etcd's Maintenance.Snapshot sends one: the file, then
 * its SHA-256 (what `etcdctl snapshot save` files end with and `snapshot restore` checks).
 */
export async function* backendSnapshotChunks(file: string): AsyncGenerator<SnapshotChunk> {
  const size = statSync(file).size;
  const hash = createHash('sha256');
  let sent = 0;
  for await (const blob of createReadStream(file, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) {
    hash.update(blob);
    sent += blob.length;
    yield { blob, remainingBytes: size - sent + 32 };
  }
  yield { blob: hash.digest(), remainingBytes: 0 };
}
