#!/usr/bin/env node
// The single-file executable against `node bin/lifeboat.js`: file size, and start-up + `check` on the incident
// schedule (examples/incident.yaml), medians of fresh processes (ADR 011).
//
//   npm run build:sea && node bench/sea.mjs [--runs 21] [--write]    (--write records it in docs/BENCHMARKS.md)
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { recordSection } from './record.mjs';

const root = resolve(import.meta.dirname, '..');
const runsAt = process.argv.indexOf('--runs');
const runs = runsAt > 0 ? Number(process.argv[runsAt + 1]) : 21;
const sea = join(root, 'dist/sea/lifeboat-linux-x64');
if (!existsSync(sea)) {
  console.error('bench/sea: dist/sea/lifeboat-linux-x64 is missing: npm run build:sea first');
  process.exit(1);
}
const incident = join(root, 'examples/incident.yaml');

function median(command, args) {
  spawnSync(command, args); // warm: the code cache and the page cache, as every later start finds them
  const times = [];
  for (let i = 0; i < runs; i++) {
    const started = process.hrtime.bigint();
    const r = spawnSync(command, args, { encoding: 'utf8' });
    times.push(Number(process.hrtime.bigint() - started) / 1e9);
    if (r.status !== 0 && r.status !== 1) throw new Error(`${command} ${args.join(' ')}: exit ${r.status} ${r.stderr}`);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

const before = loadavg()[0];
const rows = [
  ['`node -e 0`', median(process.execPath, ['-e', '0']), undefined],
  [
    '`node bin/lifeboat.js -c examples/incident.yaml check`',
    median(process.execPath, [join(root, 'bin/lifeboat.js'), '-c', incident, 'check']),
    undefined,
  ],
  [
    '`dist/sea/lifeboat-linux-x64 -c examples/incident.yaml check`',
    median(sea, ['-c', incident, 'check']),
    statSync(sea).size,
  ],
];
const after = loadavg()[0];
const mib = (n) => `${(n / 2 ** 20).toFixed(1)} MiB`;
const section = `## single-file executable

\`node bench/sea.mjs --runs ${runs} --write\` after \`npm run build:sea\`: medians of ${runs} fresh processes each (after one warm-up run).
Machine: ${cpus()[0]?.model ?? 'unknown'}, ${cpus().length} cores, Node ${process.version}; recorded ${new Date().toISOString().slice(0, 10)}
(1-minute load average ${before.toFixed(2)} before, ${after.toFixed(2)} after).

| command | wall | file |
|---|---|---|
${rows.map(([name, s, size]) => `| ${name} | ${s.toFixed(3)} s | ${size === undefined ? '' : mib(size)} |`).join('\n')}

The executable is Node's official binary (98 MiB of it, unstripped) with the whole CLI in one script (\`dist/sea/lifeboat.cjs\`,
${mib(statSync(join(root, 'dist/sea/lifeboat.cjs')).size)} minified) and V8's code cache for it built in (\`useCodeCache\`); the npm install loads only the chunks of the
command being run and keeps its code cache in ~/.cache/lifeboat (ADR 009). So the executable starts slower: it
loads every command's libraries (the AWS SDK and Kubernetes client included) before running any; splitting the
script per command would need a module loader inside the executable (Node 20's can require only builtins there).
`;
console.log(section);
if (process.argv.includes('--write'))
  console.log(`recorded in ${recordSection(root, 'single-file executable', section)}`);
