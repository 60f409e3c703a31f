#!/usr/bin/env node
// `npm test`'s test phase (after build, type-check and lint): every test file, and every test that starts etcd on
// both etcd versions (scripts/etcd-tests.mjs), within CI's ~20 minutes on two cores:
//   1. every test on the distribution's etcd (3.4 on Debian 12), two workers, except the kubeadm node simulator's;
//   2. then the other tests that start etcd again on 3.5 (scripts/test-etcd-3.5.mjs);
//   and from the start, beside both, a second Vitest for the simulator's files: all on 3.5, then those with a
//   3.4-only path on 3.4. They spend their minutes waiting (scripts started 60 s late, the kubelet's back-off) on
//   about a fifth of a core each: beside the passes they cost little wall time, in their queue they cost minutes.
// The simulator's output is printed when it ends (interleaved it would be unreadable). Exit 1 if any part failed.
import { spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ETCD_TESTS, SIMULATOR_TESTS, SIMULATOR_TESTS_ON_3_4 } from './etcd-tests.mjs';

const VITEST = ['node_modules/vitest/vitest.mjs', 'run'];
const ETCD_3_5 = new URL('test-etcd-3.5.mjs', import.meta.url).pathname;

/** Runs `args` with node; output to the terminal, or to `log` when given. Resolves with the exit code. */
function run(args, log) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, {
      stdio: ['ignore', log ? 'pipe' : 'inherit', log ? 'pipe' : 'inherit'],
    });
    if (log) {
      child.stdout.pipe(log, { end: false });
      child.stderr.pipe(log, { end: false });
    }
    child.on('close', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

const started = Date.now();
const minutes = () => `${((Date.now() - started) / 60_000).toFixed(1)} min`;
const logPath = join(mkdtempSync(join(tmpdir(), 'lifeboat-test-suite-')), 'kubeadm-simulator.log');
const log = createWriteStream(logPath);
console.log(`== the kubeadm node simulator runs beside the main pass; its output: ${logPath} (printed at the end)`);

const simulator = (async () => {
  const on35 = await run([ETCD_3_5, ...SIMULATOR_TESTS], log);
  log.write(`\n== the kubeadm node simulator's 3.4 part (etcd from PATH)\n`);
  const on34 = await run([...VITEST, ...SIMULATOR_TESTS_ON_3_4], log);
  return { on35, on34, at: minutes() };
})();
const main = await run([...VITEST, ...SIMULATOR_TESTS.flatMap((f) => ['--exclude', f])]);
console.log(`== main pass done at ${minutes()} (exit ${main})`);
const second = await run([ETCD_3_5, ...ETCD_TESTS]);
console.log(`== etcd 3.5 pass done at ${minutes()} (exit ${second})`);
const sim = await simulator;
await new Promise((resolve) => log.end(resolve));
console.log(`\n== the kubeadm node simulator (done at ${sim.at}; 3.5 exit ${sim.on35}, 3.4 exit ${sim.on34})`);
process.stdout.write(readFileSync(logPath, 'utf8'));
const failed = [main, second, sim.on35, sim.on34].some((code) => code !== 0);
console.log(`\n== npm test: ${failed ? 'FAILED' : 'passed'} in ${minutes()}`);
process.exit(failed ? 1 : 0);
