import { describe, expect, it } from 'vitest';
import { checkStoredDump, compareCounts, compareRestore } from '../../../src/domain/mysql/compare.js';
import type { DumpSummary } from '../../../src/domain/mysql/dump-parser.js';
import { explainMysqlError, explainToolFailure, StderrKeeper } from '../../../src/domain/mysql/errors.js';
import { dumpName, newestDump, parseDumpName, parseMysqlManifest } from '../../../src/domain/mysql/manifest.js';
import { DatabaseRenamer } from '../../../src/domain/mysql/rename.js';
import {
  type ClientTool,
  chooseTool,
  consistencyWarnings,
  defaultsFileText,
  dumpArgs,
  loadArgs,
  parseHelpOptions,
  parseToolVersion,
  scratchMismatch,
  serverInfo,
  versionWarning,
} from '../../../src/domain/mysql/tools.js';
import { parseMysqlUrl, userDatabases } from '../../../src/domain/mysql/url.js';

describe('parseMysqlUrl', () => {
  it('reads TLS as MySQL spells it (ssl-mode, ssl-ca, ssl-cert, ssl-key) and writes it to the option file per engine', () => {
    const parsed = parseMysqlUrl(
      'mysql://b@db/shop?ssl-mode=verify_identity&ssl-ca=/ca.pem&ssl-cert=/c.pem&ssl-key=/k.pem',
    );
    expect(parsed).toMatchObject({
      target: {
        tls: { mode: 'VERIFY_IDENTITY', ca: '/ca.pem', cert: '/c.pem', key: '/k.pem' },
        display: 'mysql://b@db:3306/shop?ssl-mode=verify_identity&ssl-ca=/ca.pem&ssl-cert=/c.pem&ssl-key=/k.pem',
      },
    });
    expect(parseMysqlUrl('mysql://b@db?ssl-ca=/ca.pem')).toMatchObject({ target: { tls: { mode: 'VERIFY_CA' } } });
    expect(parseMysqlUrl('mysql://b@db?ssl-mode=sometimes')).toMatchObject({
      error: expect.stringMatching(/not one of/),
    });
    expect(parseMysqlUrl('mysql://b@db?ssl-mode=VERIFY_CA')).toMatchObject({
      error: expect.stringMatching(/needs ssl-ca/),
    });
    expect(parseMysqlUrl('mysql://b@db?ssl-cert=/c.pem')).toMatchObject({ error: expect.stringMatching(/together/) });
    const tls = { mode: 'VERIFY_CA' as const, ca: '/ca.pem' };
    expect(defaultsFileText({ user: 'b', host: 'db', tls, flavor: 'mysql' })).toBe(
      '[client]\nuser="b"\nssl-mode=VERIFY_CA\nssl-ca="/ca.pem"\nhost="db"\n',
    );
    expect(defaultsFileText({ user: 'b', host: 'db', tls, flavor: 'mariadb' })).toBe(
      '[client]\nuser="b"\nssl\nssl-verify-server-cert\nssl-ca="/ca.pem"\nhost="db"\n',
    );
  });

  it('reads user, host, port, database and socket, and never a password', () => {
    expect(parseMysqlUrl('mysql://backup@10.0.0.20:3307/shop')).toEqual({
      target: {
        user: 'backup',
        host: '10.0.0.20',
        port: 3307,
        database: 'shop',
        display: 'mysql://backup@10.0.0.20:3307/shop',
      },
    });
    expect(parseMysqlUrl('mariadb://root@db')).toMatchObject({ target: { host: 'db', port: 3306 } });
    expect(parseMysqlUrl('mysql://root@localhost/x?socket=/run/mysqld/mysqld.sock')).toMatchObject({
      target: { socket: '/run/mysqld/mysqld.sock', display: 'mysql://root@localhost/x?socket=/run/mysqld/mysqld.sock' },
    });
    expect(parseMysqlUrl('mysql://u%40x@[::1]:3306')).toMatchObject({ target: { user: 'u@x', host: '::1' } });
    expect(parseMysqlUrl('mysql://root:hunter2@db/shop')).toMatchObject({
      error: expect.stringMatching(/refusing a password/),
    });
    for (const bad of ['db:3306', 'postgres://u@h/db', 'mysql://h/db', 'mysql://u@h/a/b', 'mysql://u@h?ssl=1']) {
      expect(parseMysqlUrl(bad), bad).toHaveProperty('error');
    }
  });

  it("all user databases leave the server's own schemas out", () => {
    expect(userDatabases(['mysql', 'shop', 'information_schema', 'performance_schema', 'sys', 'blog'])).toEqual([
      'blog',
      'shop',
    ]);
  });
});

const tool = (over: Partial<ClientTool>): ClientTool => ({
  path: '/usr/bin/mariadb-dump',
  command: 'mariadb-dump',
  flavor: 'mariadb',
  version: '10.11.19',
  options: new Set(),
  ...over,
});

describe('client tools and flags', () => {
  it('tells the vendors and versions apart', () => {
    expect(parseToolVersion('mariadb-dump  Ver 10.19 Distrib 10.11.19-MariaDB, for debian-linux-gnu (x86_64)')).toEqual(
      {
        flavor: 'mariadb',
        version: '10.11.19',
      },
    );
    expect(parseToolVersion('mysqldump  Ver 8.0.36 for Linux on x86_64 (MySQL Community Server - GPL)')).toEqual({
      flavor: 'mysql',
      version: '8.0.36',
    });
    expect(parseToolVersion('mysqldump  Ver 10.13 Distrib 5.7.44, for Linux (x86_64)')).toEqual({
      flavor: 'mysql',
      version: '5.7.44',
    });
    expect(serverInfo('5.5.5-10.6.12-MariaDB-log')).toMatchObject({ flavor: 'mariadb', version: '10.6.12' });
    expect(serverInfo('8.0.36', 'MySQL Community Server - GPL')).toMatchObject({ flavor: 'mysql', version: '8.0.36' });
  });

  it('passes --column-statistics=0 and friends only to a tool that has them', () => {
    const help =
      '  -y, --no-tablespaces \n  --column-statistics  Add ...\n  --set-gtid-purged[=name]\n  --binary-mode\n';
    const mysql8 = tool({ command: 'mysqldump', flavor: 'mysql', version: '8.0.36', options: parseHelpOptions(help) });
    const args = dumpArgs(mysql8, { defaultsFile: '/tmp/x/client.cnf' }, ['shop']);
    expect(args[0]).toBe('--defaults-extra-file=/tmp/x/client.cnf');
    expect(args).toEqual(
      expect.arrayContaining(['--column-statistics=0', '--no-tablespaces', '--set-gtid-purged=OFF', '--protocol=TCP']),
    );
    expect(args.slice(-2)).toEqual(['--databases', 'shop']);
    for (const f of ['--single-transaction', '--quick', '--routines', '--triggers', '--events', '--hex-blob'])
      expect(args).toContain(f);
    const maria = dumpArgs(tool({}), { defaultsFile: 'f', socket: '/s' }, ['a', 'b']);
    expect(maria.some((a) => a.startsWith('--column-statistics'))).toBe(false);
    expect(maria).toContain('--protocol=SOCKET');
    expect(loadArgs(tool({ options: new Set(['binary-mode']) }), { defaultsFile: 'f' })).toContain('--binary-mode');
  });

  it("dumps with the server engine's own tool and refuses mariadb-dump for MySQL unless forced", () => {
    const maria = tool({});
    const mysql = tool({ command: 'mysqldump', flavor: 'mysql', version: '8.0.36' });
    expect(chooseTool(serverInfo('8.0.36'), [maria, mysql])).toEqual({ tool: mysql, warnings: [] });
    expect(chooseTool(serverInfo('8.0.36'), [maria])).toEqual({
      refused: expect.stringMatching(/refusing to dump MySQL 8\.0\.36 with mariadb-dump.*MySQL cannot load/),
      hint: expect.stringMatching(/LIFEBOAT_MYSQLDUMP.*--allow-other-dump-tool/),
    });
    const forced = chooseTool(serverInfo('8.0.36'), [maria], { allowOther: true });
    expect(forced && 'tool' in forced && forced.warnings[0]).toMatch(/MySQL's mysqldump would be the faithful choice/);
    const older = chooseTool(serverInfo('9.7.4'), [mysql]);
    expect(older && 'tool' in older && older.warnings[0]).toMatch(/older than the server/);
    const mariaWithMysqldump = chooseTool(serverInfo('10.11.2-MariaDB'), [mysql]);
    expect(mariaWithMysqldump && 'tool' in mariaWithMysqldump && mariaWithMysqldump.warnings[0]).toMatch(
      /mariadb-dump would be the faithful choice/,
    );
    expect(chooseTool(serverInfo('10.11.2-MariaDB'), [])).toBeUndefined();
  });

  it('accepts a scratch server for a drill only of the same engine and major version', () => {
    expect(scratchMismatch(serverInfo('9.7.4'), { flavor: 'mysql', version: '9.1.0' })).toBeUndefined();
    expect(scratchMismatch(serverInfo('8.0.36'), { flavor: 'mysql', version: '9.7.4' })).toMatch(
      /MySQL 8\.0\.36 .* MySQL 9\.7\.4: a drill proves a restore only in the same engine and major version/,
    );
    expect(scratchMismatch(serverInfo('9.7.4'), serverInfo('10.11.6-MariaDB'))).toMatch(/MariaDB 10\.11\.6/);
    expect(scratchMismatch(serverInfo('10.11.6-MariaDB'), serverInfo('10.6.1-MariaDB'))).toBeUndefined();
  });

  it('writes option files whose values survive quotes, #, spaces and backslashes', () => {
    expect(defaultsFileText({ user: 'backup', password: `p"a#ss w'o\\rd`, host: 'db', port: 3306 })).toBe(
      '[client]\nuser="backup"\npassword="p\\"a#ss w\'o\\\\rd"\nhost="db"\nport=3306\n',
    );
    expect(defaultsFileText({ user: 'root', socket: '/s' })).toBe('[client]\nuser="root"\nsocket="/s"\n');
  });

  it('warns about a vendor or major.minor mismatch between source and scratch', () => {
    const scratch = serverInfo('10.11.19-MariaDB');
    expect(versionWarning(serverInfo('10.11.6-MariaDB'), scratch)).toBeUndefined();
    expect(versionWarning(serverInfo('10.6.12-MariaDB'), scratch)).toMatch(/MariaDB 10\.6\.12.*MariaDB 10\.11\.19/);
    expect(versionWarning(serverInfo('8.0.36'), scratch)).toMatch(/MySQL 8\.0\.36/);
  });
});

describe('errors', () => {
  it('bad input is exit 2, a failed run exit 1, one line each', () => {
    const w = 'backup@db:3306';
    expect(explainMysqlError({ code: 'ER_ACCESS_DENIED_ERROR' }, w)).toMatchObject({ exitCode: 2 });
    // mysql2 reports every failed handshake as HANDSHAKE_SSL_ERROR with Node's own message.
    const tls = (message: string) => explainMysqlError({ code: 'HANDSHAKE_SSL_ERROR', message }, w);
    expect(tls('self-signed certificate in certificate chain')).toEqual({
      message: `the TLS certificate of ${w} is not signed by the CA given (self-signed certificate in certificate chain)`,
      hint: "ssl-ca, tls.ca or the Secret's ca.crt must be the CA that signed the server's certificate",
      exitCode: 2,
    });
    expect(tls('unable to verify the first certificate').message).toMatch(/not signed by the CA given/);
    expect(
      tls("Hostname/IP does not match certificate's altnames: IP: 10.0.0.20 is not in the cert's list: 127.0.0.1"),
    ).toMatchObject({ message: expect.stringMatching(/is not for that host \(Hostname/), exitCode: 2 });
    expect(tls('certificate has expired')).toEqual({
      message: `TLS with ${w} failed: certificate has expired`,
      exitCode: 2,
    });
    expect(explainMysqlError({ code: 'HANDSHAKE_NO_SSL_SUPPORT' }, w).message).toBe(
      `${w} offers no TLS, but TLS was asked for`,
    );
    expect(explainMysqlError({ code: 'ER_BAD_DB_ERROR' }, w, 'x')).toMatchObject({
      exitCode: 2,
      message: 'unknown database "x" on backup@db:3306',
    });
    expect(explainMysqlError({ code: 'ENOTFOUND' }, w)).toMatchObject({ exitCode: 2 });
    expect(explainMysqlError({ code: 'ECONNREFUSED' }, w)).toMatchObject({ exitCode: 1 });
    expect(explainMysqlError({ code: 'ETIMEDOUT' }, w)).toMatchObject({ exitCode: 1 });
    const denied = explainToolFailure(
      'mariadb-dump',
      2,
      null,
      "mariadb-dump: Couldn't execute 'SHOW EVENTS': Access denied for user\n",
    );
    expect(denied).toMatchObject({
      exitCode: 2,
      message: "mariadb-dump exited 2: Couldn't execute 'SHOW EVENTS': Access denied for user",
    });
    expect(explainToolFailure('mariadb', 1, null, 'ERROR 1064 (42000) at line 3: syntax\n').exitCode).toBe(1);
    expect(explainToolFailure('mariadb-dump', null, 'SIGKILL', '').message).toBe('mariadb-dump was killed (SIGKILL)');
  });
});

const summary = (over: Partial<DumpSummary>): DumpSummary => ({
  databases: ['shop'],
  tables: [
    { database: 'shop', table: 'a', rows: 2, checksum: '1' },
    { database: 'shop', table: 'b', rows: 0, checksum: '0' },
  ],
  views: ['shop.v'],
  triggers: [],
  routines: ['shop.p (procedure)'],
  events: [],
  complete: true,
  bytes: 10,
  rows: 2,
  ...over,
});

describe('comparisons', () => {
  it('a restore must hold every table with the same rows and checksum, and every object', () => {
    const expected = summary({});
    expect(compareRestore(expected, summary({})).problems).toEqual([]);
    const restored = summary({
      tables: [
        { database: 'shop', table: 'a', rows: 2, checksum: '2' },
        { database: 'shop', table: 'extra', rows: 1, checksum: '9' },
      ],
      views: [],
    });
    const c = compareRestore(expected, restored);
    expect(c.problems).toEqual([
      'shop.a: 2 rows restored but their contents differ (checksum)',
      'shop.b: missing after the restore',
      'shop.extra: restored but not in the dump',
      'view shop.v: missing after the restore',
    ]);
    expect(c.tables.map((t) => t.ok)).toEqual([false, false]);
    expect(checkStoredDump(summary({ complete: false }), undefined)[0]).toMatch(/cut short/);
    expect(
      checkStoredDump(summary({}), summary({ tables: [{ database: 'shop', table: 'a', rows: 3, checksum: '1' }] })),
    ).toEqual(['shop.a: the dump file holds 2 rows, the manifest recorded 3']);
    expect(compareCounts(expected.tables, new Map([['shop.a', 2]]))).toEqual(['shop.b: missing after the restore']);
  });
});

describe('names and manifests', () => {
  it('dump names sort by time and say what they are', () => {
    const a = dumpName(Date.UTC(2026, 10, 27, 15, 9, 5, 123), 'shop db', false);
    const b = dumpName(Date.UTC(2026, 10, 28, 1, 0, 0, 0), 'shop db', true);
    expect(a).toBe('mysql/2026-11-27T150905.123Z-shop-db.sql.gz');
    expect(parseDumpName(b)).toEqual({ stamp: '2026-11-28T010000.000Z', source: 'shop-db', encrypted: true });
    expect(newestDump([b, a, `${a}.manifest.json`, 'etcd/x.db'])).toBe(b);
    expect(newestDump([a, b], 'other')).toBeUndefined();
    expect(parseMysqlManifest('{"format":"nope"}')).toHaveProperty('error');
  });
});

describe('DatabaseRenamer', () => {
  it('renames only the statements that name the database, across chunk boundaries', () => {
    const text = [
      'CREATE DATABASE /*!32312 IF NOT EXISTS*/ `shop` /*!40100 DEFAULT CHARACTER SET utf8mb4 */;',
      'USE `shop`;',
      "INSERT INTO `t` VALUES (1,'USE `shop`;');",
      '/*!50003 ALTER DATABASE `shop` CHARACTER SET latin1 */ ;',
      '',
    ].join('\n');
    const bytes = Buffer.from(text);
    for (const step of [1, 3, 17, bytes.length]) {
      const r = new DatabaseRenamer('shop', 'shop_copy');
      const out: Buffer[] = [];
      for (let i = 0; i < bytes.length; i += step) out.push(r.push(bytes.subarray(i, i + step)));
      out.push(r.flush());
      expect(Buffer.concat(out).toString()).toBe(
        text
          .replace('`shop` /*!40100', '`shop_copy` /*!40100')
          .replace('USE `shop`;\n', 'USE `shop_copy`;\n')
          .replace('ALTER DATABASE `shop`', 'ALTER DATABASE `shop_copy`'),
      );
    }
  });
});

describe('consistencyWarnings', () => {
  it('names the tables --single-transaction cannot freeze', () => {
    expect(consistencyWarnings([])).toEqual([]);
    expect(consistencyWarnings(['shop.log (MyISAM)'])[0]).toMatch(/^not transactional.*shop\.log \(MyISAM\)/);
    expect(consistencyWarnings(Array.from({ length: 7 }, (_, i) => `d.t${i} (Aria)`))[0]).toMatch(/and 2 more/);
  });
});

describe('tool stderr', () => {
  it('keeps the head and the tail, so an error after megabytes of echoed SQL is not lost', () => {
    const kept = new StderrKeeper(100);
    kept.push('first line\n');
    for (let i = 0; i < 1000; i++) kept.push(`INSERT INTO t VALUES (${i});\n`);
    kept.push('ERROR 3105 (HY000) at line 45: The value specified for generated column is not allowed.\n');
    expect(kept.text()).toMatch(/^first line\n/);
    expect(kept.text()).toMatch(/\[\.\.\.\][\s\S]*ERROR 3105 \(HY000\) at line 45/);
    const small = new StderrKeeper(100);
    small.push('a\n');
    small.push('b\n');
    expect(small.text()).toBe('a\nb\n');
  });

  // MySQL 9.7's mysqldump, for a user without SELECT on performance_schema (it goes on and exits 0).
  const MASKING =
    "mysqldump: Error: 'SELECT command denied to user 'b'@'127.0.0.1' for table 'column_masking_policy'' when trying to dump masking policies";

  it("picks the line with the server's error code and ignores harmless warnings", () => {
    const stderr = [
      'mysql: [Warning] Using a password on the command line interface can be insecure.',
      "ERROR 3105 (HY000) at line 45: The value specified for generated column 'vat' in table 'products' is not allowed.",
      MASKING,
    ].join('\n');
    expect(explainToolFailure('mysql', 1, null, stderr).message).toBe(
      "mysql exited 1: ERROR 3105 (HY000) at line 45: The value specified for generated column 'vat' in table 'products' is not allowed.",
    );
    const dump =
      "mysqldump: Got error: 1044: \"Access denied for user 'b'@'%' to database 'shop'\" when selecting the database";
    expect(explainToolFailure('mysqldump', 2, null, `${MASKING}\n${dump}\n`)).toMatchObject({
      message: expect.stringMatching(/^mysqldump exited 2: Got error: 1044/),
      exitCode: 2,
      hint: expect.stringMatching(/SHOW_ROUTINE/),
    });
    const view =
      "mysqldump: Couldn't execute 'SHOW FIELDS FROM `broken`': View 'wp.broken' references invalid table(s) or column(s) or function(s) or definer/invoker of view lack rights to use them (1356)";
    expect(
      explainToolFailure('mysqldump', 2, null, `${MASKING}\nmysqldump: failed to dump wp\n${view}\n`).message,
    ).toBe(`mysqldump exited 2: ${view.slice('mysqldump: '.length)}`);
  });
});
