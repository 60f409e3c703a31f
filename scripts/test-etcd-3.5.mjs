#!/usr/bin/env node
// `npm run test:etcd-3.5 [FILES]`: the tests that start etcd (scripts/etcd-tests.mjs: all of them, the kubeadm node
// simulator's too, unless FILES are given) on etcd 3.5 from Debian unstable (scripts/etcd-3.5.sh fetches it once into
// a cache). `npm test` runs them through scripts/test-suite.mjs, after (or beside) the same tests on the distribution's
// etcd (3.4 on Debian 12); kubeadm clusters run 3.5, whose restore path differs (etcdutl, --bump-revision,
// --mark-compacted). Code finds etcd, etcdctl and etcdutl on PATH, so the version is chosen by PATH alone.
// Extra arguments are passed to vitest (e.g. a single file).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter } from 'node:path';
import { ETCD_TESTS, SIMULATOR_TESTS } from './etcd-tests.mjs';

const fetched = spawnSync('bash', [new URL('etcd-3.5.sh', import.meta.url).pathname], {
  stdio: ['ignore', 'pipe', 'inherit'],
  encoding: 'utf8',
});
if (fetched.status !== 0) {
  console.error('test:etcd-3.5: could not fetch etcd 3.5 (scripts/etcd-3.5.sh failed, see above)');
  process.exit(1);
}
const bin = fetched.stdout.trim().split('\n').pop();
const env = { ...process.env, PATH: `${bin}${delimiter}${process.env.PATH}`, LIFEBOAT_TEST_ETCD: '3.5' };
const version = spawnSync('etcd', ['--version'], { env, encoding: 'utf8' }).stdout.split('\n')[0];
console.log(`\n== the etcd tests again on ${version} (${bin})`);
const args = process.argv.slice(2);
const files = args.length ? args : [...ETCD_TESTS, ...SIMULATOR_TESTS].filter((f) => existsSync(f));
const result = spawnSync(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', ...files], {
  stdio: 'inherit',
  env,
});
process.exit(result.status ?? 1);
