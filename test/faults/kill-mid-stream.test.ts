import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtcdEndpointClient } from '../../src/adapters/etcd/client.js';
import { signal } from '../../src/adapters/proc/process.js';
import { waitFor } from '../../src/adapters/proc/wait.js';
import { S3_UPLOAD_ABANDONED_MS, S3Store } from '../../src/adapters/store/s3.js';
import { manifestNameFor } from '../../src/domain/backup/naming.js';
import { json, runCli } from '../helpers/cli.js';
import { httpHealthy, startTestCluster, type TestCluster } from '../helpers/etcd-cluster.js';
import { startS3, type TestS3 } from '../helpers/s3.js';

/**
 * Issue 16 findings 4 and 5 under SIGKILL and a full disk, through the real CLI: a backup killed mid-stream (to a
 * directory and to S3), an S3 server killed mid-upload, the etcd member killed mid-stream, a disk that fills
 * mid-stream. Nothing half-written is ever
 * listed, what the dead run left is reclaimed by the next one, and the next backup is complete and verifies.
 */

const BIN = resolve(import.meta.dirname, '../../bin/lifeboat.js');
/** 240 values of 100 KiB: a database of about 25 MB, so the stream takes long enough to be cut part-way. */
const KEYS = 240;

let etcd: TestCluster;
let s3: TestS3;
let dir: string;
let endpoint: string;

interface Listed {
  backups: Array<{ name: string; manifest: string }>;
}

function start(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): { child: ChildProcess; exited: Promise<number | null>; stderr: () => string } {
  const child = spawn(process.execPath, [BIN, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, NO_COLOR: '1', ...env },
  });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code, sig) => r(sig ? 128 : code)));
  return { child, exited, stderr: () => err };
}

/** Bytes in temp files under `root` (0 while there are none). */
function tempBytes(root: string): number {
  let sum = 0;
  const walk = (d: string) => {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      return;
    }
    for (const n of names) {
      const p = join(d, n);
      const st = statSync(p, { throwIfNoEntry: false });
      if (st?.isDirectory()) walk(p);
      else if (st && n.includes('.tmp-')) sum += st.size;
    }
  };
  walk(root);
  return sum;
}

function tempFiles(root: string): string[] {
  return readdirSync(join(root, 'etcd')).filter((n) => n.includes('.tmp-'));
}

beforeAll(async () => {
  [etcd, s3] = await Promise.all([startTestCluster(1), startS3('kills')]);
  endpoint = etcd.endpoints[0]!;
  dir = mkdtempSync(join(tmpdir(), 'lifeboat-fault-kill-'));
  const client = new EtcdEndpointClient(endpoint);
  try {
    const value = 'v'.repeat(100 * 1024);
    await client.putMany(
      Array.from({ length: KEYS }, (_, i): [string, string] => [`/registry/fill/${i}`, value]),
      { batchSize: 10, concurrency: 2, deadlineMs: 60_000 },
    );
    await waitFor('the database file to hold the keyspace', async () => (await client.status()).dbSize > 20e6, {
      timeoutMs: 30_000,
    });
  } finally {
    client.close();
  }
}, 120_000);
afterAll(async () => {
  await Promise.all([etcd?.destroy(), s3?.stop()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('SIGKILL and a full disk mid-stream leave nothing listed', { timeout: 240_000 }, () => {
  it('a backup SIGKILLed mid-stream to a directory: nothing listed; the next backup reclaims its temp file and verifies', async () => {
    const to = join(dir, 'local');
    const run = start(['--endpoints', endpoint, 'backup', 'etcd', '--to', to]);
    await waitFor('the snapshot to be part-way written', () => tempBytes(to) > 2e6, {
      timeoutMs: 60_000,
      intervalMs: 5,
    });
    run.child.kill('SIGKILL');
    expect(await run.exited).toBe(128);
    expect(tempFiles(to)).toHaveLength(1); // what the dead run left...
    const listed = json<Listed>(await runCli(['--json', 'backup', 'list', '--to', to]));
    expect(listed.backups).toEqual([]); // ...is not a backup

    const next = await runCli(['--endpoints', endpoint, 'backup', 'etcd', '--to', to], { timeoutMs: 120_000 });
    expect(next.code, next.stderr).toBe(0);
    expect(tempFiles(to)).toEqual([]); // reclaimed: the dead writer's pid is gone
    const v = await runCli(['--json', 'verify', '--latest', '--to', to], { timeoutMs: 120_000 });
    expect(v.code, v.stderr).toBe(0);
    expect(json(v)).toMatchObject({ ok: true, keys: KEYS });
  });

  it('a backup frozen (SIGSTOP) mid-stream: later backups and prunes go on around it, and it ends whole or not at all', async () => {
    const to = join(dir, 'frozen');
    const config = join(dir, 'frozen.yaml');
    writeFileSync(config, `etcd: { endpoints: [${endpoint}] }\nbackups: { to: [${to}], retention: { keepLast: 1 } }\n`);
    const frozen = start(['-c', config, 'backup', 'etcd']);
    await waitFor('the snapshot to be part-way written', () => tempBytes(to) > 2e6, {
      timeoutMs: 60_000,
      intervalMs: 5,
    });
    signal(frozen.child.pid!, 'SIGSTOP');
    try {
      const leftBehind = tempFiles(to);
      expect(leftBehind).toHaveLength(1);
      // The next scheduled runs: a backup, then a prune that keeps one. The frozen writer's temp file is a live
      // process's (its pid exists): neither takes it for a leftover, neither lists it, neither waits for it.
      for (let run = 0; run < 2; run++) {
        const next = await runCli(['-c', config, 'backup', 'etcd'], { timeoutMs: 120_000 });
        expect(next.code, next.stderr).toBe(0);
        const pruned = await runCli(['-c', config, 'prune'], { timeoutMs: 60_000 });
        expect(pruned.code, pruned.stderr).toBe(0);
        expect(json<Listed>(await runCli(['--json', 'backup', 'list', '--to', to])).backups).toHaveLength(1);
        expect(tempFiles(to)).toEqual(leftBehind);
      }
    } finally {
      signal(frozen.child.pid!, 'SIGCONT');
    }
    // Thawed: it finishes (a complete backup, listed) or fails by itself naming etcd; it never leaves a half file.
    const code = await Promise.race([frozen.exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 120_000))]);
    if (code === 'hung') frozen.child.kill('SIGKILL');
    expect([0, 1], frozen.stderr()).toContain(code);
    if (code === 1) expect(frozen.stderr().trimEnd().split('\n')).toHaveLength(1);
    expect(tempFiles(to)).toEqual([]);
    const listed = json<Listed>(await runCli(['--json', 'backup', 'list', '--to', to])).backups;
    expect(listed).toHaveLength(code === 0 ? 2 : 1);
    for (const backup of listed) {
      const v = await runCli(['--json', 'verify', join(to, backup.name)], { timeoutMs: 120_000 });
      expect(v.code, v.stderr).toBe(0);
      expect(json(v)).toMatchObject({ ok: true, keys: KEYS });
    }
  });

  it('a backup SIGKILLed mid-upload to S3: nothing listed; its unfinished upload is aborted once abandoned', async () => {
    const creds = join(dir, 'creds');
    writeFileSync(
      creds,
      `[default]\naws_access_key_id=${s3.accessKeyId}\naws_secret_access_key=${s3.secretAccessKey}\n`,
    );
    const config = join(dir, 's3.yaml');
    writeFileSync(
      config,
      `etcd: { endpoints: [${endpoint}] }\nbackups:\n  to: [s3://${s3.bucket}/cut]\n  s3: { endpoint: "${s3.endpoint}", credentialsFile: creds }\n`,
    );
    const run = start(['-c', config, 'backup', 'etcd']);
    await waitFor('a multipart upload to be under way', async () => (await s3.pendingUploads('cut/')).length > 0, {
      timeoutMs: 60_000,
      intervalMs: 10,
    });
    run.child.kill('SIGKILL');
    expect(await run.exited).toBe(128);
    expect(json<Listed>(await runCli(['-c', config, '--json', 'backup', 'list'])).backups).toEqual([]);
    const left = await s3.pendingUploads('cut/');
    expect(left).toHaveLength(1);

    // The next backup leaves a young upload alone (it may be another host's, still running)...
    const next = await runCli(['-c', config, 'backup', 'etcd'], { timeoutMs: 120_000 });
    expect(next.code, next.stderr).toBe(0);
    expect(await s3.pendingUploads('cut/')).toEqual(left);
    // ...and aborts it once it is older than any upload runs.
    const store = new S3Store(`s3://${s3.bucket}/cut`, { client: s3.client });
    const reclaimed = await store.reclaimLeftovers('etcd/', Date.now() + S3_UPLOAD_ABANDONED_MS + 60_000);
    expect(reclaimed.names).toEqual([expect.stringMatching(/^etcd\/.*\.db \(unfinished upload .+\)$/)]);
    expect(await s3.pendingUploads('cut/')).toEqual([]);
    const listed = json<Listed>(await runCli(['-c', config, '--json', 'backup', 'list']));
    expect(listed.backups).toHaveLength(1); // the complete backup is untouched
  });

  it('the S3 server frozen (SIGSTOP) mid-upload: the backup fails by itself within its deadline, naming S3', async () => {
    // Its own server: s3rver does not always survive a client that gave up on it while it was frozen.
    const stalled = await startS3('stall');
    try {
      const config = join(dir, 'stall.yaml');
      writeFileSync(
        config,
        `etcd: { endpoints: [${endpoint}] }\nbackups:\n  to: [s3://${stalled.bucket}/x]\n  s3: { endpoint: "${stalled.endpoint}", timeout: 2s }\n`,
      );
      const run = start(['-c', config, 'backup', 'etcd'], stalled.env);
      await waitFor('a multipart upload to be under way', async () => (await stalled.pendingUploads()).length > 0, {
        timeoutMs: 60_000,
        intervalMs: 10,
      });
      signal(stalled.pid, 'SIGSTOP');
      const started = Date.now();
      let code: number | null | 'hung';
      try {
        code = await Promise.race([run.exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 90_000))]);
        if (code === 'hung') run.child.kill('SIGKILL');
      } finally {
        signal(stalled.pid, 'SIGCONT');
      }
      expect(code, run.stderr()).toBe(1); // by itself, not killed by the test
      expect(Date.now() - started).toBeLessThan(60_000); // a few 2 s deadlines and retries, on a loaded machine
      const errors = run
        .stderr()
        .trimEnd()
        .split('\n')
        .filter((l) => l.startsWith('lifeboat: error: '));
      expect(errors).toEqual([
        expect.stringMatching(new RegExp(`^lifeboat: error: s3://${stalled.bucket}/x.*stopped answering`)),
      ]);
      expect(run.stderr()).not.toMatch(/\n\s+at /);
    } finally {
      await stalled.stop();
    }
  });

  it('the S3 server SIGKILLed mid-upload: the backup fails by itself, naming the store, no hang', async () => {
    const doomed = await startS3('doomed');
    try {
      const run = start(['--endpoints', endpoint, 'backup', 'etcd', '--to', `s3://${doomed.bucket}/x`], {
        ...doomed.env,
        AWS_ENDPOINT_URL_S3: doomed.endpoint,
      });
      await waitFor('a multipart upload to be under way', async () => (await doomed.pendingUploads()).length > 0, {
        timeoutMs: 60_000,
        intervalMs: 10,
      });
      signal(doomed.pid, 'SIGKILL');
      const code = await Promise.race([run.exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 90_000))]);
      if (code === 'hung') run.child.kill('SIGKILL');
      expect(code).toBe(1);
      // The error, then at most a warning that the dead server's upload could not be aborted; nothing else.
      const lines = run.stderr().trimEnd().split('\n');
      const errors = lines.filter((l) => l.startsWith('lifeboat: error: '));
      expect(errors).toEqual([
        expect.stringMatching(new RegExp(`^lifeboat: error: s3://${doomed.bucket}/x/etcd/.*ECONN`)),
      ]);
      const rest = lines.filter((l) => !errors.includes(l));
      for (const line of rest) expect(line).toMatch(/^lifeboat: warning: s3:\/\/doomed\/x\/.* while aborting/);
      expect(run.stderr()).not.toMatch(/\n\s+at /);
    } finally {
      await doomed.stop();
    }
  });

  it('the member SIGKILLed mid-stream: the backup exits 1 by itself naming the member; nothing listed or left', async () => {
    const to = join(dir, 'member-killed');
    const member = endpoint.replace('http://', '');
    // One complete backup first: the run that is cut must leave it listed and verifiable.
    const before = await runCli(['--endpoints', endpoint, '--json', 'backup', 'etcd', '--to', to], {
      timeoutMs: 120_000,
    });
    expect(before.code, before.stderr).toBe(0);
    const kept = json<{ name: string }>(before).name;
    const run = start(['--endpoints', endpoint, 'backup', 'etcd', '--to', to]);
    let code: number | null | 'hung';
    let started = 0;
    try {
      await waitFor('the snapshot to be part-way written', () => tempBytes(to) > 2e6, {
        timeoutMs: 60_000,
        intervalMs: 5,
      });
      // Hold the CLI still while the member dies, so the cut lands mid-stream however fast this machine is: the
      // rest of the 25 MB does not fit in the sockets' buffers, so the member dies with bytes still to send.
      signal(run.child.pid!, 'SIGSTOP');
      try {
        await etcd.kill('m1');
      } finally {
        signal(run.child.pid!, 'SIGCONT');
      }
      started = Date.now();
      code = await Promise.race([run.exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 90_000))]);
      if (code === 'hung') run.child.kill('SIGKILL');
    } finally {
      if (!etcd.members[0]!.pid) etcd.start('m1');
    }
    expect(code, run.stderr()).toBe(1); // by itself, not killed by the test
    expect(Date.now() - started).toBeLessThan(60_000); // its stream deadline is 30 s idle; a cut is seen at once
    const lines = run.stderr().trimEnd().split('\n');
    expect(lines, run.stderr()).toHaveLength(1);
    expect(lines[0]).toMatch(/^lifeboat: error: /);
    expect(lines[0]).toContain(member);
    expect(run.stderr()).not.toMatch(/\n\s+at /);
    // Not a temp file, not its name's claim, not a manifest: only the complete backup's two files are there.
    expect(
      readdirSync(join(to, 'etcd'))
        .map((n) => `etcd/${n}`)
        .sort(),
    ).toEqual([kept, manifestNameFor(kept)].sort());
    const listed = json<Listed>(await runCli(['--json', 'backup', 'list', '--to', to])).backups;
    expect(listed.map((b) => b.name)).toEqual([kept]);

    // The member back up (etcd replays its WAL): the next backup works, and every listed backup verifies.
    await waitFor('the killed member to serve again', () => httpHealthy(endpoint), { timeoutMs: 60_000 });
    const next = await runCli(['--endpoints', endpoint, 'backup', 'etcd', '--to', to], { timeoutMs: 120_000 });
    expect(next.code, next.stderr).toBe(0);
    expect(tempFiles(to)).toEqual([]);
    const after = json<Listed>(await runCli(['--json', 'backup', 'list', '--to', to])).backups;
    expect(after).toHaveLength(2);
    for (const backup of after) {
      const v = await runCli(['--json', 'verify', join(to, backup.name)], { timeoutMs: 120_000 });
      expect(v.code, v.stderr).toBe(0);
      expect(json(v)).toMatchObject({ ok: true, keys: KEYS });
    }
  });

  it('the disk fills mid-stream: one line naming the file, nothing listed, no temp file; the next backup works', async (ctx) => {
    const mnt = join(dir, 'small');
    mkdirSync(mnt);
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64m', 'lifeboat-full', mnt]);
    if (mounted.status !== 0) ctx.skip(`needs root to mount a small tmpfs: ${String(mounted.stderr).trim()}`);
    try {
      const to = join(mnt, 'b');
      const run = start(['--endpoints', endpoint, 'backup', 'etcd', '--to', to]);
      await waitFor('the snapshot to be part-way written', () => tempBytes(to) > 2e6, {
        timeoutMs: 60_000,
        intervalMs: 5,
      });
      // Hold the backup still while something else takes the rest of the disk, so it fills mid-stream.
      signal(run.child.pid!, 'SIGSTOP');
      const filler = join(mnt, 'filler');
      spawnSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=1M', 'count=64'], { stdio: 'ignore' });
      signal(run.child.pid!, 'SIGCONT');
      expect(await run.exited).toBe(1);
      const lines = run.stderr().trimEnd().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/no space left on device/);
      expect(lines[0]).toContain(to);
      expect(tempFiles(to)).toEqual([]); // the failed run removed its own temp file
      expect(json<Listed>(await runCli(['--json', 'backup', 'list', '--to', to])).backups).toEqual([]);

      rmSync(filler);
      const next = await runCli(['--endpoints', endpoint, 'backup', 'etcd', '--to', to], { timeoutMs: 120_000 });
      expect(next.code, next.stderr).toBe(0);
      expect(json<Listed>(await runCli(['--json', 'backup', 'list', '--to', to])).backups).toHaveLength(1);
    } finally {
      spawnSync('umount', [mnt]);
    }
  });
});
