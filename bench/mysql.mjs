#!/usr/bin/env node
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
// Benchmark of `lifeboat backup mysql` (issue #8). Not a timed test: run it by hand, it records docs/BENCHMARKS.md.
//
//   npm run build && node bench/mysql.mjs [--engine mariadb|mysql] [--runs N] [--rows N]
//
// One real server of the engine (MariaDB: Debian's mariadbd; MySQL 9: the root scripts/mysql-root.sh builds, or the
// programs $LIFEBOAT_MYSQLD/$LIFEBOAT_MYSQLDUMP name), started on a temp datadir like the tests do, holding a >= 200 MB
// database:
// `orders` (1,000,000 rows of ids, hashes, decimals, dates, free text) and `blobs` (20,000 x 1 KiB random bytes).
// Two commands, alternated, each run N times over TCP on 127.0.0.1 with the same user and the same dump flags:
//   baseline  the engine's own dump tool (mariadb-dump / mysqldump) --single-transaction --quick --routines --triggers --events --hex-blob ... | gzip > FILE
//   lifeboat  node bin/lifeboat.js backup mysql --url mysql://bench@127.0.0.1:PORT/bench --to DIR
//             (the same dump, parsed for row counts and checksums, gzip on every core, atomic commit, manifest)
// Wall time of each whole command (process start to exit); medians; the goal is lifeboat <= 1.1 x baseline.
import { recordSection } from './record.mjs';

const root = resolve(import.meta.dirname, '..');
const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const RUNS = arg('--runs', 5);
const ENGINE = process.argv.includes('--engine') ? process.argv[process.argv.indexOf('--engine') + 1] : 'mariadb';
if (!['mariadb', 'mysql'].includes(ENGINE)) {
  console.error('--engine mariadb|mysql');
  process.exit(2);
}
// MySQL: the test root's wrappers unless the environment names other programs.
if (ENGINE === 'mysql' && !process.env.LIFEBOAT_MYSQLD) {
  const built = spawnSync('bash', [join(resolve(import.meta.dirname, '..'), 'scripts/mysql-root.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (built.status !== 0) process.exit(1);
  const bin = join(built.stdout.trim(), 'lifeboat-bin');
  Object.assign(process.env, {
    LIFEBOAT_MYSQLD: join(bin, 'mysqld'),
    LIFEBOAT_MYSQLDUMP: join(bin, 'mysqldump'),
    LIFEBOAT_MYSQL: join(bin, 'mysql'),
  });
}
const ROWS = arg('--rows', 1_000_000);
const GOAL = 1.1;
const PASSWORD = 'bench-pw';

if (!existsSync(join(root, 'dist/bundle/lifeboat.cjs'))) {
  console.error('dist/bundle/ is missing: run `npm run build` first');
  process.exit(2);
}
const { Scratch } = await import(join(root, 'dist/adapters/verify/scratch.js'));
const { startScratchServer } = await import(join(root, 'dist/adapters/mysql/scratch-server.js'));
const { findProgram, programPaths } = await import(join(root, 'dist/adapters/mysql/programs.js'));
const { dumpArgs, DUMP_PROGRAM, CLIENT_PROGRAM } = await import(join(root, 'dist/domain/mysql/tools.js'));
const client = findProgram(CLIENT_PROGRAM[ENGINE], programPaths());

const dir = mkdtempSync(join(os.tmpdir(), 'lifeboat-bench-mysql-'));
const scratch = new Scratch(dir);
const load = () => os.loadavg()[0].toFixed(2);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function mariadb(server, sql) {
  const r = spawnSync(client.path, ['--no-defaults', `--socket=${server.socket}`, '-uroot', '-N', '-e', sql], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`${client.command}: ${r.stderr}`);
  return r.stdout.trim();
}

/** MySQL 9 has no MD5() or SHA1() any more: hex digests of the same lengths from SHA2. */
const md5 = (x) => (ENGINE === 'mysql' ? `LEFT(SHA2(${x}, 256), 32)` : `MD5(${x})`);
const sha1 = (x) => (ENGINE === 'mysql' ? `LEFT(SHA2(${x}, 256), 40)` : `SHA1(${x})`);

/** 1..n as a row source: MariaDB's sequence engine, MySQL's recursive CTE. */
const numbers = (n) =>
  ENGINE === 'mariadb'
    ? { with: '', from: `seq_1_to_${n}` }
    : { with: `WITH RECURSIVE s (seq) AS (SELECT 1 UNION ALL SELECT seq + 1 FROM s WHERE seq < ${n})`, from: 's' };

/** Wall time, plus CPU time (user + sys) of the command and every child it waited for, via GNU time. */
function timed(command, args, env = {}) {
  const stats = join(dir, 'time.txt');
  const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S', '-o', stats, command, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  const [seconds, user, sys] = readFileSync(stats, 'utf8').trim().split('\n').at(-1).split(' ').map(Number);
  return { seconds, cpu: user + sys, stdout: r.stdout };
}

let server;
try {
  const loadBefore = load();
  server = await startScratchServer(scratch, { flavor: ENGINE, paths: programPaths() });
  console.error(`scratch ${ENGINE} ${server.server.raw} on 127.0.0.1:${server.port}; seeding ${ROWS} rows...`);
  const seedStarted = Date.now();
  const rows = numbers(ROWS);
  const blobs = numbers(Math.round(ROWS / 50));
  mariadb(
    server,
    `${ENGINE === 'mysql' ? `SET SESSION cte_max_recursion_depth = ${ROWS + 1};` : ''} CREATE DATABASE bench; USE bench;
     CREATE USER 'bench'@'127.0.0.1' IDENTIFIED BY '${PASSWORD}'; GRANT ALL ON *.* TO 'bench'@'127.0.0.1';
     CREATE TABLE orders (id BIGINT PRIMARY KEY, customer CHAR(32) NOT NULL, amount DECIMAL(12,2), created DATETIME,
       status VARCHAR(16), note TEXT) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
     INSERT INTO orders ${rows.with} SELECT seq, ${md5('seq')}, (seq % 100000) / 100, '2020-01-01' + INTERVAL (seq % 1000000) MINUTE,
       ELT(1 + seq % 4, 'new', 'paid', 'shipped', 'returned'),
       CONCAT('Order ', seq, ' for ', ${sha1('seq')}, ' ', REPEAT(SUBSTR(${md5('seq * 7')}, 1, 1 + seq % 30), 1 + seq % 5),
              ' delivered to ', SHA2(seq, 256))
       FROM ${rows.from};
     CREATE TABLE blobs (id INT PRIMARY KEY, data MEDIUMBLOB) ENGINE=InnoDB;
     INSERT INTO blobs ${blobs.with} SELECT seq, RANDOM_BYTES(1024) FROM ${blobs.from};
     ANALYZE TABLE orders, blobs;`,
  );
  const bytes = Number(
    mariadb(
      server,
      "SELECT SUM(DATA_LENGTH + INDEX_LENGTH) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'bench'",
    ),
  );
  const mib = (n) => (n / 1048576).toFixed(0);
  console.error(`seeded in ${((Date.now() - seedStarted) / 1000).toFixed(0)} s: ${mib(bytes)} MiB (data + indexes)`);

  const tool = findProgram(DUMP_PROGRAM[ENGINE], programPaths());
  const cnf = join(dir, 'bench.cnf');
  writeFileSync(cnf, `[client]\nuser=bench\npassword="${PASSWORD}"\nhost=127.0.0.1\nport=${server.port}\n`, {
    mode: 0o600,
  });
  const flags = dumpArgs(tool, { defaultsFile: cnf }, ['bench'])
    .map((a) => `'${a}'`)
    .join(' ');
  const baselineFile = join(dir, 'baseline.sql.gz');
  const baselineCmd = `${tool.path} ${flags} | gzip > ${baselineFile}`;
  const store = join(dir, 'store');
  mkdirSync(store);
  const results = { baseline: [], lifeboat: [] };
  const cpu = { baseline: [], lifeboat: [] };
  let sizes = {};
  const backupOnce = () =>
    timed(
      process.execPath,
      [
        join(root, 'bin/lifeboat.js'),
        '--json',
        'backup',
        'mysql',
        '--url',
        `mysql://bench@127.0.0.1:${server.port}/bench`,
        '--to',
        store,
      ],
      { MYSQL_PWD: PASSWORD },
    );
  for (let run = 0; run < RUNS; run++) {
    const b = timed('bash', ['-c', `set -o pipefail; ${baselineCmd}`]);
    results.baseline.push(b.seconds);
    cpu.baseline.push(b.cpu);
    const l = backupOnce();
    results.lifeboat.push(l.seconds);
    cpu.lifeboat.push(l.cpu);
    const doc = JSON.parse(l.stdout);
    sizes = { baseline: statSync(baselineFile).size, lifeboat: doc.size, sql: doc.plaintextSize, rows: doc.rows };
    rmSync(doc.location);
    rmSync(`${doc.location}.manifest.json`);
    console.error(
      `run ${run + 1}/${RUNS}: baseline ${b.seconds.toFixed(2)} s (cpu ${b.cpu.toFixed(1)} s), lifeboat ${l.seconds.toFixed(2)} s (cpu ${l.cpu.toFixed(1)} s), load ${load()}`,
    );
  }
  // One restore drill of the same database, for the record (not part of the goal).
  const last = backupOnce();
  const verify = timed(process.execPath, [
    join(root, 'bin/lifeboat.js'),
    '--json',
    'verify',
    'mysql',
    JSON.parse(last.stdout).location,
    '--scratch-dir',
    dir,
  ]);
  const drill = JSON.parse(verify.stdout);
  const loadAfter = load();

  const mb = median(results.baseline);
  const ml = median(results.lifeboat);
  const ratio = ml / mb;
  const model = os.cpus()[0]?.model ?? 'unknown CPU';
  const cb = median(cpu.baseline);
  const cl = median(cpu.lifeboat);
  const today = new Date().toISOString().slice(0, 10);
  const engineName = ENGINE === 'mysql' ? 'MySQL' : 'MariaDB';
  const section = `## mysql${ENGINE === 'mysql' ? ' on MySQL' : ''}

\`lifeboat backup mysql\` vs plain \`${tool.command} | gzip\` on the same database; medians of ${RUNS} alternating runs each.
Machine: ${model}, ${os.cpus().length} cores, Node ${process.version}, ${os.type().toLowerCase()} ${os.release()}; ${engineName}
${server.server.raw} (scratch server on a temp datadir, TCP on 127.0.0.1); recorded ${today}
(1-minute load average ${loadBefore} before, ${loadAfter} after: other work on the machine inflates the figures).

Database: ${mib(bytes)} MiB of InnoDB data and indexes (\`orders\`: ${ROWS.toLocaleString('en-US')} rows; \`blobs\`:
${Math.round(ROWS / 50).toLocaleString('en-US')} x 1 KiB random bytes); ${mib(sizes.sql)} MiB of SQL, ${sizes.rows.toLocaleString('en-US')} rows.

| command | median wall | runs (s) | median CPU (user+sys) | output |
|---|---|---|---|---|
| \`${tool.command} ... \\| gzip\` (baseline) | ${mb.toFixed(2)} s | ${results.baseline.map((s) => s.toFixed(2)).join(', ')} | ${cb.toFixed(1)} s | ${mib(sizes.baseline)} MiB |
| \`lifeboat backup mysql\` | ${ml.toFixed(2)} s | ${results.lifeboat.map((s) => s.toFixed(2)).join(', ')} | ${cl.toFixed(1)} s | ${mib(sizes.lifeboat)} MiB |

Ratio lifeboat / baseline: **${ratio.toFixed(2)}x** (goal <= ${GOAL}x: ${ratio <= GOAL ? 'met' : 'missed'}).
CPU ratio (user+sys, less sensitive to the machine's load than wall time): ${(cl / cb).toFixed(2)}x.
For the record, \`lifeboat verify mysql\` of the same dump (scratch server, load, re-dump, compare): ${drill.seconds.toFixed(1)} s, ${drill.ok ? 'ok' : 'FAILED'}.

- Both run the same dump tool with the same flags (\`${tool.command} --single-transaction --quick --routines --triggers
  --events --hex-blob --default-character-set=utf8mb4 --max-allowed-packet=1G ...\`), the same user over TCP, gzip level 6.
- Lifeboat additionally parses every byte of the dump (per-table row counts and checksums, ADR 005), hashes the
  stored bytes (SHA-256), writes through a temp file with fsync + rename, and writes the manifest. It compresses in
  1 MiB gzip members on libuv's thread pool (pigz-style, still one ordinary .gz file), where the baseline's gzip uses
  one core: that is what pays for the parsing.
- CPU is the command and its children (dump tool, gzip); the server's own CPU (the same for both) is not in it.
- Wall times include Node start-up and the mysql2 pre-flight (login, version, database list) of lifeboat.

Reproduce: \`npm run build && node bench/mysql.mjs --engine ${ENGINE}\` (\`--runs N\`, \`--rows N\` to change the size).
`;
  recordSection(root, ENGINE === 'mysql' ? 'mysql on MySQL' : 'mysql', section);
  console.log(section);
} finally {
  await server?.stop().catch(() => undefined);
  await scratch.cleanup();
  rmSync(dir, { recursive: true, force: true });
}
