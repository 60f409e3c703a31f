import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MysqlManifest } from '../../src/domain/mysql/manifest.js';
import { json, runCli } from '../helpers/cli.js';
import { startTestMariadb, type TestMariadb } from '../helpers/mariadb.js';

/**
 * Consistency: a writer commits transactions that insert into `a` and `b` together (and rewrite rows of both) as
 * fast as it can, the whole time. Each dump taken meanwhile must hold equal counts for `a` and `b` (one snapshot
 * for every table), and the manifest's counts must be exactly what a restore of that dump holds.
 */
describe('lifeboat backup mysql under concurrent writes', () => {
  let db: TestMariadb;
  let dir: string;

  beforeAll(async () => {
    db = await startTestMariadb();
    dir = mkdtempSync(join(tmpdir(), 'lifeboat-mysql-consistency-'));
    await db.sql(`
      CREATE DATABASE ledger;
      USE ledger;
      CREATE TABLE ledger.a (id INT PRIMARY KEY AUTO_INCREMENT, v INT, pad VARCHAR(200)) ENGINE=InnoDB;
      CREATE TABLE ledger.b (id INT PRIMARY KEY AUTO_INCREMENT, v INT, pad VARCHAR(200)) ENGINE=InnoDB;
      INSERT INTO ledger.a (v, pad) SELECT seq, REPEAT(MD5(seq), 5) FROM seq_1_to_60000;
      INSERT INTO ledger.b (v, pad) SELECT seq, REPEAT(MD5(seq), 5) FROM seq_1_to_60000;`);
  });

  afterAll(async () => {
    await db?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('every dump is one snapshot: counts agree across tables and with what a restore holds', async () => {
    const writer = await db.root();
    let commits = 0;
    let stop = false;
    const writing = (async () => {
      while (!stop) {
        const n = commits;
        await writer.query(
          `START TRANSACTION;
           INSERT INTO ledger.a (v, pad) VALUES (${n}, 'new'); INSERT INTO ledger.b (v, pad) VALUES (${n}, 'new');
           UPDATE ledger.a SET v = v + 1 WHERE id = ${1 + (n % 1000)}; UPDATE ledger.b SET v = v + 1 WHERE id = ${1 + (n % 1000)};
           COMMIT;`,
        );
        commits++;
      }
    })();
    const manifests: MysqlManifest[] = [];
    try {
      for (let i = 0; i < 3; i++) {
        const before = commits;
        const b = await runCli(['--json', 'backup', 'mysql', '--url', db.url('ledger'), '--to', join(dir, 'store')], {
          env: { MYSQL_PWD: db.password },
        });
        expect(b.code, b.stderr).toBe(0);
        expect(commits, 'the writer committed while the dump ran').toBeGreaterThan(before);
        const { location } = json<{ location: string }>(b);
        manifests.push(JSON.parse(readFileSync(`${location}.manifest.json`, 'utf8')) as MysqlManifest);
      }
    } finally {
      stop = true;
      await writing;
    }
    for (const [i, m] of manifests.entries()) {
      const rows = Object.fromEntries(m.tables.map((t) => [t.table, t.rows]));
      expect(rows.a, `dump ${i}: a and b come from one snapshot`).toBe(rows.b);
      expect(rows.a).toBeGreaterThan(60_000);
      // The restore compares COUNT(*) of every restored table with the manifest: exit 0 only when they agree.
      const r = await runCli(['--json', 'restore', 'mysql', m.location, '--url', db.url(`check_${i}`)], {
        env: { MYSQL_PWD: db.password },
      });
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const [counted] = await db.sql<{ a: string; b: string }>(
        `SELECT (SELECT COUNT(*) FROM check_${i}.a) AS a, (SELECT COUNT(*) FROM check_${i}.b) AS b`,
      );
      expect(Number(counted?.a)).toBe(rows.a);
      expect(Number(counted?.b)).toBe(rows.b);
    }
    expect(new Set(manifests.map((m) => m.rows)).size, 'the writer moved the data between dumps').toBe(3);
    // And the full drill on the last one: counts and checksums in a scratch server.
    const v = await runCli(['--json', 'verify', 'mysql', manifests[2]!.location], { timeoutMs: 120_000 });
    expect(json<{ tables: number; rows: number }>(v)).toMatchObject({ tables: 2, rows: manifests[2]!.rows });
    expect(v.code, v.stdout + v.stderr).toBe(0);
  }, 180_000);
});
