import { createHash } from 'node:crypto';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type SnapshotCheck, SnapshotChecker } from '../../domain/backup/snapshot-check.js';
import type { SnapshotChunk } from '../etcd/client.js';
import { memoryHygiene } from './memory.js';

/**
 * etcd's snapshot stream -> (encryption) -> the store, one chunk at a time. stream/promises.pipeline carries
 * backpressure end to end: when the disk or S3 is slow, the store's stream stops taking (its highWaterMark), we stop
 * pulling from the HTTP/2 stream and flow control stops etcd. Memory stays a few chunks whatever the database size;
 * the network and the disk still work at the same time, because a write returns before it reaches the disk.
 */

/** Pieces of the stream are written in blocks of about this size. */
const BLOCK_BYTES = 1024 * 1024;

/** Bytes in, bytes out (age encryption); must not buffer the whole input. */
export type ByteTransform = (input: AsyncIterable<Buffer>) => AsyncIterable<Uint8Array>;

export interface StreamedSnapshot {
  /** The verdict on the etcd bytes: bbolt header, length, SHA-256 trailer. */
  check: SnapshotCheck;
  /** What went to the store (the ciphertext when encrypting). */
  stored: { size: number; sha256: string };
}

/** The etcd stream failed before its end: the member died, restarted or was cut off. */
export class SnapshotStreamError extends Error {
  constructor(
    readonly bytes: number,
    readonly expected: number | undefined,
    cause: unknown,
  ) {
    const of = expected ? ` of ${expected}` : '';
    const why = cause instanceof Error ? cause.message : String(cause);
    super(`snapshot stream ended early after ${bytes}${of} bytes: member killed? (${why})`);
    this.name = 'SnapshotStreamError';
  }
}

export interface StreamOptions {
  encrypt?: ByteTransform;
  /** Called per chunk with bytes so far and the total the member announced. */
  onProgress?: (bytes: number, total: number) => void;
  signal?: AbortSignal;
}

export async function streamSnapshot(
  chunks: AsyncIterable<SnapshotChunk>,
  sink: Writable,
  opts: StreamOptions = {},
): Promise<StreamedSnapshot> {
  const checker = new SnapshotChecker();
  let expected: number | undefined;
  let sourceError: { err: unknown } | undefined;
  const hygiene = memoryHygiene();
  async function* fromEtcd(): AsyncGenerator<Buffer> {
    // etcd's 32 KiB messages arrive as ~16 KiB HTTP/2 frames: ~13,000 pieces per 200 MB. Passed on one by one,
    // each costs a trip through the pipeline and an iovec in the write; joined into 1 MiB blocks they cost one
    // memcpy. ~25% less CPU for the whole backup, measured on 2 cores, and the pieces die young.
    let parts: Buffer[] = [];
    let partBytes = 0;
    try {
      for await (const chunk of chunks) {
        checker.update(chunk.blob);
        hygiene(chunk.blob.length);
        expected ??= chunk.blob.length + chunk.remainingBytes;
        opts.onProgress?.(checker.bytes, Math.max(expected, checker.bytes + chunk.remainingBytes));
        parts.push(chunk.blob);
        partBytes += chunk.blob.length;
        if (partBytes >= BLOCK_BYTES) {
          yield Buffer.concat(parts, partBytes);
          parts = [];
          partBytes = 0;
        }
      }
      if (partBytes > 0) yield Buffer.concat(parts, partBytes);
    } catch (err) {
      sourceError = { err };
      throw err;
    }
  }
  const stored = hashedBytes();
  try {
    if (opts.encrypt) await pipeline(fromEtcd, opts.encrypt, stored.pass, sink, { signal: opts.signal });
    else await pipeline(fromEtcd, sink, { signal: opts.signal });
  } catch (err) {
    if (sourceError && !opts.signal?.aborted) throw new SnapshotStreamError(checker.bytes, expected, sourceError.err);
    throw err;
  }
  const check = checker.finish();
  return { check, stored: opts.encrypt ? stored.digest() : { size: check.size, sha256: check.sha256 } };
}

/** A pipeline stage that lets bytes through and counts and hashes them: the stored object's size and SHA-256. */
export function hashedBytes<T extends Uint8Array>(): {
  pass: (input: AsyncIterable<T>) => AsyncGenerator<T>;
  digest: () => { size: number; sha256: string };
} {
  const hash = createHash('sha256');
  let size = 0;
  return {
    async *pass(input) {
      for await (const chunk of input) {
        hash.update(chunk);
        size += chunk.length;
        yield chunk;
      }
    },
    digest: () => ({ size, sha256: hash.digest('hex') }),
  };
}
