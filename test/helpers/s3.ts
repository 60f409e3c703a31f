import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListMultipartUploadsCommand, S3Client } from '@aws-sdk/client-s3';
import { waitFor } from '../../src/adapters/proc/wait.js';

/**
 * A real S3 server (s3rver) for integration tests, in its own process on 127.0.0.1: its memory does not blur the
 * RSS measurements of the streaming tests, and a hung server cannot hang the test worker.
 *
 * s3rver 3.7 lacks two calls we rely on, AbortMultipartUpload (it answers 405) and ListMultipartUploads (501). The
 * child adds both in front of s3rver's router, with S3's semantics (204 / NoSuchUpload; the ListMultipartUploadsResult
 * XML), over s3rver's own on-disk upload directories. That lets the tests check what matters on a real S3: after
 * abort() no upload (and so no stored part) is left behind. An upload's Initiated is its directory's mtime (real S3 says when it started; this is no earlier).
 */
export interface TestS3 {
  endpoint: string;
  bucket: string;
  /** The static key pair s3rver accepts. */
  accessKeyId: string;
  secretAccessKey: string;
  /** Environment for code that reads credentials and endpoint from env, as the CLI does. */
  env: NodeJS.ProcessEnv;
  /** A client of our own for assertions. */
  client: S3Client;
  /** The s3rver process (fault tests freeze it with SIGSTOP). */
  pid: number;
  /** Multipart uploads started and neither completed nor aborted, under `prefix`. */
  pendingUploads(prefix?: string): Promise<string[]>;
  stop(): Promise<void>;
}

const CHILD = `
const [s3rverPath, dir, bucket] = process.argv.slice(1);
const fs = require('node:fs');
const path = require('node:path');
const S3rver = require(s3rverPath);
const server = new S3rver({
  address: '127.0.0.1', port: 0, silent: true, directory: dir, vhostBuckets: false,
  configureBuckets: [{ name: bucket }],
});
const xml = (s) => String(s).replace(/[<>&'"]/g, (c) => '&#' + c.charCodeAt(0) + ';');
const fail = (ctx, status, code, message) => {
  ctx.status = status;
  ctx.type = 'application/xml';
  ctx.body = '<?xml version="1.0" encoding="UTF-8"?><Error><Code>' + code + '</Code><Message>' + xml(message) + '</Message></Error>';
};
// Conditional create (PUT with If-None-Match: *), as AWS, MinIO and Ceph do it and s3rver does not: 412
// PreconditionFailed when the key exists or another such PUT of it is under way (one event loop: check and mark are
// atomic). Lets tests drive Lifeboat's exclusive-name path against a real HTTP exchange.
const creating = new Set();
server.middleware.splice(server.middleware.length - 1, 0, async (ctx, next) => {
  const m = /^\\/([^/]+)\\/(.+)$/.exec(ctx.path);
  if (!m || ctx.method !== 'PUT' || ctx.get('if-none-match') !== '*' || 'uploadId' in ctx.query) return next();
  const id = m[1] + '/' + m[2];
  const refuse = () => fail(ctx, 412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
  if (creating.has(id)) return refuse();
  creating.add(id);
  try {
    if (await server.store.existsObject(m[1], decodeURIComponent(m[2]))) return refuse();
    await next();
  } finally {
    creating.delete(id);
  }
});
server.middleware.splice(server.middleware.length - 1, 0, async (ctx, next) => {
  const m = /^\\/([^/]+)\\/?(.*)$/.exec(ctx.path);
  const abort = m && m[2] && ctx.method === 'DELETE' && 'uploadId' in ctx.query;
  const list = m && !m[2] && ctx.method === 'GET' && 'uploads' in ctx.query;
  if (!abort && !list) return next();
  if (!fs.existsSync(server.store.getBucketPath(m[1]))) return fail(ctx, 404, 'NoSuchBucket', 'The specified bucket does not exist');
  const uploads = server.store.getResourcePath(m[1], undefined, 'uploads');
  if (abort) {
    const upload = path.join(uploads, path.basename(String(ctx.query.uploadId)));
    if (!fs.existsSync(upload)) return fail(ctx, 404, 'NoSuchUpload', 'The specified upload does not exist');
    fs.rmSync(upload, { recursive: true, force: true });
    ctx.status = 204;
    return;
  }
  const prefix = String(ctx.query.prefix || '');
  const ids = fs.existsSync(uploads) ? fs.readdirSync(uploads) : [];
  const items = ids
    .map((id) => ({ id, key: fs.readFileSync(path.join(uploads, id, 'key'), 'utf8'), at: fs.statSync(path.join(uploads, id)).mtime }))
    .filter((u) => u.key.startsWith(prefix))
    .map((u) => '<Upload><Key>' + xml(u.key) + '</Key><UploadId>' + u.id + '</UploadId><Initiated>' +
      u.at.toISOString() + '</Initiated></Upload>');
  ctx.type = 'application/xml';
  ctx.body = '<?xml version="1.0" encoding="UTF-8"?><ListMultipartUploadsResult><Bucket>' + m[1] +
    '</Bucket><Prefix>' + xml(prefix) + '</Prefix><MaxUploads>1000</MaxUploads><IsTruncated>false</IsTruncated>' +
    items.join('') + '</ListMultipartUploadsResult>';
});
server.run().then((address) => process.stdout.write(JSON.stringify({ port: address.port }) + '\\n'));
process.on('SIGTERM', () => {
  server.httpServer.closeAllConnections();
  server.close().then(() => process.exit(0));
});
`;

export async function startS3(bucket = 'lifeboat-test'): Promise<TestS3> {
  const dir = mkdtempSync(join(tmpdir(), 'lifeboat-test-s3-'));
  const s3rverPath = createRequire(import.meta.url).resolve('s3rver');
  const child = spawn(process.execPath, ['-e', CHILD, s3rverPath, dir, bucket], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  let port: number;
  try {
    // The child binds port 0 itself and reports the port: no window in which another process could take it.
    port = await waitFor(
      's3rver to listen',
      () => {
        if (child.exitCode !== null) throw new Error(`s3rver exited ${child.exitCode}: ${err}`);
        const line = out.split('\n').find((l) => l.startsWith('{'));
        return line ? (JSON.parse(line) as { port: number }).port : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 50 },
    );
  } catch (e) {
    await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const endpoint = `http://127.0.0.1:${port}`;
  const accessKeyId = 'S3RVER';
  const secretAccessKey = 'S3RVER';
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const client = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId, secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  return {
    endpoint,
    bucket,
    accessKeyId,
    secretAccessKey,
    pid: child.pid!,
    env: { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_REGION: 'us-east-1' },
    client,
    async pendingUploads(prefix = '') {
      const out = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix }));
      return (out.Uploads ?? []).map((u) => `${u.Key} ${u.UploadId}`);
    },
    async stop() {
      client.destroy();
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 5000).unref());
  if ((await Promise.race([exited, timeout])) === 'timeout') {
    child.kill('SIGKILL');
    await exited;
  }
}
