import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type SnapshotCheck, SnapshotChecker } from '../../domain/backup/snapshot-check.js';
import { memoryHygiene } from '../snapshot/memory.js';
import { type ByteTransform, hashedBytes } from '../snapshot/stream.js';
import type { BackupStore } from '../store/types.js';
import type { Scratch } from './scratch.js';

/**
 * A plaintext snapshot file on local disk for etcd's restore tool, checked on the way (one read of the stored bytes).
 * A local unencrypted snapshot is used in place: only read, never copied. Anything else (S3, encrypted) streams
 * through decryption into the scratch directory.
 */

export interface PreparedSnapshot {
  /** Local plaintext file to restore from. */
  file: string;
  /** The etcd snapshot bytes: bbolt header, length, SHA-256 trailer. */
  check: SnapshotCheck;
  /** The stored bytes (ciphertext when encrypted): to compare with the manifest. */
  stored: { size: number; sha256: string };
}

const READ_CHUNK = 256 * 1024;

export async function prepareSnapshot(
  store: BackupStore,
  name: string,
  scratch: Pick<Scratch, 'path'>,
  opts: { decrypt?: ByteTransform; signal?: AbortSignal } = {},
): Promise<PreparedSnapshot> {
  const checker = new SnapshotChecker();
  const hygiene = memoryHygiene();
  async function* check(input: AsyncIterable<Buffer | Uint8Array>): AsyncGenerator<Buffer> {
    for await (const chunk of input) {
      const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      checker.update(buf);
      hygiene(buf.length);
      yield buf;
    }
  }
  const local = localFile(store, name);
  if (local && !opts.decrypt) {
    await pipeline(createReadStream(local, { highWaterMark: READ_CHUNK }), check, async (input) => {
      for await (const _ of input) {
        // checked above; nothing to write: the file is restored in place
      }
    });
    const result = checker.finish();
    return { file: local, check: result, stored: { size: result.size, sha256: result.sha256 } };
  }
  const file = scratch.path('snapshot.db');
  const stored = hashedBytes<Buffer>();
  const source: Readable = local ? createReadStream(local, { highWaterMark: READ_CHUNK }) : await store.read(name);
  const sink = createWriteStream(file, { mode: 0o600 });
  const signal = opts.signal;
  if (opts.decrypt) await pipeline(source, stored.pass, opts.decrypt, check, sink, { signal });
  else await pipeline(source, stored.pass, check, sink, { signal });
  return { file, check: checker.finish(), stored: stored.digest() };
}

/** The object's path when the store is a local directory (an s3:// location is not a file). */
export function localFile(store: BackupStore, name: string): string | undefined {
  const location = store.locate(name);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location)) return undefined;
  return existsSync(location) ? location : undefined;
}
