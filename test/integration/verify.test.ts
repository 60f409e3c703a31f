import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtcdEndpointClient } from '../../src/adapters/etcd/client.js';
import { findProcesses } from '../../src/adapters/proc/find.js';
import { killProcess } from '../../src/adapters/proc/process.js';
import { waitFor } from '../../src/adapters/proc/wait.js';
import type { BackupManifest } from '../../src/domain/backup/manifest.js';
import { json, runCli } from '../helpers/cli.js';
import { startTestCluster, type TestCluster } from '../helpers/etcd-cluster.js';
import { writeConfig } from '../unit/backup/support.js';

interface VerifyJson {
  ok: boolean;
  problems: string[];
  stage: string;
  hashKVMatch: boolean | null;
}

/** Every damaged copy must be refused by `verify`, with a problem that names the check that failed. */
describe('lifeboat verify refuses damaged snapshots and cleans up after itself', () => {
  let cluster: TestCluster;
  let dir: string;
  let good: string;
  let bytes: Buffer;

  beforeAll(async () => {
    cluster = await startTestCluster(1);
    dir = mkdtempSync(join(tmpdir(), 'lifeboat-verify-'));
    const client = new EtcdEndpointClient(cluster.endpoints[0]!);
    try {
      await client.putMany(Array.from({ length: 200 }, (_, i): [string, string] => [`/k/${i}`, 'v'.repeat(200)]));
    } finally {
      client.close();
    }
    const config = writeConfig(dir, { endpoints: cluster.endpoints, to: [join(dir, 'b')] });
    const r = await runCli(['-c', config, '--json', 'backup', 'etcd']);
    expect(r.code, r.stderr).toBe(0);
    good = json<{ location: string }>(r).location;
    bytes = readFileSync(good);
  });

  afterAll(async () => {
    await cluster?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function verifyBytes(label: string, data: Buffer, withManifest = false): Promise<VerifyJson> {
    const file = join(dir, `${label}.db`);
    writeFileSync(file, data);
    if (withManifest) copyFileSync(`${good}.manifest.json`, `${file}.manifest.json`);
    const r = await runCli(['--json', 'verify', file]);
    expect(r.code, `${label}: ${r.stderr}`).toBe(1);
    return json<VerifyJson>(r);
  }

  it('a flipped byte anywhere is a hash mismatch (and the manifest notices the changed file too)', async () => {
    const offsets = [100, 4096 + 7, Math.floor(bytes.length / 2), bytes.length - 40, bytes.length - 1];
    const results = await Promise.all(
      offsets.map((at) => {
        const bad = Buffer.from(bytes);
        bad[at]! ^= 0x10;
        return verifyBytes(`flip-${at}`, bad, at === 100);
      }),
    );
    for (const [i, v] of results.entries()) {
      expect(v.ok).toBe(false);
      expect(v.stage).toBe('check');
      expect(v.problems[0], `flip at ${offsets[i]}`).toMatch(/^hash mismatch/);
    }
    expect(results[0]!.problems[1]).toMatch(/sha256 of the stored file differs from the manifest/);
  });

  it('truncation at several offsets says truncated', async () => {
    const ends = [50, 4096, Math.floor(bytes.length / 3), bytes.length - 33, bytes.length - 1];
    const results = await Promise.all(ends.map((end) => verifyBytes(`cut-${end}`, bytes.subarray(0, end))));
    for (const [i, v] of results.entries()) expect(v.problems[0], `cut at ${ends[i]}`).toMatch(/^truncated/);
  });

  it('a file without the hash trailer, and an empty file, are named as such', async () => {
    const v = await verifyBytes('no-trailer', bytes.subarray(0, bytes.length - 32));
    expect(v.problems[0]).toMatch(/^hash trailer missing/);
    expect((await verifyBytes('empty', Buffer.alloc(0))).problems[0]).toMatch(/^empty file/);
  });

  it('the intact file passes and the result is recorded in its manifest', async () => {
    const r = await runCli(['--json', 'verify', good]);
    expect(r.code, r.stderr).toBe(0);
    expect(json<VerifyJson>(r)).toMatchObject({ ok: true, hashKVMatch: true, problems: [] });
    const m = JSON.parse(readFileSync(`${good}.manifest.json`, 'utf8')) as BackupManifest;
    expect(m.verified).toMatchObject({ ok: true, problems: [] });
    const human = await runCli(['verify', good]);
    expect(human.stdout).toMatch(/^verify ok: .* restored and served revision \d+ with 200 keys, HashKV matches/);
  });

  it('a failed drill is recorded in the manifest too', async () => {
    const file = join(dir, 'b', 'etcd', 'corrupt.db');
    const bad = Buffer.from(bytes);
    bad[9000]! ^= 1;
    writeFileSync(file, bad);
    copyFileSync(`${good}.manifest.json`, `${file}.manifest.json`);
    const human = await runCli(['verify', file]);
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(/verify FAILED .*\n {2}- hash mismatch/);
    const m = JSON.parse(readFileSync(`${file}.manifest.json`, 'utf8')) as BackupManifest;
    expect(m.verified?.ok).toBe(false);
    expect(m.verified?.problems[0]).toMatch(/^hash mismatch/);
  });

  it('Ctrl-C during the drill stops the throwaway etcd and removes the scratch directory (exit 130)', async () => {
    const scratch = mkdtempSync(join(dir, 'scratch-'));
    const bin = resolve(import.meta.dirname, '../../bin/lifeboat.js');
    const child = spawn(process.execPath, [bin, 'verify', good, '--scratch-dir', scratch], { stdio: 'ignore' });
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const inScratch = (arg: string) => arg.startsWith(`--data-dir=${scratch}`);
    let pids: number[] = [];
    try {
      pids = await waitFor(
        'the throwaway etcd to start',
        () => {
          const found = findProcesses(inScratch);
          return found.length > 0 ? found : undefined;
        },
        { timeoutMs: 20_000, intervalMs: 20 },
      );
      child.kill('SIGINT');
      expect(await exited).toBe(130);
      expect(findProcesses(inScratch)).toEqual([]);
      expect(readdirSync(scratch)).toEqual([]);
    } finally {
      child.kill('SIGKILL');
      for (const pid of findProcesses(inScratch)) await killProcess(pid);
    }
    expect(pids.length).toBe(1);
    expect(existsSync(scratch)).toBe(true);
  });
});
