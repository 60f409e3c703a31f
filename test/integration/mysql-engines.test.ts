import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { harmlessLine } from '../../src/domain/mysql/errors.js';
import type { MysqlManifest } from '../../src/domain/mysql/manifest.js';
import { type CliResult, expectOneLineUsageError, json, runCli } from '../helpers/cli.js';
import { startKubeApi } from '../helpers/kube-api.js';
import { mysqlRoot, startTestMariadb, startTestMysql, type TestMariadb } from '../helpers/mariadb.js';
import { makeTestPki, type TestPki } from '../helpers/tls.js';

/**
 * Engine-true dumps and drills against a real MySQL 9 (scripts/mysql-root.sh) and a real MariaDB 10.11, each holding
 * the schema of a real application: utf8mb4 with emoji and CJK, JSON (with a DECIMAL that MySQL prints back
 * differently after a round trip), BLOB, stored and virtual generated columns, FULLTEXT, BIT/ENUM/DECIMAL/DOUBLE, a
 * view, triggers, a procedure, a function and an event, all created by a non-root user (MySQL: caching_sha2_password).
 * backup -> verify -> restore into an empty database of the same engine must give identical CHECKSUM TABLE results,
 * row counts and objects. And the incident's trap: a MySQL dump written by mariadb-dump is refused, and when forced
 * is never called verified (MySQL refuses its generated-column values: ERROR 3105).
 */

const SCHEMA = `
CREATE TABLE products (
  id INT PRIMARY KEY AUTO_INCREMENT,
  name VARCHAR(200) NOT NULL,
  description TEXT,
  price DECIMAL(10,2) NOT NULL,
  vat DECIMAL(10,2) AS (price * 0.19) STORED,
  gross DECIMAL(10,2) AS (price * 1.19) VIRTUAL,
  weight DOUBLE,
  flags BIT(8),
  state ENUM('draft', 'live', 'gone') NOT NULL DEFAULT 'draft',
  attrs JSON,
  photo BLOB,
  FULLTEXT KEY ft_text (name, description)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE stock_log (product INT, delta INT, at DATETIME(3)) ENGINE=InnoDB;
CREATE TRIGGER products_created AFTER INSERT ON products FOR EACH ROW INSERT INTO stock_log VALUES (NEW.id, 0, '2026-01-01');
CREATE TRIGGER products_priced BEFORE UPDATE ON products FOR EACH ROW SET NEW.weight = COALESCE(NEW.weight, 0);
CREATE VIEW live_products AS SELECT id, name, gross FROM products WHERE state = 'live';
CREATE PROCEDURE restock(IN p INT, IN n INT) BEGIN INSERT INTO stock_log VALUES (p, n, '2026-02-02'); END;
CREATE FUNCTION with_vat(p DECIMAL(10,2)) RETURNS DECIMAL(10,2) DETERMINISTIC RETURN p * 1.19;
CREATE EVENT purge_log ON SCHEDULE EVERY 1 DAY DO DELETE FROM stock_log WHERE delta = 0;
INSERT INTO products (name, description, price, weight, flags, state, attrs, photo) VALUES
  ('Tee 👕 T恤', 'cotton, 綿100%, emoji 🚢', 19.99, 0.25, b'10100101', 'live', JSON_OBJECT('price', '13.70', 'tags', JSON_ARRAY('a', 'ü')), UNHEX('00FF10')),
  ('Mug ☕', 'ceramic ''quoted'' \\\\ back', 7.50, 1e-300, b'0', 'draft', '{"sizes": [1.50, 2], "ok": true}', NULL),
  ('Void', NULL, 0.00, NULL, NULL, 'gone', NULL, '');
CALL restock(1, 5);
CREATE TABLE json_prices (id INT PRIMARY KEY, doc JSON) ENGINE=InnoDB;
INSERT INTO json_prices VALUES (1, JSON_OBJECT('price', 13.70)), (2, JSON_ARRAY(1.50, 2.0, 1e-3));
`;

async function fill(db: TestMariadb, database: string, appUser: string): Promise<void> {
  await db.sql(`CREATE DATABASE ${database} CHARACTER SET utf8mb4`);
  await db.sql(`GRANT ALL PRIVILEGES ON ${database}.* TO ${appUser}`);
  const mysql = await import('mysql2/promise');
  const app = await mysql.createConnection({
    host: '127.0.0.1',
    port: db.port,
    user: 'app',
    password: 'app-pw',
    database,
    charset: 'utf8mb4_general_ci',
  });
  try {
    // One statement at a time, as migrations send them: MySQL keeps a trailing ";" in the body of a trigger sent in a
    // multi-statement query, and its own mysqldump then writes a dump MySQL cannot load (the drill catches that).
    for (const statement of SCHEMA.split(/;\n/)
      .map((t) => t.trim())
      .filter(Boolean))
      await app.query(statement);
  } finally {
    await app.end();
  }
}

/** CHECKSUM TABLE and COUNT(*) of every base table, and every object, of one database. */
async function snapshot(db: TestMariadb, database: string) {
  const tables = await db.sql<{ t: string }>(
    "SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' ORDER BY 1",
    [database],
  );
  const out: Record<string, unknown> = {};
  // MySQL stores a JSON DECIMAL (13.70) that a reload reads back as the double 13.7: the same value, other bytes,
  // so CHECKSUM TABLE differs by design; json_prices is compared value by value (JSON equality) instead.
  const [{ n: same }] = (await db.sql<{ n: number }>(
    `SELECT COUNT(*) AS n FROM \`${database}\`.json_prices a JOIN shop.json_prices b ON a.id = b.id AND a.doc = b.doc`,
  )) as [{ n: number }];
  out.jsonPricesEqualToShop = Number(same);
  for (const { t } of tables.filter(({ t }) => t !== 'json_prices')) {
    const [sum] = await db.sql<{ Checksum: string }>(`CHECKSUM TABLE \`${database}\`.\`${t}\``);
    const [count] = await db.sql<{ n: number }>(`SELECT COUNT(*) AS n FROM \`${database}\`.\`${t}\``);
    out[t] = { checksum: String(sum!.Checksum), rows: Number(count!.n) };
  }
  const objects = async (sql: string) => (await db.sql<{ n: string }>(sql, [database])).map((r) => r.n);
  out.views = await objects('SELECT TABLE_NAME AS n FROM information_schema.VIEWS WHERE TABLE_SCHEMA = ? ORDER BY 1');
  out.triggers = await objects(
    'SELECT TRIGGER_NAME AS n FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ? ORDER BY 1',
  );
  out.routines = await objects(
    'SELECT CONCAT(ROUTINE_NAME, " ", ROUTINE_TYPE) AS n FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ? ORDER BY 1',
  );
  out.events = await objects('SELECT EVENT_NAME AS n FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ? ORDER BY 1');
  return out;
}

/** The manifest of the dump a `--json backup mysql` run stored. */
function manifestOf(r: CliResult): MysqlManifest {
  const { location } = json<{ location: string }>(r);
  return JSON.parse(readFileSync(`${location}.manifest.json`, 'utf8')) as MysqlManifest;
}

const root = mysqlRoot();
const noMysql = 'missing' in root ? root.missing : undefined;
if (noMysql) console.warn(`skipping the MySQL half of mysql-engines.test.ts: ${noMysql}`);

describe.each([
  { engine: 'MySQL 9', start: () => startTestMysql(), skip: noMysql },
  { engine: 'MariaDB 10.11', start: () => startTestMariadb(), skip: undefined },
])('$engine: backup -> verify -> restore keeps every table and object', ({ engine, start, skip }) => {
  let db: TestMariadb & { env?: Record<string, string> };
  let dir: string;
  const env = () => ({ MYSQL_PWD: db.password, ...(db.env ?? {}) });

  beforeAll(async () => {
    if (skip) return;
    db = await start();
    dir = mkdtempSync(join(tmpdir(), 'lifeboat-engines-'));
    const plugin = engine.startsWith('MySQL') ? ' IDENTIFIED WITH caching_sha2_password' : ' IDENTIFIED';
    await db.sql(`CREATE USER 'app'@'127.0.0.1'${plugin} BY 'app-pw'`);
    await fill(db, 'shop', "'app'@'127.0.0.1'");
  }, 600_000);

  afterAll(async () => {
    await db?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it.skipIf(Boolean(skip))(
    'dumps with its own tool, verifies in its own engine, restores identically',
    async () => {
      const store = join(dir, 'store');
      const b = await runCli(['--json', 'backup', 'mysql', '--url', db.url('shop'), '--to', store], {
        env: env(),
        timeoutMs: 240_000,
      });
      expect(b.code, b.stderr).toBe(0);
      const { location } = json<{ location: string }>(b);
      const manifest = JSON.parse(readFileSync(`${location}.manifest.json`, 'utf8')) as MysqlManifest;
      const flavor = engine.startsWith('MySQL') ? 'mysql' : 'mariadb';
      expect(manifest.server.flavor).toBe(flavor);
      expect(manifest.dumpTool.flavor).toBe(flavor);
      expect(manifest.views).toEqual(['shop.live_products']);
      expect(manifest.triggers).toEqual(['shop.products_created', 'shop.products_priced']);
      expect(manifest.routines).toEqual(['shop.restock (procedure)', 'shop.with_vat (function)']);
      expect(manifest.events).toEqual(['shop.purge_log']);

      const v = await runCli(['--json', 'verify', 'mysql', location], { env: env(), timeoutMs: 400_000 });
      const drill = json<{ ok: boolean; status: string; scratchVersion: string; problems: string[] }>(v);
      expect(drill.problems).toEqual([]);
      expect(drill.status).toBe('verified');
      expect(v.code, v.stderr).toBe(0);
      expect(drill.scratchVersion).toMatch(flavor === 'mysql' ? /^9\./ : /MariaDB/);

      const r = await runCli(['--json', 'restore', 'mysql', location, '--url', db.url('shop_copy')], {
        env: env(),
        timeoutMs: 240_000,
      });
      expect(r.code, r.stderr + r.stdout).toBe(0);
      expect(await snapshot(db, 'shop_copy')).toEqual(await snapshot(db, 'shop'));

      const listed = await runCli(['--json', 'backup', 'list', '--to', store], { env: env() });
      const dumps = json<{ mysql: { verified: boolean | null }[] }>(listed).mysql;
      expect(dumps.map((d) => d.verified)).toEqual([true]);
    },
    900_000,
  );
});

describe.skipIf(Boolean(noMysql))("MySQL 9: the generated-column trap, TLS, the backup user's privileges", () => {
  let db: TestMariadb & { env: Record<string, string> };
  let dir: string;

  beforeAll(async () => {
    db = await startTestMysql();
    dir = mkdtempSync(join(tmpdir(), 'lifeboat-trap-'));
    await db.sql(
      `CREATE DATABASE wp; CREATE TABLE wp.products (id INT PRIMARY KEY, price DECIMAL(10,2), vat DECIMAL(10,2) AS (price * 0.19) STORED) COLLATE utf8mb4_0900_ai_ci;
       INSERT INTO wp.products (id, price) VALUES (1, 10.00), (2, 99.90)`,
    );
  }, 600_000);

  afterAll(async () => {
    await db?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('is refused without MySQL mysqldump, and when forced is never marked verified', async () => {
    const store = join(dir, 'store');
    // Only Debian's MariaDB clients (mysqldump there is mariadb-dump): what most hosts have.
    const mariadbOnly = { MYSQL_PWD: db.password, LIFEBOAT_MYSQLDUMP: '', LIFEBOAT_MYSQL: '', LIFEBOAT_MYSQLD: '' };
    const refused = await runCli(['backup', 'mysql', '--url', db.url('wp'), '--to', store], { env: mariadbOnly });
    expectOneLineUsageError(
      refused,
      /refusing to dump MySQL 9\.\S+ with mariadb-dump .*MySQL cannot load.*LIFEBOAT_MYSQLDUMP/,
    );

    const forced = await runCli(
      ['--json', 'backup', 'mysql', '--url', db.url('wp'), '--to', store, '--allow-other-dump-tool'],
      { env: mariadbOnly },
    );
    expect(forced.code, forced.stderr).toBe(0);
    const { location } = json<{ location: string }>(forced);

    // No MySQL server for a drill here: unverified, with the reason, and never "ok".
    const none = await runCli(['--json', 'verify', 'mysql', location], { env: mariadbOnly });
    expect(none.code).toBe(1);
    const unverified = json<{ status: string; reason: string }>(none);
    expect(unverified.status).toBe('unverified');
    expect(unverified.reason).toMatch(/no MySQL server here \(looked for \$LIFEBOAT_MYSQLD, mysqlTools\.mysqld/);
    let listed = await runCli(['backup', 'list', '--to', store]);
    expect(listed.stdout).toMatch(/unverified/);
    expect(listed.stdout).not.toMatch(/\byes\b/);

    // With a MySQL 9 scratch server the drill runs and fails on MySQL's own words.
    const v = await runCli(['--json', 'verify', 'mysql', location], {
      env: { ...mariadbOnly, ...db.env },
      timeoutMs: 400_000,
    });
    expect(v.code, v.stderr).toBe(1);
    const drill = json<{ status: string; problems: string[] }>(v);
    expect(drill.status).toBe('failed');
    expect(drill.problems.join('\n')).toMatch(/ERROR 3105 .*generated column 'vat'/);
    listed = await runCli(['--json', 'backup', 'list', '--to', store]);
    expect(json<{ mysql: { verified: boolean | null }[] }>(listed).mysql.map((d) => d.verified)).toEqual([false]);
  }, 900_000);

  it('backs up a require_secure_transport=ON server over TLS, from URL parameters, and says how when they are missing', async () => {
    await db.sql('SET GLOBAL require_secure_transport = ON');
    try {
      const store = join(dir, 'tls');
      const env = { MYSQL_PWD: db.password, ...db.env };
      const plain = await runCli(['backup', 'mysql', '--url', db.url('wp'), '--to', store], { env });
      expectOneLineUsageError(plain, /accepts only TLS connections .*ssl-mode=REQUIRED/);
      const ca = join(db.server.dataDir, 'ca.pem');
      for (const params of ['ssl-mode=REQUIRED', `ssl-mode=VERIFY_CA&ssl-ca=${ca}`]) {
        const b = await runCli(['--json', 'backup', 'mysql', '--url', `${db.url('wp')}?${params}`, '--to', store], {
          env,
          timeoutMs: 240_000,
        });
        expect(b.code, b.stderr).toBe(0);
        expect(json<{ tables: { table: string; rows: number }[] }>(b).tables).toEqual([
          expect.objectContaining({ table: 'products', rows: 2 }),
        ]);
      }
      const wrongCa = await runCli(
        [
          'backup',
          'mysql',
          '--url',
          `${db.url('wp')}?ssl-mode=VERIFY_CA&ssl-ca=${join(dir, 'nope.pem')}`,
          '--to',
          store,
        ],
        { env },
      );
      expectOneLineUsageError(wrongCa, /cannot read the TLS CA .*nope\.pem/);
      // MySQL's self-made certificate names no host: VERIFY_IDENTITY must refuse it (VERIFY_CA above took it).
      const identity = await runCli(
        ['backup', 'mysql', '--url', `${db.url('wp')}?ssl-mode=VERIFY_IDENTITY&ssl-ca=${ca}`, '--to', store],
        { env },
      );
      expectOneLineUsageError(
        identity,
        /the TLS certificate of backup@127\.0\.0\.1:\d+ is not for that host \(.*127\.0\.0\.1/,
      );
    } finally {
      await db.sql('SET GLOBAL require_secure_transport = OFF');
    }
  }, 900_000);

  it('a backup user lacking only SHOW_ROUTINE is refused naming it, and nothing is stored or called verified', async () => {
    // Everything mysqldump needs for wp's tables, views, triggers and events, but not the routines root defined.
    await db.sql(
      `CREATE FUNCTION wp.with_vat(p DECIMAL(10,2)) RETURNS DECIMAL(10,2) DETERMINISTIC RETURN p * 1.19;
       CREATE USER 'noroutine'@'127.0.0.1' IDENTIFIED BY 'nr-pw';
       GRANT SELECT, SHOW VIEW, TRIGGER, EVENT, LOCK TABLES ON wp.* TO 'noroutine'@'127.0.0.1'`,
    );
    const env = { MYSQL_PWD: 'nr-pw', ...db.env };
    const store = join(dir, 'routines');
    const url = db.url('wp', 'noroutine');

    // The trap: mysqldump itself leaves the function out and exits 0.
    const cnf = join(dir, 'noroutine.cnf');
    writeFileSync(cnf, `[client]\nuser=noroutine\npassword=nr-pw\nhost=127.0.0.1\nport=${db.port}\n`, { mode: 0o600 });
    const plain = spawnSync(
      db.env.LIFEBOAT_MYSQLDUMP!,
      [
        `--defaults-extra-file=${cnf}`,
        '--single-transaction',
        '--routines',
        '--no-tablespaces',
        '--set-gtid-purged=OFF',
        'wp',
      ],
      { encoding: 'utf8' },
    );
    expect(plain.status, plain.stderr).toBe(0);
    expect(plain.stdout).toMatch(/-- Dump completed/);
    expect(plain.stdout).not.toMatch(/with_vat/);
    // ...and says on stderr only what Lifeboat knows to be harmless: MySQL 9's masking-policies line, which a
    // failing dump prints before its real error (named below, not this one).
    expect(plain.stderr).toMatch(
      /Error: 'SELECT command denied .*column_masking_policy.* when trying to dump masking policies/,
    );
    expect(plain.stderr.split('\n').filter((l) => l.trim() && !harmlessLine(l))).toEqual([]);

    const refused = await runCli(['backup', 'mysql', '--url', url, '--to', store], { env });
    expectOneLineUsageError(
      refused,
      /the backup user noroutine@127\.0\.0\.1:\d+ lacks SHOW_ROUTINE \(routines of other definers\): the dump would silently miss .*GRANT SHOW_ROUTINE ON \*\.\*/,
    );
    const listed = await runCli(['--json', 'backup', 'list', '--to', store]);
    expect(json<{ mysql: unknown[] }>(listed).mysql).toEqual([]);
    const latest = await runCli(['verify', 'mysql', '--latest', '--to', store], { env });
    expect(latest.code).not.toBe(0);
    expect(latest.stdout).not.toMatch(/verified|ok/i);

    // With SHOW_ROUTINE the function is in the dump. The user still may not read performance_schema, so MySQL 9.7's
    // mysqldump prints "Error: ... when trying to dump masking policies" and goes on: not a failure.
    await db.sql("GRANT SHOW_ROUTINE ON *.* TO 'noroutine'@'127.0.0.1'");
    const ok = await runCli(['--json', 'backup', 'mysql', '--url', url, '--to', store], { env, timeoutMs: 240_000 });
    expect(ok.code, ok.stderr).toBe(0);
    expect(manifestOf(ok).routines).toEqual(['wp.with_vat (function)']);

    // A real failure behind that line: the error named is the server's (1356), not the masking-policies line.
    await db.sql('CREATE TABLE wp.gone (id INT); CREATE VIEW wp.broken AS SELECT id FROM wp.gone; DROP TABLE wp.gone');
    try {
      const broken = await runCli(['backup', 'mysql', '--url', url, '--to', store], { env, timeoutMs: 240_000 });
      expect(broken.code, broken.stderr).toBe(1);
      const lines = broken.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(
        /mysqldump exited 2: .*View 'wp\.broken' references invalid table.*\(1356\); nothing was stored/,
      );
      expect(lines[0]).not.toMatch(/masking/);
    } finally {
      await db.sql('DROP VIEW wp.broken');
    }

    // Global SELECT shows every routine too (and the check reads this user's grants, not root's).
    await db.sql(
      "REVOKE SHOW_ROUTINE ON *.* FROM 'noroutine'@'127.0.0.1'; GRANT SELECT ON *.* TO 'noroutine'@'127.0.0.1'",
    );
    const bySelect = await runCli(['--json', 'backup', 'mysql', '--url', url, '--to', store], {
      env,
      timeoutMs: 240_000,
    });
    expect(bySelect.code, bySelect.stderr).toBe(0);
    expect(manifestOf(bySelect).routines).toEqual(['wp.with_vat (function)']);
    await db.sql("REVOKE SELECT ON *.* FROM 'noroutine'@'127.0.0.1'");
    const again = await runCli(['backup', 'mysql', '--url', url, '--to', store], { env });
    expectOneLineUsageError(again, /lacks SHOW_ROUTINE/);
    expect(json<{ mysql: unknown[] }>(await runCli(['--json', 'backup', 'list', '--to', store])).mysql).toHaveLength(2);
    await db.sql('DROP FUNCTION wp.with_vat');
  }, 900_000);

  it("takes the TLS files from a Kubernetes Secret (a database's tls.secret, and --tls-secret), client certificate included", async () => {
    // A user the server lets in only over TLS with a client certificate its CA signed: the Secret's tls.crt/tls.key
    // must reach both the mysql2 checks and the mysqldump/mysql children (which get them as 0600 files).
    await db.sql(
      "CREATE USER 'x509'@'127.0.0.1' IDENTIFIED BY 'x509-pw' REQUIRE X509; GRANT ALL ON *.* TO 'x509'@'127.0.0.1'; SET GLOBAL require_secure_transport = ON",
    );
    const kube = await startKubeApi();
    try {
      const pem = (file: string) => readFileSync(join(db.server.dataDir, file)).toString('base64');
      kube.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } });
      kube.create({
        apiVersion: 'v1',
        kind: 'Secret',
        type: 'kubernetes.io/tls',
        metadata: { name: 'mysql-client-tls', namespace: 'shop' },
        data: { 'ca.crt': pem('ca.pem'), 'tls.crt': pem('client-cert.pem'), 'tls.key': pem('client-key.pem') },
      });
      kube.create({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'mysql-auth', namespace: 'shop' },
        data: { password: Buffer.from('x').toString('base64') },
      });
      const env = { MYSQL_PWD: 'x509-pw', KUBECONFIG: kube.kubeconfig, ...db.env };
      const store = join(dir, 'tls-secret');

      // Without the client certificate the server says no: the certificate below is what lets the user in.
      const noCert = await runCli(
        ['backup', 'mysql', '--url', `${db.url('wp', 'x509')}?ssl-mode=REQUIRED`, '--to', store],
        { env },
      );
      expectOneLineUsageError(noCert, /access denied for x509@127\.0\.0\.1/);

      const config = join(dir, 'tls.yaml');
      writeFileSync(
        config,
        `backups: { to: [${store}] }\ndatabases:\n  - name: wp-tls\n    url: ${db.url('wp', 'x509')}\n    tls: { secret: { namespace: shop, name: mysql-client-tls } }\n`,
      );
      const b = await runCli(['-c', config, '--json', 'backup', 'mysql', 'wp-tls'], { env, timeoutMs: 240_000 });
      expect(b.code, b.stderr).toBe(0);
      const backup = json<{ location: string; tables: { table: string; rows: number }[] }>(b);
      expect(backup.tables).toEqual([expect.objectContaining({ table: 'products', rows: 2 })]);

      const tmp = join(dir, 'tmp');
      mkdirSync(tmp);
      const r = await runCli(
        [
          '--json',
          'restore',
          'mysql',
          backup.location,
          '--url',
          `${db.url('wp_tls_copy', 'x509')}?ssl-mode=VERIFY_CA`,
          '--tls-secret',
          'shop/mysql-client-tls',
        ],
        { env: { ...env, TMPDIR: tmp }, timeoutMs: 240_000 },
      );
      expect(r.code, r.stderr + r.stdout).toBe(0);
      expect(await db.sql('SELECT id, price, vat FROM wp_tls_copy.products ORDER BY id')).toEqual(
        await db.sql('SELECT id, price, vat FROM wp.products ORDER BY id'),
      );
      // The key files lived in a private directory that is gone with the child.
      expect(readdirSync(tmp)).toEqual([]);

      const wrong = await runCli(
        ['restore', 'mysql', backup.location, '--url', db.url('wp_x', 'x509'), '--tls-secret', 'shop/mysql-auth'],
        { env },
      );
      expectOneLineUsageError(wrong, /secret shop\/mysql-auth holds none of ca\.crt, tls\.crt, tls\.key/);
    } finally {
      await kube.close();
      await db.sql('SET GLOBAL require_secure_transport = OFF');
    }
  }, 900_000);
});

describe('MariaDB 10.11 with require_secure_transport=ON: TLS files from a Kubernetes Secret', () => {
  let db: TestMariadb;
  let pki: TestPki;
  let dir: string;

  beforeAll(async () => {
    pki = makeTestPki();
    dir = mkdtempSync(join(tmpdir(), 'lifeboat-maria-tls-'));
    db = await startTestMariadb({
      extraArgs: [
        `--ssl-ca=${pki.ca}`,
        `--ssl-cert=${pki.serverCert}`,
        `--ssl-key=${pki.serverKey}`,
        '--require-secure-transport=ON',
      ],
    });
    await db.sql(
      `CREATE DATABASE shop; CREATE TABLE shop.t (id INT PRIMARY KEY, v VARCHAR(20)) CHARSET=utf8mb4; INSERT INTO shop.t VALUES (1, 'über'), (2, '船');
       CREATE USER 'x509'@'127.0.0.1' IDENTIFIED BY 'x509-pw' REQUIRE X509; GRANT ALL ON *.* TO 'x509'@'127.0.0.1'`,
    );
  }, 600_000);

  afterAll(async () => {
    await db?.stop();
    pki?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("dumps and restores with mariadb-dump/mariadb over TLS, the server's identity and the client certificate checked", async () => {
    const kube = await startKubeApi();
    try {
      const b64 = (file: string) => readFileSync(file).toString('base64');
      kube.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } });
      kube.create({
        apiVersion: 'v1',
        kind: 'Secret',
        type: 'kubernetes.io/tls',
        metadata: { name: 'db-tls', namespace: 'shop' },
        data: { 'ca.crt': b64(pki.ca), 'tls.crt': b64(pki.clientCert), 'tls.key': b64(pki.clientKey) },
      });
      kube.create({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'other-ca', namespace: 'shop' },
        data: { 'ca.crt': b64(pki.otherCa) },
      });
      const env = { MYSQL_PWD: 'x509-pw', KUBECONFIG: kube.kubeconfig };
      const store = join(dir, 'store');
      const url = (database: string) => `${db.url(database, 'x509')}?ssl-mode=VERIFY_IDENTITY`;

      // MariaDB answers a plain connection to a TLS-only server with ERROR 1045, as for a wrong password.
      const plain = await runCli(['backup', 'mysql', '--url', db.url('shop'), '--to', store], {
        env: { MYSQL_PWD: db.password },
      });
      expectOneLineUsageError(
        plain,
        /access denied for backup@.*from MariaDB, when the server accepts only TLS \(add \?ssl-mode=REQUIRED\)/,
      );
      // A CA that did not sign the server's certificate: refused, nothing stored.
      const wrongCa = await runCli(
        ['backup', 'mysql', '--url', url('shop'), '--to', store, '--tls-secret', 'shop/other-ca'],
        { env },
      );
      expectOneLineUsageError(wrongCa, /the TLS certificate of x509@127\.0\.0\.1:\d+ is not signed by the CA given/);

      const b = await runCli(
        ['--json', 'backup', 'mysql', '--url', url('shop'), '--to', store, '--tls-secret', 'shop/db-tls'],
        { env, timeoutMs: 240_000 },
      );
      expect(b.code, b.stderr).toBe(0);
      const backup = json<{ location: string; tables: { table: string; rows: number }[] }>(b);
      expect(backup.tables).toEqual([expect.objectContaining({ table: 't', rows: 2 })]);
      expect(manifestOf(b).dumpTool.flavor).toBe('mariadb');

      const r = await runCli(
        ['--json', 'restore', 'mysql', backup.location, '--url', url('shop_copy'), '--tls-secret', 'shop/db-tls'],
        { env, timeoutMs: 240_000 },
      );
      expect(r.code, r.stderr + r.stdout).toBe(0);
      expect(await db.sql('SELECT id, v FROM shop_copy.t ORDER BY id')).toEqual(
        await db.sql('SELECT id, v FROM shop.t ORDER BY id'),
      );
      expect(json<{ mysql: unknown[] }>(await runCli(['--json', 'backup', 'list', '--to', store])).mysql).toHaveLength(
        1,
      );
    } finally {
      await kube.close();
    }
  }, 900_000);
});
