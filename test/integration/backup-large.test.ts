import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPool } from '../../src/adapters/etcd/bulk.js';
import { EtcdEndpointClient } from '../../src/adapters/etcd/client.js';
import { signal } from '../../src/adapters/proc/process.js';
import { waitFor } from '../../src/adapters/proc/wait.js';
import { json, runCli } from '../helpers/cli.js';
import { startTestCluster, type TestCluster } from '../helpers/etcd-cluster.js';
import { filesUnder, restoreAndStart, writeConfig } from '../unit/backup/support.js';

/** 1100 keys of 100 KiB: a database of about 110 MB, as the acceptance criteria ask. */
const KEYS = 1100;
const VALUE_BYTES = 100 * 1024;

/** Deterministic ASCII value per key, so the check needs no copy of 110 MB in the test process. */
function valueFor(i: number): string {
  const block = createHash('sha256').update(`value-${i}`).digest('hex'); // 64 chars
  return block.repeat(VALUE_BYTES / 64);
}
const keyOf = (i: number) => `/registry/big/${String(i).padStart(5, '0')}`;

describe('a 110 MB keyspace: backup, restore with etcdctl, verify, and a member killed mid-stream', () => {
  let cluster: TestCluster;
  let dir: string;
  let config: string;

  beforeAll(async () => {
    cluster = await startTestCluster(3);
    dir = mkdtempSync(join(tmpdir(), 'lifeboat-backup-large-'));
    config = writeConfig(dir, { endpoints: cluster.endpoints, to: [join(dir, 'backups')] });
    const client = new EtcdEndpointClient(cluster.endpoints[0]!);
    try {
      const entries = Array.from({ length: KEYS }, (_, i): [string, string] => [keyOf(i), valueFor(i)]);
      // ~1 MiB per Txn keeps every request under etcd's default 1.5 MiB limit.
      await client.putMany(entries, { batchSize: 10, concurrency: 4, deadlineMs: 60_000 });
      // etcd writes its backend in batches (every 100 ms): right after the last put, the file may not hold it yet.
      const applied = await waitFor(
        'the database file to hold the whole keyspace',
        async () => {
          const { dbSize } = await client.status();
          return dbSize > 100 * 1024 * 1024 && dbSize;
        },
        { timeoutMs: 30_000 },
      );
      expect(applied).toBeGreaterThan(100 * 1024 * 1024);
    } finally {
      client.close();
    }
  }, 120_000);

  afterAll(async () => {
    await cluster?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the backup restores with the real etcdctl and holds every key and value; verify passes', async () => {
    const r = await runCli(['-c', config, '--json', 'backup', 'etcd'], { timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    const b = json<{ location: string; size: number; revision: number }>(r);
    expect(b.size).toBeGreaterThan(100 * 1024 * 1024);
    expect(statSync(b.location).size).toBe(b.size);
    const restored = await restoreAndStart(b.location, mkdtempSync(join(dir, 'r-')));
    try {
      expect(await restored.client.count('/registry/big/')).toBe(KEYS);
      const wrong: number[] = [];
      await runPool(
        Array.from({ length: KEYS }, (_, i) => i),
        8,
        async (i) => {
          if ((await restored.client.get(keyOf(i), { serializable: true })) !== valueFor(i)) wrong.push(i);
        },
      );
      expect(wrong).toEqual([]);
    } finally {
      await restored.stop();
    }
    const v = await runCli(['-c', config, '--json', 'verify', b.location], { timeoutMs: 120_000 });
    expect(v.code, v.stderr).toBe(0);
    expect(json(v)).toMatchObject({ ok: true, keys: KEYS, hashKVMatch: true, problems: [] });
  });

  it('a member killed mid-stream leaves nothing that looks complete, and the error says so', async () => {
    const to = join(dir, 'cut');
    const bin = resolve(import.meta.dirname, '../../bin/lifeboat.js');
    const child = spawn(process.execPath, [bin, '-c', config, 'backup', 'etcd', '--to', to], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const written = () => {
      try {
        return filesUnder(to).reduce((sum, f) => sum + statSync(join(to, f)).size, 0);
      } catch {
        return 0;
      }
    };
    try {
      await waitFor('the snapshot to be part-way written', () => written() > 4 * 1024 * 1024, {
        timeoutMs: 30_000,
        intervalMs: 5,
      });
      // Hold the CLI still while the members die, so the cut lands mid-stream however fast this machine is.
      signal(child.pid!, 'SIGSTOP');
      const leader = await leaderName(cluster);
      for (const m of cluster.members) if (m.spec.name !== leader) await cluster.kill(m.spec.name);
    } finally {
      signal(child.pid!, 'SIGCONT');
    }
    expect(await exited).toBe(1);
    expect(err).toMatch(/snapshot stream ended early after \d+ of \d+ bytes: member killed\?/);
    expect(filesUnder(to)).toEqual([]); // no snapshot under its final name, no manifest, no temp file
  });
});

async function leaderName(cluster: TestCluster): Promise<string> {
  for (const m of cluster.members) {
    const client = new EtcdEndpointClient(m.spec.clientUrl);
    try {
      const s = await client.status(2000);
      if (s.leaderId === s.memberId) return m.spec.name;
    } catch {
      // not this one
    } finally {
      client.close();
    }
  }
  throw new Error('no leader');
}
