import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findProcesses } from '../../src/adapters/proc/find.js';
import type { MysqlManifest } from '../../src/domain/mysql/manifest.js';
import { json, runCli } from '../helpers/cli.js';
import { startTestMariadb, type TestMariadb } from '../helpers/mariadb.js';

/**
 * Round trip against a real MariaDB: a database with InnoDB tables, blobs of every byte value, utf8mb4 text, a table
 * without a key holding duplicate rows, an empty table, a view, a trigger, a procedure, a function and an event is
 * dumped by `lifeboat backup mysql`, proven by `verify mysql` in a scratch server, restored by `restore mysql`, and
 * compared with the original table by table.
 */

const SCHEMA = `
CREATE DATABASE shop CHARACTER SET utf8mb4;
USE shop;
CREATE TABLE customers (
  id INT PRIMARY KEY AUTO_INCREMENT, name VARCHAR(100) NOT NULL, note TEXT, born DATE, balance DECIMAL(12,2),
  ratio DOUBLE, flags BIT(5), prefs JSON, updated TIMESTAMP(3) NULL
) ENGINE=InnoDB;
CREATE TABLE files (id INT PRIMARY KEY, data LONGBLOB, digest BINARY(16)) ENGINE=InnoDB;
CREATE TABLE audit (customer INT, what VARCHAR(20)) ENGINE=InnoDB;
CREATE TABLE dupes (a INT, b VARCHAR(10)) ENGINE=InnoDB;
CREATE TABLE empty_one (id INT PRIMARY KEY) ENGINE=InnoDB;
CREATE TRIGGER customers_audit AFTER INSERT ON customers FOR EACH ROW INSERT INTO audit VALUES (NEW.id, 'created');
CREATE VIEW rich AS SELECT id, name FROM customers WHERE balance > 100;
CREATE PROCEDURE add_customer(IN n VARCHAR(100)) BEGIN INSERT INTO customers (name) VALUES (n); END;
CREATE FUNCTION greet(s VARCHAR(50)) RETURNS VARCHAR(80) DETERMINISTIC RETURN CONCAT('Hello, ', s, '!');
CREATE EVENT nightly ON SCHEDULE EVERY 1 DAY DO DELETE FROM audit WHERE what = 'obsolete';
INSERT INTO customers (name, note, born, balance, ratio, flags, prefs, updated) VALUES
  ('Zoë 😀 李', 'line1\\nline2\\ttab ''quote'' back\\\\slash ) ; (', '1990-02-28', 150.25, 0.1, b'10101', '{"a": [1, "x"]}', '2026-01-02 03:04:05.678'),
  ('INSERT INTO \`x\` VALUES (1);', NULL, NULL, NULL, NULL, NULL, NULL, NULL),
  ('Ω', '', '2000-01-01', -5.00, -1e-300, b'0', 'null', NULL);
CALL add_customer('from a procedure');
INSERT INTO files VALUES (1, NULL, NULL), (2, '', UNHEX('00000000000000000000000000000000'));
INSERT INTO dupes VALUES (1, 'a'), (1, 'a'), (NULL, NULL), (2, '');
`;

describe('lifeboat backup/verify/restore mysql: round trip on a real MariaDB', () => {
  let db: TestMariadb;
  let dir: string;
  const env = () => ({ MYSQL_PWD: db.password });

  beforeAll(async () => {
    db = await startTestMariadb();
    dir = mkdtempSync(join(tmpdir(), 'lifeboat-mysql-'));
    await db.sql(SCHEMA);
    // Every byte value, and a 3 MiB blob that spans many dump chunks.
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const big = Buffer.alloc(3 * 1024 * 1024, 'lifeboat\u0000\n\r\\\'"');
    await db.sql('INSERT INTO shop.files VALUES (3, ?, UNHEX(MD5(?))), (4, ?, NULL)', [all, all, big]);
    await db.sql(
      'CREATE DATABASE blog; CREATE TABLE blog.posts (id INT PRIMARY KEY, title TEXT); INSERT INTO blog.posts VALUES (1, "hi")',
    );
    await db.sql('CREATE TABLE blog.hits (n INT) ENGINE=MyISAM; INSERT INTO blog.hits VALUES (1), (2)');
  }, 300_000);

  afterAll(async () => {
    await db?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('dumps, verifies in a scratch server, restores, and every table matches the original', async () => {
    const b = await runCli(['--json', 'backup', 'mysql', '--url', db.url('shop'), '--to', join(dir, 'store')], {
      env: env(),
    });
    expect(b.code, b.stderr).toBe(0);
    const doc = json<{ location: string; rows: number; tables: { table: string; rows: number }[] }>(b);
    expect(doc.location).toMatch(/mysql\/\d{4}-\d\d-\d\dT\d{6}\.\d{3}Z-shop\.sql\.gz$/);
    const manifest = JSON.parse(readFileSync(`${doc.location}.manifest.json`, 'utf8')) as MysqlManifest;
    const rows = Object.fromEntries(manifest.tables.map((t) => [t.table, t.rows]));
    expect(rows).toEqual({ customers: 4, files: 4, audit: 4, dupes: 4, empty_one: 0 });
    expect(manifest.views).toEqual(['shop.rich']);
    expect(manifest.triggers).toEqual(['shop.customers_audit']);
    expect(manifest.routines).toEqual(['shop.add_customer (procedure)', 'shop.greet (function)']);
    expect(manifest.events).toEqual(['shop.nightly']);
    expect(manifest.server.flavor).toBe('mariadb');
    expect(manifest.url).not.toContain(db.password);
    // A plain gzip file (multi-member), readable without Lifeboat, ending with the dump's own end marker.
    const sql = gunzipSync(readFileSync(doc.location)).toString('utf8');
    expect(sql.trimEnd()).toMatch(/-- Dump completed on .*$/);
    expect(sql).not.toContain(db.password);
    expect(readdirSync(join(dir, 'store', 'mysql')).sort()).toHaveLength(2);

    const scratch = join(dir, 'scratch');
    mkdirSync(scratch);
    const v = await runCli(['--json', 'verify', 'mysql', doc.location, '--scratch-dir', scratch], {
      timeoutMs: 120_000,
    });
    expect(v.code, v.stdout + v.stderr).toBe(0);
    const drill = json<{ ok: boolean; tables: number; problems: string[]; warnings: string[]; checked: unknown[] }>(v);
    expect(drill).toMatchObject({ ok: true, tables: 5, problems: [], warnings: [] });
    expect(JSON.parse(readFileSync(`${doc.location}.manifest.json`, 'utf8')).verified.ok).toBe(true);
    // The scratch server is gone and so is its directory.
    expect(findProcesses((a) => a.includes(scratch))).toEqual([]);
    expect(readdirSync(scratch)).toEqual([]);

    const before = await tableDigests(db, 'shop');
    const r1 = await runCli(['--json', 'restore', 'mysql', doc.location, '--url', db.url('shop_restored')], {
      env: env(),
      timeoutMs: 240_000,
    });
    expect(r1.code, r1.stderr).toBe(0);
    expect(json(r1)).toMatchObject({ ok: true, databases: ['shop_restored'], tables: 5, problems: [] });
    expect(await tableDigests(db, 'shop_restored')).toEqual(before);

    await db.sql('DROP DATABASE shop');
    const r2 = await runCli(['restore', 'mysql', doc.location, '--url', db.url()], { env: env(), timeoutMs: 240_000 });
    expect(r2.code, r2.stderr).toBe(0);
    expect(r2.stdout).toMatch(/restored .* 5 tables, 16 rows, counts match the dump/);
    expect(await tableDigests(db, 'shop')).toEqual(before);
    // The objects came back and work.
    expect(await db.sql("SELECT shop.greet('you') AS g")).toEqual([{ g: 'Hello, you!' }]);
    expect(await db.sql('SELECT name FROM shop.rich')).toEqual([{ name: 'Zoë 😀 李' }]);
    await db.sql("CALL shop.add_customer('after restore')");
    expect(await db.sql('SELECT what FROM shop.audit WHERE customer = 5')).toEqual([{ what: 'created' }]);
    expect(await db.sql("SELECT EVENT_NAME AS e FROM information_schema.EVENTS WHERE EVENT_SCHEMA = 'shop'")).toEqual([
      { e: 'nightly' },
    ]);

    // A non-empty target is refused (exit 2) unless --force.
    const again = await runCli(['restore', 'mysql', doc.location, '--url', db.url('shop')], { env: env() });
    expect(again.code).toBe(2);
    expect(again.stderr.trim().split('\n')).toHaveLength(1);
    expect(again.stderr).toMatch(/not empty .*--force/);
    const forced = await runCli(['restore', 'mysql', doc.location, '--url', db.url('shop'), '--force'], { env: env() });
    expect(forced.code, forced.stderr).toBe(0);
  }, 180_000);

  it('backup list shows the dumps; prune applies each database its own retention, and none keeps all', async () => {
    const store = join(dir, 'retention');
    const dump = async (database: string) => {
      const b = await runCli(['--json', 'backup', 'mysql', '--url', db.url(database), '--to', store], { env: env() });
      expect(b.code, b.stderr).toBe(0);
      return json<{ name: string }>(b).name;
    };
    // Names carry the instant to the millisecond: one after the other, they differ and sort by time.
    const [shopOld, shopNew, blogOnly] = [await dump('shop'), await dump('shop'), await dump('blog')];

    const listed = await runCli(['--json', 'backup', 'list', '--to', store]);
    expect(listed.code, listed.stderr).toBe(0);
    const doc = json<{ backups: unknown[]; mysql: Array<{ name: string; source: string; rows: number | null }> }>(
      listed,
    );
    expect(doc.backups).toEqual([]);
    expect(doc.mysql.map((d) => [d.name, d.source])).toEqual([
      [blogOnly, 'blog'],
      [shopNew, 'shop'],
      [shopOld, 'shop'],
    ]);
    expect(doc.mysql.every((d) => typeof d.rows === 'number' && d.rows > 0)).toBe(true);
    const human = await runCli(['backup', 'list', '--to', store]);
    expect(human.stdout).toMatch(/no etcd backups in /);
    expect(human.stdout).toMatch(/3 MySQL dump\(s\)/);

    // backups.retention is the etcd snapshots' policy: on its own it deletes no dump.
    const config = join(dir, 'retention.yaml');
    const etcdOnly = `backups:\n  to: [${store}]\n  retention: { keepLast: 1 }\n`;
    writeFileSync(config, etcdOnly);
    const none = await runCli(['-c', config, '--json', 'prune', '--dry-run']);
    expect(none.code, none.stderr).toBe(0);
    expect(json<{ mysql: { plan: { remove: unknown[]; keep: unknown[] } } }>(none).mysql.plan).toMatchObject({
      remove: [],
      keep: [expect.anything(), expect.anything(), expect.anything()],
    });
    // shop has a policy of its own; blog, not in the config, keeps every dump.
    writeFileSync(
      config,
      `${etcdOnly}databases:\n  - { name: shop, url: "${db.url('shop')}", retention: { keepLast: 1 } }\n`,
    );
    const dry = await runCli(['-c', config, '--json', 'prune', '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    const planned = json<{
      mysql: { plan: { remove: Array<{ name: string; objects: string[] }> }; deleted: string[] };
    }>(dry).mysql;
    expect(planned.plan.remove).toEqual(
      [{ name: shopOld, objects: [shopOld, `${shopOld}.manifest.json`] }].map((r) => expect.objectContaining(r)),
    );
    expect(planned.deleted).toEqual([]);
    expect(existsSync(join(store, shopOld))).toBe(true);

    const real = await runCli(['-c', config, 'prune']);
    expect(real.code, real.stderr).toBe(0);
    expect(real.stdout).toMatch(/deleted 1 MySQL dump\(s\), kept 2/);
    expect(existsSync(join(store, shopOld))).toBe(false);
    expect(existsSync(join(store, `${shopOld}.manifest.json`))).toBe(false);
    for (const kept of [shopNew, blogOnly]) expect(existsSync(join(store, kept))).toBe(true);
  }, 180_000);

  it('without a database in the URL dumps every user database (not mysql/sys), encrypted with age', async () => {
    const { generateIdentity, identityToRecipient } = await import('age-encryption');
    const identity = await generateIdentity();
    const recipient = await identityToRecipient(identity);
    const store = join(dir, 'all');
    const b = await runCli(['--json', 'backup', 'mysql', '--url', db.url(), '--to', store, '--recipient', recipient], {
      env: env(),
    });
    expect(b.code, b.stderr).toBe(0);
    const doc = json<{ location: string; databases: string[]; encrypted: boolean; warnings: string[] }>(b);
    // MyISAM cannot be part of the snapshot: said on stderr and in the manifest.
    expect(doc.warnings).toEqual([expect.stringMatching(/not transactional.*blog\.hits \(MyISAM\)/)]);
    expect(b.stderr).toMatch(/^warning: not transactional/m);
    expect(doc.databases).toEqual(expect.arrayContaining(['blog', 'shop']));
    expect(doc.databases).not.toContain('mysql');
    expect(doc.encrypted).toBe(true);
    expect(doc.location.endsWith('.sql.gz.age')).toBe(true);
    expect(readFileSync(doc.location).subarray(0, 21).toString()).toBe('age-encryption.org/v1');

    const noKey = await runCli(['verify', 'mysql', '--latest', '--to', store], { env: { LIFEBOAT_AGE_IDENTITY: '' } });
    expect(noKey.code).toBe(2);
    const v = await runCli(['--json', 'verify', 'mysql', '--latest', '--to', store], {
      env: { LIFEBOAT_AGE_IDENTITY: identity },
      timeoutMs: 120_000,
    });
    expect(v.code, v.stdout + v.stderr).toBe(0);
    expect(json<{ ok: boolean; location: string }>(v)).toMatchObject({ ok: true, location: doc.location });
    expect(existsSync(`${doc.location}.manifest.json`)).toBe(true);
  }, 180_000);
});

/** Per table: CHECKSUM TABLE and the rows themselves (as sorted JSON lines, blobs as hex). */
async function tableDigests(db: TestMariadb, schema: string): Promise<Record<string, unknown>> {
  const tables = await db.sql<{ t: string }>(
    "SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' ORDER BY 1",
    [schema],
  );
  const out: Record<string, unknown> = {};
  for (const { t } of tables) {
    const [sum] = await db.sql<{ Checksum: string }>(`CHECKSUM TABLE \`${schema}\`.\`${t}\``);
    const rows = await db.sql(`SELECT * FROM \`${schema}\`.\`${t}\``);
    const hex = (_k: string, v: { type?: string; data?: number[] }) =>
      v && v.type === 'Buffer' ? Buffer.from(v.data ?? []).toString('hex') : v;
    out[t] = { checksum: sum?.Checksum, rows: rows.map((r) => JSON.stringify(r, hex)).sort() };
  }
  return out;
}
