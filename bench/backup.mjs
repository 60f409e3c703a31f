#!/usr/bin/env node
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { join, resolve } from 'node:path';
// Benchmark of `lifeboat backup etcd` and `lifeboat verify` (issue #4) against etcd's own tools, side by side on one
// lab. Not a timed test: run it by hand; with --write it records the `## backup` section of docs/BENCHMARKS.md.
//
//   npm run build && node bench/backup.mjs [--mb 200,500] [--runs 5] [--write]
//
// 1. `lifeboat lab up` (3 real etcd members on free loopback ports), loaded with 100 KiB values up to each --mb size
//    in turn (the same lab grows; steps 2 and 3 run at every size).
// 2. backup: `lifeboat backup etcd --to DIR` vs `etcdctl snapshot save FILE` against the same follower, alternating,
//    --runs times each; wall medians and their ratio (goal <= 1.1x). Peak RSS of our process is read by a preload
//    hook from /proc/self/status VmHWM at exit (goal <= 100 MB); etcdctl's from /proc/PID/status VmHWM.
// 3. verify: `lifeboat verify FILE` (hash check, etcd's restore, throwaway member, revision/keys/HashKV compared,
//    stop, cleanup) vs the raw drill `etcdctl snapshot restore` + start `etcd` with the same flags until it leads
//    (goal <= 1.5x).
import { recordSection } from './record.mjs';

const root = resolve(import.meta.dirname, '..');
const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const mbIndex = process.argv.indexOf('--mb');
const SIZES = (mbIndex > 0 ? process.argv[mbIndex + 1] : '200').split(',').map(Number);
const RUNS = arg('--runs', 5);
const WRITE = process.argv.includes('--write');
const GOALS = { backupRatio: 1.1, rssMB: 100, verifyRatio: 1.5 };

if (!existsSync(join(root, 'dist/bundle/lifeboat.cjs'))) {
  console.error('dist/bundle/ is missing: run `npm run build` first');
  process.exit(2);
}
const { EtcdEndpointClient } = await import(join(root, 'dist/adapters/etcd/client.js'));
const { freePort } = await import(join(root, 'dist/adapters/proc/ports.js'));
const { etcdArgs } = await import(join(root, 'dist/adapters/proc/etcd-process.js'));

const work = mkdtempSync(join(os.tmpdir(), 'lifeboat-bench-backup-'));
const lab = join(work, 'lab');
const bin = join(root, 'bin/lifeboat.js');
const hook = join(work, 'maxrss.cjs');
// Peak RSS from VmHWM in /proc/self/status, not resourceUsage().maxRSS: Linux carries ru_maxrss over exec(), so a
// child spawned by this (large) bench process would report the bench's own RSS at fork time as its peak.
writeFileSync(
  hook,
  "process.on('exit', () => { const fs = require('fs'); const u = process.resourceUsage(); let kb = u.maxRSS; try { kb = Number(/VmHWM:\\s+(\\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]); } catch {} fs.writeFileSync(process.env.LB_RSS_FILE, kb + ' ' + (u.userCPUTime + u.systemCPUTime) / 1e6); });\n",
);

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const log = (text) => process.stderr.write(`${text}\n`);

/** Runs a command; resolves with wall seconds, stdout, and the peak RSS (MB) and CPU seconds seen in /proc. */
function timed(command, args, env = {}) {
  return new Promise((resolvePromise, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let hwmKB = 0;
    let cpuTicks = 0;
    const poll = setInterval(() => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) hwmKB = Math.max(hwmKB, Number(m[1]));
        const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        cpuTicks = Math.max(cpuTicks, Number(fields[11]) + Number(fields[12])); // utime + stime
      } catch {}
    }, 10);
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(poll);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (code !== 0) reject(new Error(`${command} ${args.join(' ')} exited ${code}: ${err}`));
      else resolvePromise({ seconds, out, rssMB: hwmKB / 1024, cpu: cpuTicks / 100 });
    });
  });
}

function cli(args, opts = {}) {
  return spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', ...opts });
}

async function ours(args) {
  const rssFile = join(work, `rss-${randomBytes(4).toString('hex')}`);
  const r = await timed(process.execPath, ['--require', hook, bin, ...args], { LB_RSS_FILE: rssFile, NO_COLOR: '1' });
  const [rss, cpu] = readFileSync(rssFile, 'utf8').split(' ').map(Number);
  r.rssMB = rss / 1024;
  r.cpu = cpu;
  rmSync(rssFile);
  return r;
}

/** Loads keys [first, keys of `mb` MB) of 100 KiB each; returns the total key count and the db size. */
async function seed(endpoint, mb, first) {
  const client = new EtcdEndpointClient(endpoint);
  const keys = Math.ceil((mb * 1024 * 1024) / (100 * 1024));
  const started = Date.now();
  for (let from = first; from < keys; from += 200) {
    const entries = [];
    for (let i = from; i < Math.min(keys, from + 200); i++) {
      entries.push([`/bench/${String(i).padStart(6, '0')}`, randomBytes(100 * 1024)]);
    }
    await client.putMany(entries, { batchSize: 10, concurrency: 4, deadlineMs: 60_000 });
  }
  const status = await client.status();
  client.close();
  const mib = status.dbSize / 1048576;
  log(`seeded ${keys - first} keys (${keys} in all), db ${mib.toFixed(0)} MiB in ${(Date.now() - started) / 1000}s`);
  return { keys, mib };
}

/** GET /health, as the drill polls it (a fresh HTTP connection each time, no gRPC reconnect backoff). */
function healthy(clientUrl) {
  return new Promise((resolve) => {
    const req = http.get(`${clientUrl}/health`, { timeout: 1000 }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve(body.includes('"health":"true"')));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

/** The raw drill: etcd's restore, then a member on it with the flags our drill uses, until it leads. */
async function rawDrill(file) {
  const dir = mkdtempSync(join(work, 'raw-'));
  const peerUrl = `http://127.0.0.1:${await freePort()}`;
  const clientUrl = `http://127.0.0.1:${await freePort()}`;
  const started = process.hrtime.bigint();
  const restore = spawnSync(
    'etcdctl',
    [
      'snapshot',
      'restore',
      file,
      `--data-dir=${dir}/data`,
      '--name=raw',
      `--initial-cluster=raw=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      '--initial-cluster-token=raw',
    ],
    { env: { ...process.env, ETCDCTL_API: '3' }, encoding: 'utf8' },
  );
  if (restore.status !== 0) throw new Error(`etcdctl snapshot restore: ${restore.stderr}`);
  const args = etcdArgs({
    name: 'raw',
    dataDir: `${dir}/data`,
    clientUrl,
    peerUrl,
    initialCluster: `raw=${peerUrl}`,
    initialClusterState: 'new',
    initialClusterToken: 'raw',
    logFile: `${dir}/etcd.log`,
    extraArgs: ['--heartbeat-interval=10', '--election-timeout=100'],
  });
  const child = spawn('etcd', args, { stdio: 'ignore' });
  while (!(await healthy(clientUrl))) await new Promise((r) => setTimeout(r, 20));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  child.kill('SIGKILL');
  await new Promise((r) => child.on('exit', r));
  rmSync(dir, { recursive: true, force: true });
  return { seconds };
}

/** One size: backup vs etcdctl snapshot save, then verify vs the raw drill, alternating run by run. */
async function measure(config, db) {
  const out = join(work, 'out');
  const b = { wall: [], rss: [], cpu: [] };
  const e = { wall: [], rss: [], cpu: [] };
  let sourceEndpoint;
  for (let i = 0; i < RUNS; i++) {
    rmSync(out, { recursive: true, force: true });
    const ourRun = await ours(['-c', config, '--json', 'backup', 'etcd', '--to', out]);
    sourceEndpoint ??= JSON.parse(ourRun.out).endpoint;
    mkdirSync(out, { recursive: true });
    const save = ['--endpoints', sourceEndpoint, 'snapshot', 'save', join(out, 'etcdctl.db')];
    const theirs = await timed('etcdctl', save, { ETCDCTL_API: '3' });
    for (const [acc, run] of [
      [b, ourRun],
      [e, theirs],
    ]) {
      acc.wall.push(run.seconds);
      acc.rss.push(run.rssMB);
      acc.cpu.push(run.cpu);
    }
    log(
      `${db.mib.toFixed(0)} MiB backup run ${i + 1}: lifeboat ${ourRun.seconds.toFixed(2)}s ` +
        `(cpu ${ourRun.cpu.toFixed(2)}s, ${ourRun.rssMB.toFixed(0)} MB); etcdctl ${theirs.seconds.toFixed(2)}s ` +
        `(cpu ${theirs.cpu.toFixed(2)}s)`,
    );
  }
  const kept = JSON.parse((await ours(['-c', config, '--json', 'backup', 'etcd', '--to', out])).out);
  const v = { wall: [], rss: [] };
  const raw = [];
  for (let i = 0; i < RUNS; i++) {
    const run = await ours(['--json', 'verify', kept.location]);
    if (!JSON.parse(run.out).ok) throw new Error(`verify failed: ${run.out}`);
    v.wall.push(run.seconds);
    v.rss.push(run.rssMB);
    raw.push((await rawDrill(join(out, 'etcdctl.db'))).seconds);
    log(
      `${db.mib.toFixed(0)} MiB verify run ${i + 1}: lifeboat ${run.seconds.toFixed(2)}s; raw ${raw.at(-1).toFixed(2)}s`,
    );
  }
  rmSync(out, { recursive: true, force: true });
  return {
    keys: db.keys,
    dbMiB: db.mib,
    snapshotMiB: kept.size / 1048576,
    backup: median(b.wall),
    save: median(e.wall),
    backupMin: Math.min(...b.wall),
    saveMin: Math.min(...e.wall),
    backupCpu: median(b.cpu),
    saveCpu: median(e.cpu),
    backupRss: Math.max(...b.rss),
    saveRss: Math.max(...e.rss),
    verify: median(v.wall),
    raw: median(raw),
    verifyMin: Math.min(...v.wall),
    rawMin: Math.min(...raw),
    verifyRss: Math.max(...v.rss),
  };
}

const results = [];
let startup = 0;
let loadavg = 0;
try {
  const up = cli(['lab', 'up', '--dir', lab, '--keys', '0', '--json']);
  if (up.status !== 0) throw new Error(`lab up failed: ${up.stderr}`);
  const state = JSON.parse(up.stdout);
  let leader;
  for (const m of state.members) {
    const c = new EtcdEndpointClient(m.clientUrl);
    const s = await c.status().finally(() => c.close());
    if (s.leaderId === s.memberId) leader = m.clientUrl;
  }
  let keys = 0;
  for (const mb of SIZES) {
    const db = await seed(leader, mb, keys);
    keys = db.keys;
    results.push(await measure(state.config, db));
  }
  const times = [];
  for (let i = 0; i < RUNS; i++) times.push((await timed(process.execPath, [bin, '--version'])).seconds);
  startup = median(times);
  loadavg = os.loadavg()[0];
} finally {
  cli(['lab', 'down', '--dir', lab, '--purge']);
  rmSync(work, { recursive: true, force: true });
}

const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
const status = (ok) => (ok ? 'met' : 'missed');
const x = (a, b) => `${(a / b).toFixed(2)}x`;
const rows = results.flatMap((r) => {
  const size = `${r.dbMiB.toFixed(0)} MiB`;
  return [
    `| ${size} | backup: \`backup etcd --to DIR\` vs \`etcdctl snapshot save\` | ${r.backup.toFixed(2)} s | ${r.save.toFixed(2)} s | ${x(r.backup, r.save)} | <= ${GOALS.backupRatio}x | ${status(r.backup / r.save <= GOALS.backupRatio)} |`,
    `| ${size} | backup: fastest run | ${r.backupMin.toFixed(2)} s | ${r.saveMin.toFixed(2)} s | ${x(r.backupMin, r.saveMin)} | | |`,
    `| ${size} | backup: CPU (user + system) | ${r.backupCpu.toFixed(2)} s | ${r.saveCpu.toFixed(2)} s | ${x(r.backupCpu, r.saveCpu)} | | |`,
    `| ${size} | backup: peak RSS | ${r.backupRss.toFixed(0)} MB | ${r.saveRss.toFixed(0)} MB | | <= ${GOALS.rssMB} MB | ${status(r.backupRss <= GOALS.rssMB)} |`,
    `| ${size} | verify: \`verify FILE\` vs \`etcdctl snapshot restore\` + \`etcd\` until healthy | ${r.verify.toFixed(2)} s | ${r.raw.toFixed(2)} s | ${x(r.verify, r.raw)} | <= ${GOALS.verifyRatio}x | ${status(r.verify / r.raw <= GOALS.verifyRatio)} |`,
    `| ${size} | verify: fastest run | ${r.verifyMin.toFixed(2)} s | ${r.rawMin.toFixed(2)} s | ${x(r.verifyMin, r.rawMin)} | | |`,
    `| ${size} | verify: peak RSS | ${r.verifyRss.toFixed(0)} MB | | | | |`,
  ];
});
const section = `## backup

\`lifeboat backup etcd\` and \`lifeboat verify\` against etcd's own tools, side by side on one 3-member lab (keys of
100 KiB; the lab grows from one size to the next); medians of ${RUNS} alternating runs per size.
Machine: ${cpu}, ${os.cpus().length} cores, Node ${process.version}, linux ${os.release()}; etcd/etcdctl 3.4.23;
recorded ${new Date().toISOString().slice(0, 10)}.

| db | what | lifeboat | etcd's tool | ratio | goal | status |
|---|---|---|---|---|---|---|
${rows.join('\n')}

Start-up alone (\`lifeboat --version\`: Node plus every module of the CLI): ${startup.toFixed(2)} s, inside every lifeboat
figure. One-minute load average at the end: ${loadavg.toFixed(1)}; other work on the machine shows in the medians,
the fastest runs show the tools' own cost.

- **backup** does more than \`snapshot save\`: probes every member to pick a healthy follower, counts the keys and
  takes HashKV at the snapshot revision, hashes every byte and checks etcd's SHA-256 trailer before committing,
  fsyncs, and writes the manifest. The stream is read with node:http2 directly (gRPC frames and SnapshotResponse
  parsed by hand), with a 1 MiB stream / 2 MiB connection flow-control window and a young-generation GC every
  2 MiB, so memory stays flat whatever the database size. Bytes go to disk in 1 MiB blocks with an fdatasync every
  32 MiB while the stream runs, so the final fsync writes only the tail. No gRPC library is loaded (ADR 007).
- **verify** does more than the raw drill: checks the trailer (a full read and SHA-256 of the file) before etcd's
  restore, asks the restored member for its key count and HashKV at the manifest's revision, stops it (SIGTERM,
  deadline, SIGKILL) and removes the scratch directory. Both start the member with the same flags (heartbeat 10 ms,
  election 100 ms) and poll /health every 20 ms.
- Peak RSS: VmHWM from /proc for both (lifeboat's read by a --require hook at exit; not ru_maxrss, which Linux
  carries over exec() from the spawning bench process). CPU: lifeboat's from \`process.resourceUsage()\`, etcdctl's from /proc/PID/stat (sampled every 10 ms).

Reproduce: \`npm run build && node bench/backup.mjs --mb ${SIZES.join(',')} --runs ${RUNS} --write\`
`;
process.stdout.write(`${section}\n`);
if (WRITE) {
  const file = recordSection(root, 'backup', section);
  log(`wrote the backup section of ${file}`);
}
