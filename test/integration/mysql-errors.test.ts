import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../src/adapters/config-file.js';
import { findProcesses } from '../../src/adapters/proc/find.js';
import { freePort } from '../../src/adapters/proc/ports.js';
import { mysqlBackupJobs } from '../../src/app/backup/mysql.js';
import { type CliResult, json, runCli } from '../helpers/cli.js';
import { startKubeApi } from '../helpers/kube-api.js';
import { startTestMariadb, type TestMariadb } from '../helpers/mariadb.js';

/**
 * Bad input and failures: one line on stderr, exit 2 for what the user can fix (credentials, names, privileges,
 * flags), exit 1 when the run failed, and never a file under a backup's name that is not a whole dump.
 */
describe('lifeboat backup/verify/restore mysql: bad input and failures', () => {
  let db: TestMariadb;
  let dir: string;
  let n = 0;
  const store = () => join(dir, `store-${++n}`);
  const pwd = () => ({ MYSQL_PWD: db.password });

  beforeAll(async () => {
    db = await startTestMariadb();
    dir = mkdtempSync(join(tmpdir(), 'lifeboat-mysql-errors-'));
    await db.sql(`
      CREATE DATABASE shop;
      CREATE TABLE shop.t (id INT PRIMARY KEY, v TEXT);
      INSERT INTO shop.t VALUES (1, 'one'), (2, 'two');
      CREATE FUNCTION shop.f() RETURNS INT DETERMINISTIC RETURN 1;
      CREATE USER 'limited'@'127.0.0.1' IDENTIFIED BY 'limited';
      GRANT SELECT ON shop.* TO 'limited'@'127.0.0.1';`);
  });

  afterAll(async () => {
    await db?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** One line on stderr, the expected exit code, and nothing at all in the store. */
  function refused(r: CliResult, code: number, pattern: RegExp, where?: string) {
    expect(r.code, r.stderr).toBe(code);
    const lines = r.stderr.trim().split('\n');
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(pattern);
    expect(r.stderr).not.toContain(db.password);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    if (where && existsSync(join(where, 'mysql'))) expect(readdirSync(join(where, 'mysql'))).toEqual([]);
  }

  it('wrong password: exit 2, nothing stored', async () => {
    const to = store();
    const r = await runCli(['backup', 'mysql', '--url', db.url('shop'), '--to', to], { env: { MYSQL_PWD: 'nope' } });
    refused(r, 2, /access denied for backup@127\.0\.0\.1:\d+: wrong user or password/, to);
  });

  it('unreachable host: exit 1; unknown database: exit 2; a password in the URL: exit 2', async () => {
    const port = await freePort();
    const to = store();
    refused(
      await runCli(['backup', 'mysql', '--url', `mysql://backup@127.0.0.1:${port}/shop`, '--to', to], { env: pwd() }),
      1,
      /connection refused/,
      to,
    );
    refused(
      await runCli(['backup', 'mysql', '--url', db.url('nosuchdb'), '--to', to], { env: pwd() }),
      2,
      /unknown database "nosuchdb"/,
      to,
    );
    refused(
      await runCli(['backup', 'mysql', '--url', `mysql://backup:secret@127.0.0.1:${port}/shop`, '--to', to]),
      2,
      /refusing a password in --url/,
    );
  });

  it('missing dump program: exit 1 naming what to install', async () => {
    const empty = join(dir, 'empty-bin');
    mkdirSync(empty, { recursive: true });
    const to = store();
    const r = await runCli(['backup', 'mysql', '--url', db.url('shop'), '--to', to], {
      env: { ...pwd(), PATH: empty },
    });
    refused(
      r,
      1,
      /no dump program: neither mariadb-dump nor mysqldump was found \(looked for \$LIFEBOAT_MYSQLDUMP, .*apt install mariadb-client/,
      to,
    );
  });

  it('missing privileges: exit 2 with the privileges a backup user needs', async () => {
    const to = store();
    const r = await runCli(['backup', 'mysql', '--url', db.url('shop', 'limited'), '--to', to], {
      env: { MYSQL_PWD: 'limited' },
    });
    refused(
      r,
      2,
      /the backup user limited@\S+ lacks SHOW VIEW \(views\) on shop; TRIGGER .*the dump would silently miss/,
      to,
    );
  });

  it('a dump that dies half-way, or ends without its end marker, is never committed', async () => {
    for (const [label, exit] of [
      ['dies', 2],
      ['truncated', 0],
    ] as const) {
      const bin = join(dir, `fake-${label}`);
      mkdirSync(bin, { recursive: true });
      writeFileSync(
        join(bin, 'mariadb-dump'),
        `#!/bin/sh
case "$1" in --version) echo 'mariadb-dump  Ver 10.19 Distrib 10.11.19-MariaDB, for debian-linux-gnu (x86_64)'; exit 0;; --no-defaults) exit 0;; esac
printf -- '-- MariaDB dump 10.19\\nCREATE DATABASE \`shop\`;\\nUSE \`shop\`;\\nINSERT INTO \`t\` VALUES\\n(1,2),\\n'
[ ${exit} -ne 0 ] && echo 'mariadb-dump: Error 2013: Lost connection to server during query when dumping table \`t\` at row: 1' >&2
exit ${exit}
`,
      );
      chmodSync(join(bin, 'mariadb-dump'), 0o755);
      const to = store();
      const r = await runCli(['backup', 'mysql', '--url', db.url('shop'), '--to', to], {
        env: { ...pwd(), PATH: bin },
      });
      refused(
        r,
        1,
        label === 'dies'
          ? /mariadb-dump exited 2: .*Lost connection.*nothing was stored/
          : /without its "-- Dump completed" line/,
        to,
      );
      // Not even a hidden temp file is left behind.
      expect(readdirSync(join(to, 'mysql'))).toEqual([]);
    }
  });

  it('verify refuses a cut-short dump (exit 1) and a missing file (exit 2), and leaves no server behind', async () => {
    const to = store();
    const b = await runCli(['--json', 'backup', 'mysql', '--url', db.url('shop'), '--to', to], { env: pwd() });
    expect(b.code, b.stderr).toBe(0);
    const { location } = json<{ location: string }>(b);
    const { gunzipSync, gzipSync } = await import('node:zlib');
    const sql = gunzipSync(readFileSync(location));
    const cut = join(dir, 'cut.sql.gz');
    writeFileSync(cut, gzipSync(sql.subarray(0, Math.floor(sql.length * 0.8))));
    const scratch = join(dir, 'scratch');
    mkdirSync(scratch);
    const v = await runCli(['--json', 'verify', 'mysql', cut, '--scratch-dir', scratch], { timeoutMs: 120_000 });
    expect(v.code, v.stderr).toBe(1);
    const outcome = json<{ ok: boolean; problems: string[]; warnings: string[] }>(v);
    expect(outcome.ok).toBe(false);
    expect(outcome.problems.join('\n')).toMatch(/cut short/);
    expect(outcome.warnings.join('\n')).toMatch(/no manifest/);
    // A stored file cut short (a partial upload): its manifest's size and hash disagree, and gzip says where.
    const torn = join(dir, 'torn');
    mkdirSync(join(torn, 'mysql'), { recursive: true });
    const tornName = join(torn, 'mysql', 'dump.sql.gz');
    const bytes = readFileSync(location);
    writeFileSync(tornName, bytes.subarray(0, bytes.length - 100));
    writeFileSync(`${tornName}.manifest.json`, readFileSync(`${location}.manifest.json`));
    const t = await runCli(['--json', 'verify', 'mysql', tornName, '--scratch-dir', scratch], { timeoutMs: 120_000 });
    expect(t.code, t.stderr).toBe(1);
    const problems = json<{ problems: string[] }>(t).problems.join('\n');
    expect(problems).toMatch(/not the one the manifest describes/);
    expect(problems).toMatch(/cut short \(unexpected end of file\)/);
    expect(findProcesses((a) => a.includes(scratch))).toEqual([]);
    expect(readdirSync(scratch)).toEqual([]);
    refused(
      await runCli(['verify', 'mysql', join(dir, 'nope.sql.gz')]),
      2,
      /cannot read .*nope\.sql\.gz: no such file/,
    );
    refused(await runCli(['restore', 'mysql', location]), 2, /--url/);
  }, 400_000);

  it('passwords from a file and from a Kubernetes Secret; configured databases run as scheduler jobs', async () => {
    const file = join(dir, 'password');
    writeFileSync(file, `${db.password}\n`, { mode: 0o600 });
    const to = store();
    const byFile = await runCli(['backup', 'mysql', '--url', db.url('shop'), '--to', to, '--password-file', file]);
    expect(byFile.code, byFile.stderr).toBe(0);

    const kube = await startKubeApi();
    try {
      const data = { password: Buffer.from(db.password).toString('base64') };
      kube.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'db' } });
      kube.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'shop-auth', namespace: 'db' }, data });
      const env = { KUBECONFIG: kube.kubeconfig, MYSQL_PWD: 'wrong, and the Secret wins' };
      const ok = await runCli(
        ['backup', 'mysql', '--url', db.url('shop'), '--to', to, '--password-secret', 'db/shop-auth/password'],
        { env },
      );
      expect(ok.code, ok.stderr).toBe(0);
      const noKey = await runCli(
        ['backup', 'mysql', '--url', db.url('shop'), '--to', to, '--password-secret', 'db/shop-auth/pw'],
        { env },
      );
      refused(noKey, 2, /secret db\/shop-auth has no key "pw" \(keys: password\)/);
      const noSecret = await runCli(
        ['backup', 'mysql', '--url', db.url('shop'), '--to', to, '--password-secret', 'db/other/pw'],
        { env },
      );
      refused(noSecret, 2, /no secret db\/other/);
    } finally {
      await kube.close();
    }

    const config = join(dir, 'lifeboat.yaml');
    writeFileSync(
      config,
      `backups: { to: [${to}] }\ndatabases:\n  - { name: shop-db, url: "${db.url('shop')}", passwordFile: ${file}, every: 6h }\n`,
    );
    const jobs = mysqlBackupJobs(loadConfigFile(config));
    expect(jobs.map((j) => [j.name, j.everyMs])).toEqual([['shop-db', 6 * 3600_000]]);
    const { manifest } = await jobs[0]!.run();
    expect(manifest.name).toMatch(/^mysql\/.*-shop-db\.sql\.gz$/);
    const byName = await runCli(['-c', config, 'backup', 'mysql', 'shop-db']);
    expect(byName.code, byName.stderr).toBe(0);
    expect(byName.stdout).toMatch(/shop-db\.sql\.gz: .* 1 table, 2 rows, 1 routine/);

    writeFileSync(config, 'databases:\n  - { name: x, url: "mysql://u:pw@h/db" }\n');
    refused(await runCli(['-c', config, 'backup', 'mysql']), 2, /lifeboat\.yaml:2:.*refusing a password/);
  }, 400_000);
});
