import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { generateIdentity, identityToRecipient } from 'age-encryption';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtcdConnection } from '../../src/adapters/etcd/connection.js';
import { waitFor } from '../../src/adapters/proc/wait.js';
import { decryptionFor } from '../../src/adapters/snapshot/setup.js';
import { openStore } from '../../src/adapters/store/open.js';
import type { BackupStore } from '../../src/adapters/store/types.js';
import { chainWindows, readKeyspace, restoreToPoint } from '../../src/app/etcdlog/restore.js';
import { keyspaceDigest } from '../../src/domain/etcdlog/keyspace.js';
import { runCli } from '../helpers/cli.js';
import { startTestCluster, type TestCluster } from '../helpers/etcd-cluster.js';
import { startS3, type TestS3 } from '../helpers/s3.js';

/**
 * The change log in S3 (s3rver), age-encrypted: the follower writes only ciphertext, resumes its encrypted chain
 * after a SIGKILL (reading its open chunks back needs the identity), and point-in-time restore decrypts and gives
 * the source's exact keyspace; without the identity restore refuses in one line.
 */

const BIN = resolve(import.meta.dirname, '../../bin/lifeboat.js');

describe('change log in S3, age-encrypted', () => {
  let s3: TestS3;
  let cluster: TestCluster;
  let conn: EtcdConnection;
  let root: string;
  let config: string;
  let keyFile: string;
  let store: BackupStore;
  let follower: ChildProcess | undefined;
  let followerOut = '';
  const record = new Map<number, string>();

  const startFollower = () => {
    const child = spawn(
      process.execPath,
      // With the identity: resuming an encrypted chain reads its open chunks back (without, it starts a new chain).
      [
        BIN,
        '-c',
        config,
        'backup',
        'etcd',
        '--follow',
        '--follow-every',
        '200ms',
        '--seal-every',
        '1s',
        '--identity',
        keyFile,
      ],
      {
        env: { ...process.env, NO_COLOR: '1', LIFEBOAT_AGE_IDENTITY: '', AWS_ENDPOINT_URL: '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    child.stdout!.on('data', (d) => (followerOut += d));
    child.stderr!.on('data', (d) => (followerOut += d));
    follower = child;
  };
  const killFollower = async (sig: NodeJS.Signals) => {
    const child = follower;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(sig);
    await exited;
    follower = undefined;
  };
  const put = async (key: string, value: string) =>
    Number(
      (
        await conn.unary<{ header: { revision: string } }>(
          'KV',
          'Put',
          { key: Buffer.from(key), value: Buffer.from(value) },
          10_000,
        )
      ).header.revision,
    );
  const del = async (key: string) =>
    Number(
      (await conn.unary<{ header: { revision: string } }>('KV', 'DeleteRange', { key: Buffer.from(key) }, 10_000))
        .header.revision,
    );
  const remember = async (revision: number) =>
    record.set(revision, keyspaceDigest((await readKeyspace(cluster.endpoints[0]!, revision)).entries()));
  const durableTo = (revision: number) =>
    waitFor(
      `the log in S3 to hold revision ${revision}`,
      async () => (await chainWindows(store)).chains.some((c) => c.toRevision >= revision),
      { timeoutMs: 60_000, intervalMs: 200 },
    );

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'lifeboat-etcdlog-s3-'));
    [s3, cluster] = await Promise.all([startS3('etcdlog'), startTestCluster(1)]);
    conn = new EtcdConnection(cluster.endpoints[0]!, {});
    const identity = await generateIdentity();
    keyFile = join(root, 'age.key');
    writeFileSync(keyFile, `${identity}\n`, { mode: 0o600 });
    writeFileSync(
      join(root, 'aws-credentials'),
      `[default]\naws_access_key_id=${s3.accessKeyId}\naws_secret_access_key=${s3.secretAccessKey}\n`,
    );
    config = join(root, 'lifeboat.yaml');
    writeFileSync(
      config,
      `etcd:\n  endpoints: [${cluster.endpoints[0]}]\nbackups:\n  to: [s3://${s3.bucket}/pitr]\n` +
        `  s3: { endpoint: ${s3.endpoint}, credentialsFile: aws-credentials }\n` +
        `  encryption: { recipients: [${await identityToRecipient(identity)}] }\n`,
    );
    store = await openStore(`s3://${s3.bucket}/pitr`, {
      cwd: root,
      s3: { endpoint: s3.endpoint, credentialsFile: join(root, 'aws-credentials') },
    });
  }, 120_000);

  afterAll(async () => {
    await killFollower('SIGKILL');
    conn?.close();
    await cluster?.destroy();
    await s3?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('follows into S3 as ciphertext, resumes after SIGKILL, and restores exact points with the identity', async () => {
    await put('/registry/ns/a', 'before');
    startFollower();
    await waitFor('the first chain in S3', async () => (await chainWindows(store)).chains.length > 0, {
      timeoutMs: 60_000,
    });
    let last = 0;
    for (let i = 0; i < 30; i++) {
      last = await put(`/registry/ns/k${i % 7}`, `v${i}`);
      if (i % 5 === 4) last = await del(`/registry/ns/k${(i + 3) % 7}`);
      await remember(last);
    }
    await durableTo(last);
    await killFollower('SIGKILL');
    for (let i = 0; i < 10; i++) {
      last = await put(`/registry/ns/while-down${i}`, `x${i}`);
      await remember(last);
    }
    startFollower(); // resumes the encrypted chain: it must read its open chunks back
    for (let i = 0; i < 10; i++) {
      last = await put(`/registry/ns/after${i}`, `y${i}`);
      await remember(last);
    }
    await durableTo(last);
    await killFollower('SIGTERM');

    const { chains } = await chainWindows(store);
    expect(chains, followerOut).toHaveLength(1); // resumed, not a new chain
    expect(chains[0]!.problem).toBeUndefined();
    // Only ciphertext in the bucket: every log object is .age and starts with age's header, not the log's magic.
    const listed = await s3.client.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: 'pitr/etcd-log/' }));
    const logObjects = (listed.Contents ?? []).map((o) => o.Key!).filter((k) => /\.lblog/.test(k));
    expect(logObjects.length).toBeGreaterThan(0);
    for (const key of logObjects) {
      expect(key).toMatch(/\.lblog\.age$/);
      const body = await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }));
      const bytes = Buffer.from(await body.Body!.transformToByteArray());
      expect(bytes.subarray(0, 21).toString()).toBe('age-encryption.org/v1');
      expect(bytes.includes(Buffer.from('/registry/ns/'))).toBe(false);
    }

    const decrypt = await decryptionFor(keyFile);
    const base = chains[0]!.fromRevision;
    const points = [...record.keys()].filter((r) => r > base);
    for (const revision of [points[0]!, points[Math.floor(points.length / 2)]!, last]) {
      const out = join(root, `at-${revision}.db`);
      const result = await restoreToPoint({ store, point: { revision }, to: out, decrypt, compare: true });
      expect(result.digest!.restored, `revision ${revision}`).toBe(record.get(revision));
      rmSync(out);
    }
    const cli = (...args: string[]) =>
      runCli(['-c', config, ...args], { env: { LIFEBOAT_AGE_IDENTITY: '', AWS_ENDPOINT_URL: '' }, timeoutMs: 120_000 });
    const verified = await cli('verify', '--log', '--identity', keyFile);
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
    const refused = await cli('restore', 'etcd', '--at', String(last), '--to', join(root, 'x.db'));
    expect(refused.code).not.toBe(0);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(refused.stderr).toMatch(/age-encrypted/);
  }, 300_000);
});
