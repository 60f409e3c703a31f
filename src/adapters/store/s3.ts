import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { UserError } from '../../errors.js';
import { checkName, checkPrefix } from './errors.js';
import { makeS3Client, type S3Options, s3Code, s3Error } from './s3-client.js';
import { partSizeFor, S3Pending, type UploadTuning } from './s3-upload.js';
import type { BackupStore, ObjectInfo, PendingObject } from './types.js';

export interface S3StoreOptions extends S3Options, Partial<UploadTuning> {
  /** A ready client (tests, or callers sharing one); otherwise one is made from the options and environment. */
  client?: S3Client;
}

const MiB = 1024 * 1024;

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
    const partSize = partSizeFor(opts.expectedSize, this.tuning.partSize);
    return new S3Pending(this.client, this.bucket, key, this.locate(name), { ...this.tuning, partSize });
  }

  async putSmall(name: string, data: Buffer | string): Promise<void> {
    const Body = typeof data === 'string' ? Buffer.from(data) : data;
    // One PutObject is atomic on S3: readers see the old object or the new one, never a part.
    await this.send(name, 'writing', () =>
      this.client.send(
        new PutObjectCommand({ Bucket: this.bucket, Key: this.key(name), Body, ContentLength: Body.length }),
      ),
    );
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
