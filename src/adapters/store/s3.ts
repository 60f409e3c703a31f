import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  type ListMultipartUploadsCommandOutput,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { UserError } from '../../errors.js';
import { checkName, checkPrefix, StoreError } from './errors.js';
import { makeS3Client, type S3Options, s3Code, s3Error } from './s3-client.js';
import { partSizeFor, S3Pending, type UploadTuning } from './s3-upload.js';
import type { BackupStore, ObjectInfo, PendingObject, SmallData } from './types.js';

export interface S3StoreOptions extends S3Options, Partial<UploadTuning> {
  /** A ready client (tests, or callers sharing one); otherwise one is made from the options and environment. */
  client?: S3Client;
}

const MiB = 1024 * 1024;

/**
 * A multipart upload started this long ago belongs to a dead run. A day, not the hour local temp files get: S3 does
 * not say when an upload last received a part, and a large snapshot over a slow link may upload for hours.
 */
export const S3_UPLOAD_ABANDONED_MS = 24 * 3_600_000;
/** Aborts per call: a bucket with thousands of dead uploads is cleaned over several runs, none of them stalled. */
const ABORTS_PER_RECLAIM = 100;
/** Codes that mean "this bucket does not let us list uploads": a lifecycle rule is then the way, and no warning. */
const LISTING_UPLOADS_REFUSED = new Set(['AccessDenied', 'NotImplemented', 'MethodNotAllowed']);

/** `s3://bucket/some/prefix` -> bucket + prefix without slashes at either end. */
export function parseS3Url(spec: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([^/]+)(?:\/(.*))?$/.exec(spec);
  const bucket = m?.[1] ?? '';
  // Real bucket names are stricter; this only refuses what could not be a bucket anywhere (MinIO, Ceph, AWS).
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/.test(bucket)) {
    throw new UserError(`not an S3 destination: "${spec}"`, 'expected s3://bucket or s3://bucket/prefix');
  }
  const prefix = (m?.[2] ?? '').replace(/^\/+|\/+$/g, '');
  if (prefix.split('/').some((s) => s === '..' || s === '.')) {
    throw new UserError(`not an S3 destination: "${spec}"`, 'the prefix may not contain "." or ".." segments');
  }
  return { bucket, prefix };
}

/**
 * Backups in an S3-compatible bucket (AWS, MinIO, Ceph RGW, Garage...). Object keys are `<prefix>/<name>`.
 * Uploads are multipart with bounded memory and completed only by commit() (see S3Pending).
 */
export class S3Store implements BackupStore {
  readonly location: string;
  readonly bucket: string;
  readonly prefix: string;
  private readonly client: S3Client;
  private readonly tuning: UploadTuning;

  constructor(spec: string, opts: S3StoreOptions = {}) {
    const { bucket, prefix } = parseS3Url(spec);
    this.bucket = bucket;
    this.prefix = prefix;
    this.location = prefix ? `s3://${bucket}/${prefix}` : `s3://${bucket}`;
    this.client = opts.client ?? makeS3Client(opts);
    this.tuning = {
      partSize: opts.partSize ?? 8 * MiB,
      maxInFlight: Math.max(1, opts.maxInFlight ?? 2),
      onWarning: opts.onWarning ?? ((message) => process.emitWarning(message, 'LifeboatS3Warning')),
    };
  }

  locate(name: string): string {
    return `s3://${this.bucket}/${this.key(name)}`;
  }

  async create(name: string, opts: { expectedSize?: number } = {}): Promise<PendingObject> {
    const key = this.key(name);
    await this.reclaimLeftovers(name.includes('/') ? name.slice(0, name.lastIndexOf('/') + 1) : '');
    const partSize = partSizeFor(opts.expectedSize, this.tuning.partSize);
    return new S3Pending(this.client, this.bucket, key, this.locate(name), { ...this.tuning, partSize });
  }

  async putSmall(name: string, data: SmallData, opts: { exclusive?: boolean } = {}): Promise<void> {
    const Body = typeof data === 'string' ? Buffer.from(data) : Buffer.isBuffer(data) ? data : Buffer.concat(data);
    // One PutObject is atomic on S3: readers see the old object or the new one, never a part. If-None-Match: * makes
    // it exclusive where the server supports conditional writes (AWS, MinIO, Ceph); others ignore the header.
    const IfNoneMatch = opts.exclusive ? '*' : undefined;
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: this.key(name),
          Body,
          ContentLength: Body.length,
          IfNoneMatch,
        }),
      );
    } catch (err) {
      const code = s3Code(err);
      if (opts.exclusive && (code === 'PreconditionFailed' || code === 'ConditionalRequestConflict')) {
        throw new StoreError(this.locate(name), 'EEXIST', 'already exists');
      }
      throw s3Error(this.locate(name), err, 'writing');
    }
  }

  async read(name: string): Promise<Readable> {
    const out = await this.send(name, 'reading', () =>
      this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key(name) })),
    );
    // In Node the SDK's Body is the HTTP response itself (an IncomingMessage): a Readable, streamed not buffered.
    if (!(out.Body instanceof Readable)) throw s3Error(this.locate(name), new Error('response has no body'));
    return out.Body;
  }

  async readSmall(name: string): Promise<Buffer | undefined> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key(name) }));
      if (!out.Body) return Buffer.alloc(0);
      return Buffer.from(await out.Body.transformToByteArray());
    } catch (err) {
      const code = s3Code(err);
      if (code === 'NoSuchKey' || code === 'NotFound') return undefined;
      throw s3Error(this.locate(name), err, 'reading');
    }
  }

  async list(prefix = ''): Promise<ObjectInfo[]> {
    checkPrefix(this.location, prefix);
    const base = this.prefix ? `${this.prefix}/` : '';
    const out: ObjectInfo[] = [];
    let token: string | undefined;
    do {
      const page: ListObjectsV2CommandOutput = await this.send(undefined, 'listing', () =>
        this.client.send(
          new ListObjectsV2Command({ Bucket: this.bucket, Prefix: base + prefix, ContinuationToken: token }),
        ),
      );
      for (const obj of page.Contents ?? []) {
        // Keys ending in '/' are "folder" markers some consoles create; they are not objects of ours.
        if (!obj.Key?.startsWith(base) || obj.Key.endsWith('/')) continue;
        out.push({
          name: obj.Key.slice(base.length),
          size: obj.Size ?? 0,
          modifiedAt: obj.LastModified?.getTime() ?? 0,
        });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async delete(name: string): Promise<void> {
    // DeleteObject removes exactly this key (S3 has no directories to take along); a missing key is not an error.
    await this.send(name, 'deleting', () =>
      this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.key(name) })),
    );
  }

  /**
   * Aborts the multipart uploads killed runs left under `prefix` (started over S3_UPLOAD_ABANDONED_MS ago): they are
   * never listed as objects, but their parts stay stored, and billed, until aborted. Best effort: a failure here must
   * not fail the backup that called it; it is a warning unless the bucket simply does not allow listing uploads.
   */
  async reclaimLeftovers(prefix = '', now = Date.now()): Promise<{ names: string[]; bytes: number }> {
    checkPrefix(this.location, prefix);
    const base = this.prefix ? `${this.prefix}/` : '';
    const reclaimed = { names: [] as string[], bytes: 0 };
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    try {
      let page: ListMultipartUploadsCommandOutput;
      do {
        page = await this.client.send(
          new ListMultipartUploadsCommand({
            Bucket: this.bucket,
            Prefix: base + prefix,
            KeyMarker: keyMarker,
            UploadIdMarker: uploadIdMarker,
          }),
        );
        for (const u of page.Uploads ?? []) {
          if (!u.Key?.startsWith(base) || !u.UploadId || !u.Initiated) continue;
          if (now - u.Initiated.getTime() <= S3_UPLOAD_ABANDONED_MS) continue;
          if (reclaimed.names.length >= ABORTS_PER_RECLAIM) return reclaimed;
          await this.client.send(
            new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: u.Key, UploadId: u.UploadId }),
          );
          reclaimed.names.push(`${u.Key.slice(base.length)} (unfinished upload ${u.UploadId})`);
        }
        keyMarker = page.NextKeyMarker;
        uploadIdMarker = page.NextUploadIdMarker;
      } while (page.IsTruncated && keyMarker);
    } catch (err) {
      if (!LISTING_UPLOADS_REFUSED.has(s3Code(err))) {
        this.tuning.onWarning(
          `${s3Error(this.location, err, 'looking for unfinished uploads of killed runs').message}; they stay ` +
            'stored until removed (an AbortIncompleteMultipartUpload lifecycle rule does that)',
        );
      }
    }
    return reclaimed;
  }

  private key(name: string): string {
    checkName(this.location, name);
    return this.prefix ? `${this.prefix}/${name}` : name;
  }

  private async send<T>(name: string | undefined, action: string, op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (err) {
      throw s3Error(name === undefined ? this.location : this.locate(name), err, action);
    }
  }
}
