import { Writable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  type CompletedPart,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { StoreError } from './errors.js';
import { s3Code, s3Error } from './s3-client.js';
import type { PendingObject } from './types.js';

export interface UploadTuning {
  /** Bytes per part (S3 minimum 5 MiB except the last part). Memory is about partSize x (maxInFlight + 1). */
  partSize: number;
  /** Parts uploading at once; when all slots are busy, the writer waits (backpressure reaches the source). */
  maxInFlight: number;
  /** Told when cleanup on the server failed (the upload then lingers until a lifecycle rule removes it). */
  onWarning: (message: string) => void;
}

/** S3 allows at most 10,000 parts: grow the part size for very large objects rather than fail at part 10,001. */
const MAX_PARTS = 10_000;

export function partSizeFor(expectedSize: number | undefined, partSize: number): number {
  if (!expectedSize) return partSize;
  // 90% of the limit leaves room for the object to grow while it streams.
  return Math.max(partSize, Math.ceil(expectedSize / (MAX_PARTS * 0.9)));
}

/**
 * A multipart upload that is completed only by commit(). Bytes are cut into parts as they arrive and uploaded while
 * the next part fills; the object does not exist on the server until CompleteMultipartUpload, so a snapshot that
 * fails verification is never visible. Objects smaller than one part never start a multipart upload: they stay in
 * memory (< partSize) and go up with one PutObject on commit().
 */
export class S3Pending implements PendingObject {
  readonly stream: Writable;
  private state: 'open' | 'committed' | 'aborted' = 'open';
  private part: Buffer = Buffer.allocUnsafe(0);
  /** Part buffers back from finished uploads: reused, so memory is a fixed few parts, not a churn of allocations. */
  private spare: Buffer[] = [];
  private filled = 0;
  private nextPartNumber = 1;
  private readonly parts: CompletedPart[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private uploadId: Promise<string> | undefined;
  private failure: Error | undefined;

  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly key: string,
    private readonly location: string,
    private readonly tuning: UploadTuning,
  ) {
    this.stream = new Writable({
      highWaterMark: 1024 * 1024,
      write: (chunk: Buffer, _encoding, callback) => {
        this.accept(chunk).then(() => callback(), callback);
      },
      final: (callback) => {
        this.finish().then(() => callback(), callback);
      },
    });
  }

  async commit(): Promise<void> {
    if (this.state !== 'open') throw new Error(`commit() after ${this.state}: ${this.location}`);
    if (!this.stream.writableFinished || this.stream.errored) {
      throw new Error(`commit() before the stream finished: ${this.location}`);
    }
    if (this.failure) throw this.failure;
    try {
      if (this.uploadId) {
        const UploadId = await this.uploadId;
        const Parts = [...this.parts].sort((a, b) => (a.PartNumber ?? 0) - (b.PartNumber ?? 0));
        await this.client.send(
          new CompleteMultipartUploadCommand({
            Bucket: this.bucket,
            Key: this.key,
            UploadId,
            MultipartUpload: { Parts },
          }),
        );
      } else {
        const body = this.part.subarray(0, this.filled);
        await this.client.send(
          new PutObjectCommand({ Bucket: this.bucket, Key: this.key, Body: body, ContentLength: body.length }),
        );
      }
    } catch (err) {
      // state stays 'open': the caller's abort() still cleans up the parts already stored.
      throw s3Error(this.location, err, 'completing the upload');
    }
    this.state = 'committed';
    this.release();
  }

  async abort(): Promise<void> {
    if (this.state !== 'open') return;
    this.state = 'aborted';
    if (!this.stream.destroyed && !this.stream.writableFinished) this.stream.destroy();
    // Parts still uploading would otherwise land after the abort and linger as orphans.
    await Promise.allSettled([...this.inFlight]);
    this.release();
    if (!this.uploadId) return;
    let UploadId: string;
    try {
      UploadId = await this.uploadId;
    } catch {
      return; // CreateMultipartUpload failed: there is nothing on the server to remove.
    }
    try {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: this.key, UploadId }));
    } catch (err) {
      if (s3Code(err) === 'NoSuchUpload') return;
      // Not thrown: abort() runs in cleanup paths, and the original failure is the one the user must see.
      this.tuning.onWarning(
        `${s3Error(this.location, err, `aborting multipart upload ${UploadId}`).message}; its parts stay stored ` +
          'until removed (an AbortIncompleteMultipartUpload lifecycle rule does that)',
      );
    }
  }

  /** Copy the chunk into the current part; ship each part as it fills, waiting when every upload slot is busy. */
  private async accept(chunk: Buffer): Promise<void> {
    if (this.failure) throw this.failure;
    let offset = 0;
    while (offset < chunk.length) {
      if (this.part.length === 0) this.part = this.spare.pop() ?? Buffer.allocUnsafe(this.tuning.partSize);
      const n = chunk.copy(this.part, this.filled, offset);
      this.filled += n;
      offset += n;
      if (this.filled === this.part.length) {
        await this.waitForSlot();
        this.ship();
      }
    }
  }

  private async finish(): Promise<void> {
    if (this.uploadId && this.filled > 0) {
      await this.waitForSlot();
      this.ship();
    }
    await Promise.all([...this.inFlight]);
    if (this.failure) throw this.failure;
  }

  private async waitForSlot(): Promise<void> {
    while (this.inFlight.size >= this.tuning.maxInFlight) await Promise.race(this.inFlight);
    if (this.failure) throw this.failure;
  }

  private ship(): void {
    if (this.nextPartNumber > MAX_PARTS) {
      const problem = `more than ${MAX_PARTS} parts of ${this.part.length} bytes (expectedSize far too small?)`;
      this.failure ??= new StoreError(this.location, 'EntityTooLarge', problem);
      throw this.failure;
    }
    const buffer = this.part;
    const body = buffer.subarray(0, this.filled);
    this.part = Buffer.allocUnsafe(0);
    this.filled = 0;
    const PartNumber = this.nextPartNumber++;
    this.uploadId ??= this.client
      .send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: this.key }))
      .then((out) => {
        if (!out.UploadId) throw new Error('the server returned no UploadId');
        return out.UploadId;
      });
    const uploadId = this.uploadId;
    const task = (async () => {
      try {
        const UploadId = await uploadId;
        const out = await this.client.send(
          new UploadPartCommand({
            Bucket: this.bucket,
            Key: this.key,
            UploadId,
            PartNumber,
            Body: body,
            ContentLength: body.length,
          }),
        );
        this.parts.push({ PartNumber, ETag: out.ETag });
      } catch (err) {
        this.failure ??= s3Error(this.location, err, `uploading part ${PartNumber}`);
      }
      // send() has settled, retries included: the SDK is done with the bytes and the buffer can take the next part.
      if (this.state === 'open') this.spare.push(buffer);
    })();
    // Settled tasks leave the set; waiters see the failure through this.failure, never an unhandled rejection.
    const tracked = task.finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
  }

  private release(): void {
    this.spare = [];
    this.part = Buffer.allocUnsafe(0);
    this.filled = 0;
  }
}
