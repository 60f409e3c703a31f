import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../../errors.js';
import { LocalStore } from './local.js';
import { S3Store, type S3StoreOptions } from './s3.js';
import type { BackupStore } from './types.js';

export interface OpenStoreOptions {
  /** S3 settings (`backups.s3` in lifeboat.yaml, plus tuning); ignored for directories. */
  s3?: S3StoreOptions;
  /** Base for relative directory paths. Default: the current directory. */
  cwd?: string;
}

/**
 * A destination as written in `backups.to` or `--to`: a directory (absolute or relative; NFS is a directory) or
 * `s3://bucket/prefix`. Any other scheme is refused by name rather than mistaken for a relative directory called
 * "ftp:".
 */
export function openStore(spec: string, opts: OpenStoreOptions = {}): BackupStore {
  const dest = spec.trim();
  if (dest === '') throw new UserError('empty backup destination', 'a directory or s3://bucket/prefix');
  if (/^s3:\/\//i.test(dest)) return new S3Store(dest.replace(/^s3:/i, 's3:'), opts.s3);
  if (/^file:\/\//i.test(dest)) return new LocalStore(fileUrlPath(dest));
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(dest);
  if (scheme) {
    throw new UserError(
      `unsupported backup destination "${dest}": ${scheme[1]}:// is not a store Lifeboat can write to`,
      'use a directory (an NFS mount works) or s3://bucket/prefix',
    );
  }
  return new LocalStore(resolve(opts.cwd ?? process.cwd(), dest));
}

function fileUrlPath(url: string): string {
  try {
    return fileURLToPath(url);
  } catch {
    throw new UserError(`not a usable file:// destination "${url}"`, 'write the directory path instead');
  }
}
