import { UserError } from '../../errors.js';

/**
 * A store operation failed, as ONE plain line naming the object: `s3://bucket/key: NoSuchBucket (...)`.
 * It is a UserError so the CLI prints it without a stack trace. exitCode 2 when the destination itself is wrong
 * (no such bucket, denied, bad credentials, bad name): fixing it means fixing the config or flags. exitCode 1 when
 * the operation failed at run time (disk full, network down): the backup failed, the input was fine.
 */
export class StoreError extends UserError {
  constructor(
    /** Full location of the object or store (path or s3:// URL). */
    readonly location: string,
    /** Short machine code: an S3 error code (NoSuchBucket, AccessDenied), an errno (ENOSPC, ECONNREFUSED)... */
    readonly code: string,
    problem: string,
    hint?: string,
    exitCode = 1,
  ) {
    super(`${location}: ${problem}`, hint, exitCode);
    this.name = 'StoreError';
  }
}

/** S3 codes and errnos that mean "the destination as configured cannot work": exit 2, like any bad input. */
const CONFIG_CODES = new Set([
  'NoSuchBucket',
  'AccessDenied',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'InvalidBucketName',
  'PermanentRedirect',
  'AuthorizationHeaderMalformed',
  'CredentialsProviderError',
  'EACCES',
  'EPERM',
  'EROFS',
  'ENOTDIR',
  'EINVALIDNAME',
]);

export function exitCodeFor(code: string): number {
  return CONFIG_CODES.has(code) ? 2 : 1;
}

/**
 * Object names are relative, '/'-separated, and may not climb out of the store: both stores accept exactly the
 * same names, so a name that works on NFS also works on S3 and the other way round.
 */
export function checkName(location: string, name: string): string {
  const bad = (why: string) =>
    new StoreError(location, 'EINVALIDNAME', `invalid object name "${name}": ${why}`, undefined, 2);
  if (name === '') throw bad('empty');
  if (name.startsWith('/')) throw bad('must be relative to the store');
  if (name.endsWith('/')) throw bad('names an object, not a directory');
  if (name.includes('\\') || name.includes('\0')) throw bad('backslash or NUL');
  for (const segment of name.split('/')) {
    if (segment === '..') throw bad('".." would escape the store');
    if (segment === '.' || segment === '') throw bad('empty or "." path segment');
  }
  return name;
}

/** A prefix for list(): same rules as a name, except that it may be empty or end with '/'. */
export function checkPrefix(location: string, prefix: string): string {
  if (prefix === '') return prefix;
  checkName(location, prefix.endsWith('/') ? prefix.slice(0, -1) : prefix);
  return prefix;
}
