#!/usr/bin/env node
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
// Benchmark of the change log (issue 19). Not a timed test: run it by hand, it records docs/BENCHMARKS.md.
//
//   npm run build && node bench/etcdlog.mjs [--seconds 20] [--inflight 64] [--events 1000000] [--per-rev 4]
//     [--scratch tmp|shm|both] [--write]
//   etcd 3.5: PATH="$(bash scripts/etcd-3.5.sh):$PATH" node bench/etcdlog.mjs ...
//
// One real etcd member (the etcd on PATH) on 127.0.0.1 and `lifeboat backup etcd --follow` in its own process.
// 1. Follow: writers keep --inflight puts in flight over one HTTP/2 connection for --seconds (as fast as this etcd
//    takes them); the log's durable revision is sampled every 250 ms (lag = etcd's revision - durable revision, and
//    how long the newest write waited); after the load, the time until the log holds the last write. Peak RSS of the
//    follower from /proc (VmHWM). Storage: bytes of the log objects per event.
// 2. Replay: --events events written as Txns of --per-rev puts (one revision each) while the follower runs, then
//    `lifeboat restore etcd --at LAST` (the base snapshot's backend + the log written as a new backend, ADR 015;
//    --scratch says where that file is built: the OS temp dir, /dev/shm or both, one restore each).
import { recordSection } from './record.mjs';

const root = resolve(import.meta.dirname, '..');
const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const SECONDS = arg('--seconds', 20);
const INFLIGHT = arg('--inflight', 64);
const EVENTS = arg('--events', 1_000_000);
const PER_REV = arg('--per-rev', 4);
const GOAL = { rssMb: 100, replayEventsPerSecond: 20_000 };
const SCRATCH = (() => {
  const i = process.argv.indexOf('--scratch');
  return i > 0 ? process.argv[i + 1] : 'both';
})();
const loadAtStart = os.loadavg();

if (!existsSync(join(root, 'dist/bundle/lifeboat.cjs'))) {
  console.error('dist/bundle/ is missing: run `npm run build` first');
  process.exit(2);
}
const { EtcdConnection } = await import(join(root, 'dist/adapters/etcd/connection.js'));
const { spawnEtcd } = await import(join(root, 'dist/adapters/proc/etcd-process.js'));
const { freePort } = await import(join(root, 'dist/adapters/proc/ports.js'));
const { LocalStore } = await import(join(root, 'dist/adapters/store/local.js'));
const { chainWindows } = await import(join(root, 'dist/app/etcdlog/restore.js'));

const dir = mkdtempSync(join(os.tmpdir(), 'lifeboat-bench-etcdlog-'));
const store = join(dir, 'store');
const clientUrl = `http://127.0.0.1:${await freePort()}`;
const peerUrl = `http://127.0.0.1:${await freePort()}`;
const etcdPid = spawnEtcd(
  {
    name: 'bench',
    dataDir: join(dir, 'etcd'),
    clientUrl,
    peerUrl,
    initialCluster: `bench=${peerUrl}`,
    initialClusterState: 'new',
    initialClusterToken: 'bench',
    logFile: join(dir, 'etcd.log'),
    extraArgs: ['--quota-backend-bytes=8589934592'],
  },
  { detached: false },
);
const conn = new EtcdConnection(clientUrl, {});
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const revisionNow = async () => Number((await conn.unary('Maintenance', 'Status', {}, 10_000)).header.revision);
const durable = async () => {
  const { chains } = await chainWindows(new LocalStore(store));
  return chains.at(-1)?.toRevision ?? 0;
};
const logBytes = async () => {
  const objects = await new LocalStore(store).list('etcd-log/');
  return objects.filter((o) => o.name.endsWith('.lblog')).reduce((n, o) => n + o.size, 0);
};
const vmRss = (pid) => {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024;
  } catch {
    return undefined;
  }
};
const vmHwm = (pid) => {
  try {
    return Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024;
  } catch {
    return undefined;
  }
};

let follower;
let peakRss = 0;
try {
  for (let i = 0; i < 200; i++) {
    try {
      await revisionNow();
      break;
    } catch {
      await sleep(100);
    }
  }
  follower = spawn(
    process.execPath,
    [join(root, 'bin/lifeboat.js'), '--endpoints', clientUrl, 'backup', 'etcd', '--follow', '--to', store],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  while ((await durable()) === 0 && (await chainWindows(new LocalStore(store))).chains.length === 0) await sleep(200);
  const value = Buffer.alloc(256, 'v'); // a small Kubernetes object's size
  const startRev = await revisionNow();
  await sleep(2000); // let the follower settle after its start (its base snapshot): the idle figure
  const idleRss = vmRss(follower.pid) ?? 0;

  // 1. Follow under the fastest load.
  let writes = 0;
  let stop = false;
  const writer = async (w) => {
    let i = 0;
    while (!stop) {
      await conn.unary('KV', 'Put', { key: Buffer.from(`/load/${w}/${i++ % 500}`), value }, 30_000);
      writes++;
    }
  };
  const samples = [];
  const t0 = Date.now();
  const writers = Array.from({ length: INFLIGHT }, (_, w) => writer(w));
  while (Date.now() - t0 < SECONDS * 1000) {
    await sleep(250);
    const [rev, dur] = await Promise.all([revisionNow(), durable()]);
    samples.push(rev - dur);
    peakRss = Math.max(peakRss, vmHwm(follower.pid) ?? 0);
  }
  stop = true;
  await Promise.all(writers);
  const loadSeconds = (Date.now() - t0) / 1000;
  const lastRev = await revisionNow();
  const tEnd = Date.now();
  while ((await durable()) < lastRev) await sleep(50);
  const catchUp = (Date.now() - tEnd) / 1000;
  const eventsPerSecond = Math.round(writes / loadSeconds);
  samples.sort((a, b) => a - b);
  const p50 = samples[Math.floor(samples.length / 2)];
  const max = samples.at(-1);
  const loadEvents = lastRev - startRev;
  const followPeakRss = Math.max(peakRss, vmHwm(follower.pid) ?? 0);
  const bytesPerEvent = (await logBytes()) / loadEvents;
  console.log(
    `follow: ${eventsPerSecond} events/s for ${loadSeconds.toFixed(1)} s; lag median ${p50} revisions ` +
      `(${(p50 / eventsPerSecond).toFixed(2)} s), max ${max}; caught up ${catchUp.toFixed(2)} s after the load; ` +
      `${bytesPerEvent.toFixed(0)} B/event`,
  );

  // 2. Replay of EVENTS events.
  const revisions = Math.ceil(EVENTS / PER_REV);
  let sent = 0;
  const g0 = Date.now();
  const txnWriter = async () => {
    while (sent < revisions) {
      const n = sent++;
      const success = Array.from({ length: PER_REV }, (_, k) => ({
        request_put: { key: Buffer.from(`/replay/${n % 20000}/${k}`), value },
      }));
      await conn.unary('KV', 'Txn', { compare: [], success, failure: [] }, 30_000);
    }
  };
  await Promise.all(Array.from({ length: INFLIGHT }, txnWriter));
  const genSeconds = (Date.now() - g0) / 1000;
  const target = await revisionNow();
  const gEnd = Date.now();
  while ((await durable()) < target) await sleep(100);
  const genCatchUp = (Date.now() - gEnd) / 1000;
  peakRss = Math.max(peakRss, vmHwm(follower.pid) ?? 0);
  const genEventsPerSecond = Math.round((revisions * PER_REV) / genSeconds);
  console.log(
    `generated ${revisions * PER_REV} events (${revisions} revisions) in ${genSeconds.toFixed(0)} s ` +
      `(${genEventsPerSecond} events/s); durable ${genCatchUp.toFixed(2)} s after; follower RSS idle ` +
      `${(idleRss / 1048576).toFixed(0)} MB, peak ${(followPeakRss / 1048576).toFixed(0)} MB under the Puts, ` +
      `${(peakRss / 1048576).toFixed(0)} MB over the whole run`,
  );
  const restoreOnce = async (scratchDir) => {
    const r0 = Date.now();
    const extra = scratchDir ? ['--scratch-dir', scratchDir] : [];
    let rss = 0;
    const restore = await new Promise((resolvePromise, reject) => {
      const child = spawn(
        process.execPath,
        [
          join(root, 'bin/lifeboat.js'),
          '--json',
          'restore',
          'etcd',
          '--from',
          store,
          '--at',
          String(target),
          '--to',
          join(dir, 'out.db'),
          ...extra,
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      const poll = setInterval(() => (rss = Math.max(rss, vmHwm(child.pid) ?? 0)), 100);
      child.on('close', () => {
        clearInterval(poll);
        try {
          resolvePromise(JSON.parse(out));
        } catch {
          reject(new Error(`restore failed: ${out}`));
        }
      });
    });
    const seconds = (Date.now() - r0) / 1000;
    const rate = Math.round(restore.replayedEvents / restore.replaySeconds);
    const revRate = Math.round(restore.replayedRevisions / restore.replaySeconds);
    console.log(
      `replay (scratch on ${scratchDir ?? os.tmpdir()}): ${restore.replayedEvents} events / ${restore.replayedRevisions} revisions ` +
        `in ${restore.replaySeconds} s = ${rate} events/s (${revRate} revisions/s); whole restore ${seconds.toFixed(1)} s, peak RSS ${(rss / 1048576).toFixed(0)} MB`,
    );
    return { restore, seconds, rate, revRate, rss, where: scratchDir ?? os.tmpdir() };
  };
  const replays = [];
  if (SCRATCH !== 'shm') replays.push(await restoreOnce(undefined));
  if (SCRATCH !== 'tmp' && existsSync('/dev/shm')) replays.push(await restoreOnce('/dev/shm'));
  const restore = replays[0].restore;
  const mb = (b) => (b / 1024 / 1024).toFixed(0);
  const etcdVersion = (await conn.unary('Maintenance', 'Status', {}, 10_000)).version;
  const when = new Date().toISOString().slice(0, 16).replace('T', ' ');
  const minor = etcdVersion.split('.').slice(0, 2).join('.');
  const is35 = Number(minor.split('.')[1]) >= 5 || Number(minor.split('.')[0]) > 3;
  const load = (l) => l.map((x) => x.toFixed(1)).join(' / ');
  const argv = process.argv
    .slice(2)
    .filter((a) => a !== '--write')
    .join(' ');
  const section = `## etcdlog on etcd ${minor}

\`lifeboat backup etcd --follow\` and \`restore etcd --at\` (issue 19) against one real etcd ${etcdVersion} member on
127.0.0.1, in one run. Machine: ${os.cpus()[0].model}, ${os.cpus().length} cores, Node ${process.version}; recorded
${when} UTC. Load average (1/5/15 min) at the start ${load(loadAtStart)}, at the end ${load(os.loadavg())} (a 2-core
machine shared with other work).

| measure | result | goal |
|---|---|---|
| write load (Puts of 256 B values, ${INFLIGHT} in flight) | ${eventsPerSecond} events/s for ${loadSeconds.toFixed(0)} s | the fastest this etcd takes |
| follower lag during the load (median / max) | ${p50} / ${max} revisions (~${(p50 / eventsPerSecond).toFixed(2)} s) | keeps up |
| log durable after the last write | ${catchUp.toFixed(2)} s | <= cadence (1 s) + 1 s |
| follower RSS at idle (after its base snapshot) | ${mb(idleRss)} MB | |
| follower peak RSS under the Puts | ${mb(followPeakRss)} MB | <= ${GOAL.rssMb} MB |
| second load: Txns of ${PER_REV} Puts, ${INFLIGHT} in flight (the replay's events) | ${genEventsPerSecond} events/s for ${genSeconds.toFixed(0)} s; log durable ${genCatchUp.toFixed(2)} s after | |
| follower peak RSS over the whole run (both loads) | ${mb(peakRss)} MB | <= ${GOAL.rssMb} MB |
| storage | ${bytesPerEvent.toFixed(0)} B per event (256 B values) | |
${replays.map((r) => `| replay, ${restore.replayedEvents} events (${PER_REV} per revision), backend built on ${r.where} | ${r.rate} events/s, ${r.revRate} revisions/s; whole restore ${r.seconds.toFixed(1)} s (snapshot ${mb(r.restore.size)} MB), peak RSS ${mb(r.rss)} MB | >= ${GOAL.replayEventsPerSecond} events/s |`).join('\n')}

The replay writes the etcd backend (bbolt) itself (ADR 015): the base snapshot's pages read, the log's revisions
appended to its key bucket, the file streamed out with its SHA-256. "Whole restore" is the command from start to
exit: reading the catalog, checking the base snapshot (etcd's \`snapshot status\`), the replay and writing the file.

**Goals (issue 19)**: follower keeps up and peak RSS <= ${GOAL.rssMb} MB: ${peakRss <= GOAL.rssMb * 1048576 && catchUp <= 2 ? 'met' : 'NOT met'};
replay >= ${GOAL.replayEventsPerSecond} events/s: ${Math.max(...replays.map((r) => r.rate)) >= GOAL.replayEventsPerSecond ? 'met' : 'NOT met'} (best ${Math.max(...replays.map((r) => r.rate))} events/s).

Command: \`npm run build && ${is35 ? 'PATH="$(bash scripts/etcd-3.5.sh):$PATH" ' : ''}node bench/etcdlog.mjs ${argv}\`
`;
  if (process.argv.includes('--write')) {
    console.log(`recorded in ${recordSection(root, `etcdlog on etcd ${minor}`, section)}`);
  } else console.log(section);
} finally {
  follower?.kill('SIGTERM');
  conn.close();
  try {
    process.kill(etcdPid, 'SIGKILL');
  } catch {}
  await sleep(500);
  rmSync(dir, { recursive: true, force: true });
}
