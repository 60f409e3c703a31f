import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/adapters/proc/ports.js';
import { StoreError } from '../../src/adapters/store/errors.js';
import { openStore } from '../../src/adapters/store/open.js';
import { S3Store, type S3StoreOptions } from '../../src/adapters/store/s3.js';
import { startS3, type TestS3 } from '../helpers/s3.js';
import { patternChunks, storeContract } from '../helpers/store-contract.js';

const PART_SIZE = 5 * 1024 * 1024;
const IN_FLIGHT = 2;
let s3: TestS3;
let store: S3Store;
let dir: string;
const warnings: string[] = [];

function options(extra: S3StoreOptions = {}): S3StoreOptions {
  return { endpoint: s3.endpoint, env: s3.env, onWarning: (m) => warnings.push(m), ...extra };
}

beforeAll(async () => {
  s3 = await startS3();
  dir = mkdtempSync(join(tmpdir(), 'lifeboat-test-s3creds-'));
  // 5 MiB parts (the S3 minimum): the contract's big objects take several parts.
  store = new S3Store(
    `s3://${s3.bucket}/lifeboat/etcd-backups`,
    options({ partSize: PART_SIZE, maxInFlight: IN_FLIGHT }),
  );
});
afterAll(async () => {
  await s3?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

storeContract('s3', () => ({
  store,
  bigBytes: 12 * 1024 * 1024,
  // The part being filled plus the parts in flight (see S3Pending).
  workingSetBytes: PART_SIZE * (IN_FLIGHT + 1),
  leftovers: (prefix) => s3.pendingUploads(`${store.prefix}/${prefix}`),
}));

async function failure(op: Promise<unknown>): Promise<StoreError> {
  const err = await op.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StoreError);
  expect((err as Error).message).not.toContain('\n');
  return err as StoreError;
}

describe('s3 store specifics', () => {
  it('keys live under the prefix and locations name the bucket', async () => {
    expect(store.location).toBe(`s3://${s3.bucket}/lifeboat/etcd-backups`);
    expect(store.locate('etcd/a.db')).toBe(`s3://${s3.bucket}/lifeboat/etcd-backups/etcd/a.db`);
    await store.putSmall('where.txt', 'here');
    const got = await s3.client.send(
      new (await import('@aws-sdk/client-s3')).GetObjectCommand({
        Bucket: s3.bucket,
        Key: 'lifeboat/etcd-backups/where.txt',
      }),
    );
    expect(await got.Body?.transformToString()).toBe('here');
    // A sibling prefix that merely starts the same is not ours.
    await new S3Store(`s3://${s3.bucket}/lifeboat/etcd-backups-other`, options()).putSmall('x', 'x');
    expect((await store.list()).map((o) => o.name)).not.toContain('x');
  });

  it('a multipart upload exists on the server only until abort', async () => {
    const pending = await store.create('parts/x.db');
    await pipeline(patternChunks(11 * 1024 * 1024), pending.stream);
    expect(await s3.pendingUploads(`${store.prefix}/parts/`)).toHaveLength(1);
    await pending.abort();
    expect(await s3.pendingUploads(`${store.prefix}/parts/`)).toEqual([]);
    expect(warnings).toEqual([]);
  });

  it('a wrong bucket is one line naming the bucket and NoSuchBucket, exit 2', async () => {
    const wrong = new S3Store('s3://no-such-bucket/p', options());
    for (const op of [
      () => wrong.putSmall('a', 'b'),
      () => wrong.list(),
      () => wrong.read('a.db'),
      () => wrong.readSmall('a'),
    ]) {
      const err = await failure(op());
      expect(err.message).toMatch(/^s3:\/\/no-such-bucket\/p(\/a(\.db)?)?: NoSuchBucket \(the bucket does not exist\)/);
      expect(err.code).toBe('NoSuchBucket');
      expect(err.exitCode).toBe(2);
    }
    const pending = await wrong.create('big.db');
    await expect(pipeline(patternChunks(9 * 1024 * 1024), pending.stream)).rejects.toThrow(
      /^s3:\/\/no-such-bucket\/p\/big\.db: NoSuchBucket .* while uploading part 1$/,
    );
    await pending.abort();
  });

  it('bad credentials and a refused connection are one line each', async () => {
    const denied = new S3Store(
      `s3://${s3.bucket}`,
      options({ env: { AWS_ACCESS_KEY_ID: 'nobody', AWS_SECRET_ACCESS_KEY: 'x' } }),
    );
    const err = await failure(denied.list());
    expect(err.message).toMatch(new RegExp(`^s3://${s3.bucket}: InvalidAccessKeyId`));
    const port = await freePort();
    const refused = new S3Store(`s3://${s3.bucket}/p`, { env: s3.env, endpoint: `http://127.0.0.1:${port}` });
    const down = await failure(refused.putSmall('m.json', '{}'));
    expect(down.message).toBe(
      `s3://${s3.bucket}/p/m.json: ECONNREFUSED (connection refused (is the S3 endpoint right and up?)) while writing`,
    );
    expect(down.exitCode).toBe(1);
  });

  it('takes credentials from an AWS credentials file and the endpoint from the environment', async () => {
    const file = join(dir, 'credentials');
    writeFileSync(
      file,
      `# lifeboat backups\n[default]\naws_access_key_id = ${s3.accessKeyId}\naws_secret_access_key = ${s3.secretAccessKey}\n`,
      { mode: 0o600 },
    );
    const fromFile = openStore(`s3://${s3.bucket}/viafile`, {
      s3: { credentialsFile: file, env: { AWS_ENDPOINT_URL_S3: s3.endpoint } },
    });
    await fromFile.putSmall('ok.txt', 'ok');
    expect((await fromFile.readSmall('ok.txt'))?.toString()).toBe('ok');
  });
});
