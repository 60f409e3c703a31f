import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signal } from '../../src/adapters/proc/process.js';
import { runCli } from '../helpers/cli.js';
import { startTestCluster, type TestCluster } from '../helpers/etcd-cluster.js';
import { startS3, type TestS3 } from '../helpers/s3.js';

/**
 * Issue 16 finding 4: an S3 server that stops answering hung `backup etcd` until it answered again (202 s, then
 * blamed on etcd), and a frozen etcd member left a process that never exited. Every network step has a deadline,
 * the error names the side that stalled, and the process exits.
 */

let s3: TestS3;
let etcd: TestCluster;
let dir: string;
let config: string;

beforeAll(async () => {
  [s3, etcd] = await Promise.all([startS3('deadlines'), startTestCluster(1)]);
  dir = mkdtempSync(join(tmpdir(), 'lifeboat-fault-deadlines-'));
  writeFileSync(
    join(dir, 'creds'),
    `[default]\naws_access_key_id=${s3.accessKeyId}\naws_secret_access_key=${s3.secretAccessKey}\n`,
  );
  config = join(dir, 'lifeboat.yaml');
  writeFileSync(
    config,
    `etcd: { endpoints: [${etcd.endpoints[0]}] }
backups:
  to: [s3://${s3.bucket}/stall]
  s3: { endpoint: "${s3.endpoint}", credentialsFile: creds, timeout: 2s }
`,
  );
});
afterAll(async () => {
  if (s3) signal(s3.pid, 'SIGCONT');
  await Promise.all([s3?.stop(), etcd?.destroy()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('deadlines on every network step', { timeout: 180_000 }, () => {
  it('a frozen S3 server: backup etcd fails within its deadline, names S3, and exits', async () => {
    signal(s3.pid, 'SIGSTOP');
    try {
      const res = await runCli(['-c', config, 'backup', 'etcd'], { timeoutMs: 90_000 });
      expect(res.code).not.toBe(0);
      expect(res.code).not.toBe(128); // not killed by the test's own timeout: it exited by itself
      expect(res.stderr).toContain(`s3://${s3.bucket}/stall`);
      expect(res.stderr).toContain('stopped answering');
      expect(res.ms).toBeLessThan(60_000); // 3 attempts x 2 s idle, plus start-up, on a loaded machine
    } finally {
      signal(s3.pid, 'SIGCONT');
    }
  });

  it('a frozen etcd member: the snapshot stream stalls, the error names the member, and the process exits', async () => {
    const local = join(dir, 'local');
    etcd.freeze('m1');
    try {
      const res = await runCli(['--endpoints', etcd.endpoints[0]!, 'backup', 'etcd', '--to', local], {
        timeoutMs: 120_000,
      });
      expect(res.code).not.toBe(0);
      expect(res.code).not.toBe(128);
      expect(res.stderr).toContain(etcd.endpoints[0]!.replace('http://', ''));
    } finally {
      etcd.thaw('m1');
    }
  });
});
