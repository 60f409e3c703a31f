import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreError } from '../../src/adapters/store/errors.js';
import { LocalStore } from '../../src/adapters/store/local.js';
import { S3Store } from '../../src/adapters/store/s3.js';
import { backupEtcd } from '../../src/app/backup/etcd.js';
import { json, runCli } from '../helpers/cli.js';
import { startTestCluster, type TestCluster } from '../helpers/etcd-cluster.js';
import { startS3 } from '../helpers/s3.js';

/**
 * The fault run's concurrent backups and prunes (two timers, a cron job and a human at once): every listed backup
 * is complete with its manifest, the one verified backup survives, nothing half-written is left or listed.
 */

let etcd: TestCluster;
let dir: string;
let store: string;
let config: string;

interface Listed {
  backups: Array<{ name: string; location: string; manifest: string; verifiedAt: string | null }>;
}

beforeAll(async () => {
  etcd = await startTestCluster(1);
  dir = mkdtempSync(join(tmpdir(), 'lifeboat-fault-concurrent-'));
  store = join(dir, 'b');
  config = join(dir, 'lifeboat.yaml');
  writeFileSync(
    config,
    `etcd: { endpoints: [${etcd.endpoints[0]}] }\nbackups:\n  to: [${store}]\n  retention: { keepLast: 2 }\n`,
  );
}, 60_000);
afterAll(async () => {
  await etcd?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('concurrent backups and prunes', { timeout: 300_000 }, () => {
  it('lose no verified backup, list only complete ones, and leave no temp file', async () => {
    const first = await runCli(['-c', config, '--json', 'backup', 'etcd'], { timeoutMs: 60_000 });
    expect(first.code, first.stderr).toBe(0);
    const verified = json<{ location: string }>(first).location;
    const v = await runCli(['-c', config, 'verify', verified], { timeoutMs: 120_000 });
    expect(v.code, v.stdout + v.stderr).toBe(0);

    const made: string[] = [];
    for (let round = 0; round < 2; round++) {
      const runs = await Promise.all([
        ...Array.from({ length: 5 }, () => runCli(['-c', config, '--json', 'backup', 'etcd'], { timeoutMs: 120_000 })),
        ...Array.from({ length: 3 }, () => runCli(['-c', config, '--json', 'prune'], { timeoutMs: 120_000 })),
      ]);
      for (const r of runs) expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
      for (const r of runs.slice(0, 5)) made.push(json<{ location: string }>(r).location);
    }
    const final = await runCli(['-c', config, '--json', 'prune'], { timeoutMs: 60_000 });
    expect(final.code, final.stderr).toBe(0);

    const listed = json<Listed>(await runCli(['-c', config, '--json', 'backup', 'list'])).backups;
    // The verified one survives everything (the newest verified is never pruned); the newest one made is listed.
    expect(listed.map((b) => b.location)).toContain(verified);
    expect(listed.find((b) => b.location === verified)!.verifiedAt).not.toBeNull();
    expect(listed.map((b) => b.location)).toContain([...made].sort().at(-1));
    expect(listed.length).toBeLessThanOrEqual(3); // keepLast 2 + the newest verified
    // Every listed backup is whole: its manifest is there and its bytes are the ones the manifest names.
    for (const b of listed) {
      expect(b.manifest).toBe('ok');
      const manifest = JSON.parse(readFileSync(`${b.location}.manifest.json`, 'utf8')) as { sha256: string };
      expect(createHash('sha256').update(readFileSync(b.location)).digest('hex')).toBe(manifest.sha256);
    }
    // No temp file, no manifest without its snapshot.
    const files = readdirSync(join(store, 'etcd'));
    expect(files.filter((n) => n.includes('.tmp-'))).toEqual([]);
    const snapshots = new Set(files.filter((n) => n.endsWith('.db')));
    for (const m of files.filter((n) => n.endsWith('.manifest.json'))) {
      expect(snapshots.has(m.slice(0, -'.manifest.json'.length))).toBe(true);
    }
  });

  it('backups started in the same millisecond get a name each, and each manifest describes its own snapshot', async () => {
    const root = join(dir, 'same-instant');
    const store = new LocalStore(root);
    const at = Date.UTC(2026, 11, 2, 12, 0, 0, 0);
    const manifests = await Promise.all(
      Array.from({ length: 4 }, () =>
        backupEtcd({ endpoint: etcd.endpoints[0]!, memberName: 'm1', connection: {}, store, now: () => at }),
      ),
    );
    const names = manifests.map((m) => m.name).sort();
    expect(names).toEqual([0, 1, 2, 3].map((i) => `etcd/2026-12-02T120000.00${i}Z-etcd.db`));
    for (const m of manifests) {
      const stored = JSON.parse(readFileSync(`${m.location}.manifest.json`, 'utf8')) as { sha256: string };
      expect(stored.sha256).toBe(m.sha256);
      expect(createHash('sha256').update(readFileSync(m.location)).digest('hex')).toBe(m.sha256);
    }
  });

  it('on S3 too: the claim is a conditional create (If-None-Match: *), and a 412 moves a backup to the next name', async () => {
    // s3rver ignores If-None-Match; the test server answers it as AWS, MinIO and Ceph do (test/helpers/s3.ts), so
    // this drives Lifeboat's side of it (the header sent, 412 PreconditionFailed read as "taken") over real HTTP.
    const s3 = await startS3('claims');
    try {
      const store = new S3Store(`s3://${s3.bucket}/same`, { client: s3.client });
      await store.putSmall('probe', 'first', { exclusive: true });
      const second = await store.putSmall('probe', 'second', { exclusive: true }).catch((e: unknown) => e);
      expect(second).toBeInstanceOf(StoreError);
      expect((second as StoreError).code).toBe('EEXIST');
      expect((await store.readSmall('probe'))?.toString()).toBe('first'); // the loser wrote nothing
      const at = Date.UTC(2026, 11, 2, 12, 0, 0, 0);
      const manifests = await Promise.all(
        Array.from({ length: 4 }, () =>
          backupEtcd({ endpoint: etcd.endpoints[0]!, memberName: 'm1', connection: {}, store, now: () => at }),
        ),
      );
      expect(manifests.map((m) => m.name).sort()).toEqual(
        [0, 1, 2, 3].map((i) => `etcd/2026-12-02T120000.00${i}Z-etcd.db`),
      );
      for (const m of manifests) {
        const stored = JSON.parse((await store.readSmall(`${m.name}.manifest.json`))!.toString()) as { sha256: string };
        expect(stored.sha256).toBe(m.sha256);
      }
    } finally {
      await s3.stop();
    }
  });
});
