import type { Readable, Writable } from 'node:stream';

/**
 * Where backups live: a local directory (an NFS mount is just a directory) or S3-compatible object storage.
 * Objects are named by relative paths like `etcd/2026-11-27T150000Z-home.db` (and `.manifest.json` beside them).
 */
export interface ObjectInfo {
  /** Relative name inside the store. */
  name: string;
  size: number;
  /** Epoch milliseconds. */
  modifiedAt: number;
}

/**
 * An object being written. Nothing is visible under its final name until `commit()`: the caller verifies the bytes
 * (e.g. etcd's SHA-256 trailer) first, and calls `abort()` when they do not check out.
 */
export interface PendingObject {
  /** Pipe the bytes here (backpressure respected). */
  readonly stream: Writable;
  /** Make the object visible under its final name: fsync + rename locally, CompleteMultipartUpload on S3. */
  commit(): Promise<void>;
  /** Discard what was written; no object with the final name appears. Safe to call twice or after a failure. */
  abort(reason?: Error): Promise<void>;
}

/** A small object's bytes; pieces are written back to back (the change log writes a chunk from views, unjoined). */
export type SmallData = Buffer | string | readonly Buffer[];

export interface BackupStore {
  /** Human/JSON form of the store: an absolute path or s3://bucket/prefix. */
  readonly location: string;
  /** Full location of one object (path or s3:// URL), for output and manifests. */
  locate(name: string): string;
  /** Start writing `name` (files are created 0600). `expectedSize` lets local stores check free space first. */
  create(name: string, opts?: { expectedSize?: number }): Promise<PendingObject>;
  /**
   * Small objects (manifests): written atomically in one go. `exclusive`: only if no object has this name yet
   * (else a StoreError with code EEXIST): the manifest of a new backup claims its name, so two backups started in
   * the same millisecond never pair one's manifest with the other's snapshot.
   */
  putSmall(name: string, data: SmallData, opts?: { exclusive?: boolean }): Promise<void>;
  read(name: string): Promise<Readable>;
  /** undefined when the object does not exist. */
  readSmall(name: string): Promise<Buffer | undefined>;
  list(prefix?: string): Promise<ObjectInfo[]>;
  delete(name: string): Promise<void>;
  /** Removes what dead runs left behind under `prefix` (local temp files); stores without such leftovers omit it. */
  reclaimLeftovers?(prefix?: string): Promise<{ names: string[]; bytes: number }>;
}
