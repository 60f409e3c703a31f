import { S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { oneLine } from '../../domain/text.js';
import { UserError } from '../../errors.js';
import { readInputFile } from '../host/input-file.js';
import { exitCodeFor, StoreError } from './errors.js';

/** The `backups.s3` config block, also accepted programmatically. Everything else comes from the environment. */
export interface S3Options {
  /** e.g. http://minio.local:9000. Default: AWS_ENDPOINT_URL_S3, then AWS_ENDPOINT_URL, then AWS itself. */
  endpoint?: string;
  /** Default: AWS_REGION, AWS_DEFAULT_REGION, then us-east-1 (what MinIO and Ceph expect when unset). */
  region?: string;
  /** Path-style URLs (host/bucket/key). Default: true with a custom endpoint (MinIO, Ceph, s3rver), else false. */
  forcePathStyle?: boolean;
  /** An AWS-format credentials file (`[default]` aws_access_key_id=...); profile from AWS_PROFILE or `default`. */
  credentialsFile?: string;
  /** Environment to read (tests pass their own). Default: process.env. */
  env?: NodeJS.ProcessEnv;
  /**
   * Deadline of every S3 request, upload parts and downloads included: connecting, and each stretch without a byte
   * moving. A server that stops answering fails the request (retried twice) instead of hanging the backup.
   */
  timeoutMs?: number;
}

/** Default S3 deadline: long enough for a slow link, short enough that a scheduled run fails before the next. */
export const S3_TIMEOUT_MS = 30_000;

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export function makeS3Client(opts: S3Options = {}): S3Client {
  const env = opts.env ?? process.env;
  // The SDK warns on every run under Node 20 about its own future support; our users cannot act on it, so keep
  // stderr for our messages. An explicit setting by the user wins.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const endpoint = opts.endpoint ?? nonEmpty(env.AWS_ENDPOINT_URL_S3) ?? nonEmpty(env.AWS_ENDPOINT_URL);
  if (endpoint !== undefined) checkEndpoint(endpoint);
  const region = opts.region ?? nonEmpty(env.AWS_REGION) ?? nonEmpty(env.AWS_DEFAULT_REGION) ?? 'us-east-1';
  const credentials = opts.credentialsFile
    ? readCredentialsFile(opts.credentialsFile, env.AWS_PROFILE ?? 'default')
    : envCredentials(env);
  return new S3Client({
    region,
    ...(endpoint ? { endpoint } : {}),
    forcePathStyle: opts.forcePathStyle ?? endpoint !== undefined,
    // Without a file or env keys the SDK's default chain applies (~/.aws, SSO, instance metadata...).
    ...(credentials ? { credentials } : {}),
    // MinIO, Ceph RGW and s3rver reject or ignore the CRC32 checksums newer SDKs send by default.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 3,
    requestHandler: {
      connectionTimeout: Math.min(opts.timeoutMs ?? S3_TIMEOUT_MS, 10_000),
      socketTimeout: opts.timeoutMs ?? S3_TIMEOUT_MS,
    },
  });
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function checkEndpoint(endpoint: string): void {
  let url: URL | undefined;
  try {
    url = new URL(endpoint);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new UserError(`not an S3 endpoint URL: "${endpoint}"`, 'example: http://minio.local:9000');
  }
}

/** The explicit env pair; when absent the SDK default chain decides (it reads the same variables first anyway). */
function envCredentials(env: NodeJS.ProcessEnv): Credentials | undefined {
  const accessKeyId = nonEmpty(env.AWS_ACCESS_KEY_ID);
  const secretAccessKey = nonEmpty(env.AWS_SECRET_ACCESS_KEY);
  if (!accessKeyId || !secretAccessKey) return undefined;
  const sessionToken = nonEmpty(env.AWS_SESSION_TOKEN);
  return { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) };
}

/**
 * The AWS shared-credentials INI format, parsed here rather than through the SDK's ini provider so the file is
 * exactly the one the config names (no silent fallback to ~/.aws) and a mistake is reported with its path.
 */
export function readCredentialsFile(path: string, profile = 'default'): Credentials {
  const text = readInputFile(path, 'S3 credentials file', { maxBytes: 64 * 1024, pipes: true });
  return parseCredentials(text.toString('utf8'), profile, path);
}

export function parseCredentials(text: string, profile: string, source: string): Credentials {
  const sections = new Map<string, Record<string, string>>();
  let current: Record<string, string> | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[\s*(?:profile\s+)?([^\]]+?)\s*\]$/.exec(line);
    if (header) {
      current = {};
      sections.set(header[1]!, current);
      continue;
    }
    const kv = /^([A-Za-z0-9_]+)\s*=\s*(.*)$/.exec(line);
    if (kv && current) current[kv[1]!.toLowerCase()] = kv[2]!;
  }
  const section = sections.get(profile);
  if (!section) throw new UserError(`S3 credentials file ${source} has no [${profile}] profile`);
  const accessKeyId = section.aws_access_key_id;
  const secretAccessKey = section.aws_secret_access_key;
  if (!accessKeyId || !secretAccessKey) {
    throw new UserError(
      `S3 credentials file ${source}: [${profile}] needs aws_access_key_id and aws_secret_access_key`,
    );
  }
  const sessionToken = section.aws_session_token;
  return { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) };
}

/** What a status code means when the server sent no parsable error body (HEAD requests, odd proxies). */
const STATUS_CODES: Record<number, string> = {
  301: 'PermanentRedirect',
  400: 'BadRequest',
  403: 'AccessDenied',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  501: 'NotImplemented',
};

const EXPLAIN: Record<string, string> = {
  NoSuchBucket: 'the bucket does not exist',
  NoSuchKey: 'no such object',
  NotFound: 'no such object',
  NoSuchUpload: 'the multipart upload is gone (aborted or expired)',
  AccessDenied: 'access denied (check the credentials and the bucket policy)',
  InvalidAccessKeyId: 'the access key is not known to the server',
  SignatureDoesNotMatch: 'the secret key is wrong',
  PermanentRedirect: 'the bucket is in another region (set backups.s3.region or AWS_REGION)',
  ECONNREFUSED: 'connection refused (is the S3 endpoint right and up?)',
  ENOTFOUND: 'endpoint host name not found (DNS)',
  ETIMEDOUT: 'connection timed out',
  TimeoutError: 'the S3 server stopped answering: no byte moved within the deadline (backups.s3.timeout)',
  ECONNRESET: 'connection reset by the server',
  CredentialsProviderError:
    'no S3 credentials (set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or backups.s3.credentialsFile)',
};

/** The S3 error code (or errno) of anything the SDK throws. */
export function s3Code(err: unknown): string {
  if (err instanceof S3ServiceException) {
    const status = err.$metadata?.httpStatusCode;
    // The SDK names body-less errors "Unknown"/"UnknownError"; the status code says more.
    if ((err.name === 'Unknown' || err.name === 'UnknownError') && status)
      return STATUS_CODES[status] ?? `HTTP${status}`;
    return err.name;
  }
  const e = err as { code?: unknown; name?: unknown; errors?: unknown[] } | undefined;
  if (typeof e?.code === 'string') return e.code;
  // Node's happy-eyeballs connect failures come as an AggregateError of per-address errors.
  if (Array.isArray(e?.errors) && e.errors.length > 0) return s3Code(e.errors[0]);
  if (e?.name === 'CredentialsProviderError') return 'CredentialsProviderError';
  return typeof e?.name === 'string' ? e.name : 'Error';
}

/** One line naming the object and the S3 code: `s3://bucket/key: NoSuchBucket (the bucket does not exist) while reading`. */
export function s3Error(location: string, err: unknown, action?: string): StoreError {
  if (err instanceof StoreError) return err;
  const code = s3Code(err);
  const text = EXPLAIN[code] ?? oneLine(err instanceof Error && err.message ? err.message : String(err));
  const problem = `${code}${text && text !== code ? ` (${text})` : ''}${action ? ` while ${action}` : ''}`;
  return new StoreError(location, code, problem, undefined, exitCodeFor(code));
}
