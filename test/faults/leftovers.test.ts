import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCatalog } from '../../src/adapters/snapshot/catalog.js';
import { LocalStore } from '../../src/adapters/store/local.js';
import { backupEtcd } from '../../src/app/backup/etcd.js';
import { pruneStore } from '../../src/app/prune.js';
import { startTestCluster, type TestCluster } from '../helpers/etcd-cluster.js';

/**
 * Issue 16 finding 5: SIGKILLed backups left hidden temp files (546 MB after five) that nothing removed and that the
 * free-space check counted; a manifest that failed to write left the snapshot listed as "no manifest".
 */

let etcd: TestCluster;
let dir: string;
const host = hostname().replace(/[^A-Za-z0-9-]/g, '-');

/** The pid of a process that has exited (so it is certainly not alive). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  await new Promise((r) => child.on('exit', r));
  return child.pid!;
}

beforeAll(async () => {
  etcd = await startTestCluster(1);
  dir = mkdtempSync(join(tmpdir(), 'lifeboat-fault-leftovers-'));
});
afterAll(async () => {
  await etcd?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('leftovers of dead runs are reclaimed', { timeout: 120_000 }, () => {
  it("the next backup removes a dead writer's temp file and an idle old one, and keeps a live writer's", async () => {
    const root = join(dir, 'a');
    const etcdDir = join(root, 'etcd');
    mkdirSync(etcdDir, { recursive: true });
    const dead = `.2026-12-01T000000.000Z-x.db.tmp-${host}.${await deadPid()}-0123456789ab`;
    const live = `.2026-12-01T000000.000Z-y.db.tmp-${host}.${process.pid}-0123456789ab`;
    const old = '.2026-12-01T000000.000Z-z.db.tmp-abcdefabcdef'; // an older version's name: age decides
    for (const n of [dead, live, old]) writeFileSync(join(etcdDir, n), Buffer.alloc(4096));
    const twoHoursAgo = new Date(Date.now() - 2 * 3_600_000);
    utimesSync(join(etcdDir, old), twoHoursAgo, twoHoursAgo);
    const store = new LocalStore(root);
    await backupEtcd({ endpoint: etcd.endpoints[0]!, memberName: 'm1', connection: {}, store });
    const left = readdirSync(etcdDir).filter((n) => n.includes('.tmp-'));
    expect(left).toEqual([live]);
  });

  it('prune reclaims them too', async () => {
    const root = join(dir, 'a');
    const dead = `.2026-12-01T000000.000Z-w.db.tmp-${host}.${await deadPid()}-0123456789ab`;
    writeFileSync(join(root, 'etcd', dead), 'x');
    const { deleted } = await pruneStore(new LocalStore(root), { keepLast: 5 }, Date.now(), false);
    expect(deleted).toContain(`etcd/${dead}`);
    expect(existsSync(join(root, 'etcd', dead))).toBe(false);
  });

  it('a manifest that cannot be written: the snapshot is not committed, nothing is listed', async () => {
    const root = join(dir, 'b');
    // The manifest write fails as a full disk would, after the snapshot has streamed and checked out.
    class ManifestFails extends LocalStore {
      override async putSmall(name: string, data: Buffer | string, opts?: { exclusive?: boolean }): Promise<void> {
        // The claim (a placeholder) fits; the real manifest does not.
        if (name.endsWith('.manifest.json') && String(data).includes('sha256'))
          throw new Error('no space left on device');
        return super.putSmall(name, data, opts);
      }
    }
    const store = new ManifestFails(root);
    await expect(backupEtcd({ endpoint: etcd.endpoints[0]!, memberName: 'm1', connection: {}, store })).rejects.toThrow(
      'no space left',
    );
    expect((await readCatalog(store)).entries).toEqual([]);
    expect(readdirSync(join(root, 'etcd'))).toEqual([]); // no snapshot, no temp file
  });
});
