import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../src/adapters/config-file.js';
import { resolveDump } from '../../src/adapters/mysql/catalog.js';
import { readBackupFreshness } from '../../src/app/agent/backup.js';
import { buildRuntime } from '../../src/server/runtime.js';
import { runCli } from '../helpers/cli.js';
import { startTestCluster, type TestCluster } from '../helpers/etcd-cluster.js';
import { startS3, type TestS3 } from '../helpers/s3.js';

/**
 * Finding 3 of the fault run (issue 16): stores were opened without `backups.s3`, so endpoint, region, path style
 * and the credentials file had no effect (backups went to AWS: ENOTFOUND). Here nothing about S3 is in the
 * environment: each path that opens a store must reach s3rver through the config alone.
 */

const AWS_VARS = Object.keys(process.env).filter(
  (k) => k.startsWith('AWS_') && k !== 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED',
);
const NO_AWS = Object.fromEntries(AWS_VARS.map((k) => [k, '']));

let s3: TestS3;
let etcd: TestCluster;
let dir: string;
let configPath: string;
const saved: Record<string, string | undefined> = {};

beforeAll(async () => {
  [s3, etcd] = await Promise.all([startS3('options-test'), startTestCluster(1)]);
  dir = mkdtempSync(join(tmpdir(), 'lifeboat-test-s3opts-'));
  // Relative to the config file, as the config reference says.
  writeFileSync(
    join(dir, 'aws-credentials'),
    `[default]\naws_access_key_id = ${s3.accessKeyId}\naws_secret_access_key = ${s3.secretAccessKey}\n`,
    { mode: 0o600 },
  );
  configPath = join(dir, 'lifeboat.yaml');
  writeFileSync(
    configPath,
    `cluster: { name: opts }
etcd: { endpoints: [${etcd.endpoints[0]}] }
backups:
  to: [s3://${s3.bucket}/paths]
  s3: { endpoint: "${s3.endpoint}", region: eu-west-1, forcePathStyle: true, credentialsFile: aws-credentials }
`,
  );
  for (const k of AWS_VARS) {
    saved[k] = process.env[k];
    delete process.env[k];
  }
});
afterAll(async () => {
  for (const [k, v] of Object.entries(saved)) if (v !== undefined) process.env[k] = v;
  await Promise.all([s3?.stop(), etcd?.destroy()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('backups.s3 applies on every path that opens a store', () => {
  it('backup etcd and backup list (CLI)', async () => {
    const backup = await runCli(['-c', configPath, 'backup', 'etcd', '--json'], { env: NO_AWS });
    expect(backup.stderr).toBe('');
    expect(backup.code).toBe(0);
    const list = await runCli(['-c', configPath, 'backup', 'list', '--json'], { env: NO_AWS });
    expect(list.code).toBe(0);
    expect(list.stdout).toContain(`s3://${s3.bucket}/paths/etcd/`);
  });

  it("the agent's backup-freshness check", async () => {
    const freshness = await readBackupFreshness(loadConfigFile(configPath));
    expect(freshness).toEqual({ location: `s3://${s3.bucket}/paths` }); // read, no error; nothing verified yet
  });

  it("serve's store", async () => {
    const runtime = await buildRuntime({ config: configPath }, { now: Date.now, lockDeadlineMs: 1000 });
    expect(runtime.storeError).toBeNull();
    expect((await runtime.store!.list('etcd/')).length).toBeGreaterThan(0);
  });

  it('mysql dumps', async () => {
    await expect(resolveDump(undefined, { latest: true }, loadConfigFile(configPath))).rejects.toThrow(
      `no database dumps in s3://${s3.bucket}/paths`,
    );
  });

  it('helm restore (CLI)', async () => {
    const res = await runCli(['-c', configPath, 'restore', 'helm'], { env: NO_AWS });
    expect(res.stderr).toContain(`no Helm capture in s3://${s3.bucket}/paths`);
  });
});
