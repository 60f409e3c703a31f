#!/usr/bin/env node
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
// Benchmark of the incident drill (issue #5). Not a timed test: run it by hand, it records docs/BENCHMARKS.md.
//
//   npm run build && node bench/drill.mjs [--runs N] [--keys N]
//
// Each run is `lifeboat --json lab drill --scenario S --members 3 --keys N` in a fresh process on a fresh lab of real
// etcd members on 127.0.0.1: N Kubernetes-shaped sample keys (default 40,000: a database well over 100 MB), a writer
// that logs every acknowledged write, a verified backup (`lifeboat backup etcd` + `lifeboat verify`), the failure,
// `doctor` until it sees it, `recover --plan auto --yes`, then every member healthy, a write through each, and every
// acknowledged write looked up. Goal (issue #5): incident RTO <= 30 s on a 3-member lab holding >= 100 MB, 0
// acknowledged writes lost. The incident runs N times (median reported); disk-loss and total-loss once, for context.
import { recordSection } from './record.mjs';

const root = resolve(import.meta.dirname, '..');
const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const RUNS = arg('--runs', 3);
const KEYS = arg('--keys', 40_000);
const GOAL = { rtoSeconds: 30, minDbBytes: 100 * 1024 * 1024 };

if (!existsSync(join(root, 'dist/bundle/lifeboat.cjs'))) {
  console.error('dist/bundle/ is missing: run `npm run build` first');
  process.exit(2);
}

function drill(scenario) {
  const res = spawnSync(
    process.execPath,
    [
      join(root, 'bin/lifeboat.js'),
      '--json',
      'lab',
      'drill',
      '--scenario',
      scenario,
      '--members',
      '3',
      '--keys',
      String(KEYS),
    ],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 600_000 },
  );
  let report;
  try {
    report = JSON.parse(res.stdout);
  } catch {
    throw new Error(`${scenario}: no JSON report (exit ${res.status}): ${res.stderr.slice(-2000)}`);
  }
  console.log(
    `${scenario}: ok=${report.ok} plan=${report.plan} rto=${report.rtoSeconds}s detect=${report.detectSeconds}s ` +
      `recover=${report.recoverSeconds}s lost=${report.lostWrites}/${report.ackedWrites} db=${mib(report.dbSizeBytes)}`,
  );
  if (!report.ok) console.log(`  problems: ${report.problems.join('; ')}`);
  return report;
}

const mib = (bytes) => (bytes == null ? '-' : `${(bytes / 1048576).toFixed(0)} MiB`);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const incidents = Array.from({ length: RUNS }, () => drill('incident'));
const others = ['disk-loss', 'total-loss'].map(drill);

const rtoMedian = median(incidents.map((r) => r.rtoSeconds ?? Number.POSITIVE_INFINITY));
const rtoMax = Math.max(...incidents.map((r) => r.rtoSeconds ?? Number.POSITIVE_INFINITY));
const lostTotal = incidents.reduce((sum, r) => sum + r.lostWrites, 0);
const dbMin = Math.min(...incidents.map((r) => r.dbSizeBytes ?? 0));
const met = incidents.every((r) => r.ok) && rtoMax <= GOAL.rtoSeconds && lostTotal === 0 && dbMin >= GOAL.minDbBytes;

const row = (label, r) =>
  `| ${label} | ${r.plan} | ${mib(r.dbSizeBytes)} | ${r.detectSeconds} s | ${r.recoverSeconds} s | ${r.rtoSeconds} s | ` +
  `${r.writeOutageSeconds} s | ${r.lostWrites} of ${r.ackedWrites}${r.scenario === 'total-loss' ? ` (${r.expectedLostWrites} after the snapshot)` : ''} | ${r.ok ? 'passed' : 'FAILED'} |`;

const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
const section = `## drill

\`lifeboat lab drill\` on a 3-member lab of real etcd ${etcdVersion()} members on 127.0.0.1, ${KEYS.toLocaleString('en-US')} sample keys.
Machine: ${cpu}, ${os.cpus().length} cores, Node ${process.version}, ${os.platform()} ${os.release()}; recorded ${new Date().toISOString().slice(0, 10)}.

| run | plan | db size | detect | recover | RTO | writes refused | acknowledged writes lost | result |
|---|---|---|---|---|---|---|---|---|
${incidents.map((r, i) => row(`incident #${i + 1}`, r)).join('\n')}
${others.map((r) => row(r.scenario, r)).join('\n')}

**Goal (issue #5): incident RTO <= ${GOAL.rtoSeconds} s on a 3-member lab holding >= 100 MB, 0 acknowledged writes lost: ${met ? 'met' : 'NOT met'}**
(median RTO ${rtoMedian} s, worst ${rtoMax} s; ${lostTotal} acknowledged writes lost over ${RUNS} incident runs).

- **incident**: the leader and one follower are SIGKILLed at the same moment and the leader's data dir is removed; the
  writer writes through the surviving member. \`recover --plan auto\` picks **survivor**: \`--force-new-cluster\` on it,
  then each other member is removed, re-added as a learner, wiped, started with \`--initial-cluster-state=existing\`,
  caught up (the whole database is shipped to it) and promoted, one at a time.
- **detect**: from the kill until \`doctor\`'s probe and diagnosis report the expected state (a quorum-less member
  answers a quorum read only with a timeout, so about 2 s). **recover**: \`recover\` itself (its probe included).
  **RTO**: from the kill until every member is healthy (/health) and a write succeeded through each one.
  **writes refused**: total time the writer's puts failed after the kill.
- **acknowledged writes lost**: the drill's writer log (one line per acknowledged put, with revision and cluster id)
  checked key by key against the recovered cluster. total-loss restores the drill's backup, so exactly the writes after
  the snapshot's revision must be gone, and they are the only ones missing.
- About 5 s of every re-add after the first is etcd itself: it refuses a member add until every voting member has been
  connected for 5 s (\`--strict-reconfig-check\`), and it allows one learner at a time.

Reproduce: \`npm run build && node bench/drill.mjs\` (\`--runs N\`, \`--keys N\`).
`;

function etcdVersion() {
  const out = spawnSync('etcd', ['--version'], { encoding: 'utf8' }).stdout ?? '';
  return /etcd Version: (\S+)/.exec(out)?.[1] ?? '';
}

const docPath = recordSection(root, 'drill', section);
console.log(`recorded in ${docPath}${met ? '' : ' (goal NOT met)'}`);
process.exitCode = met ? 0 : 1;
