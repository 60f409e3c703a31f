#!/usr/bin/env node
// `npm run test:etcd-3.5` (the last step of `npm test`): the etcd integration tests again, on etcd 3.5 from Debian
// unstable (scripts/etcd-3.5.sh fetches it once into a cache). The first `vitest run` covers the distribution's etcd
// (3.4 on Debian 12); kubeadm clusters run 3.5, whose restore path differs (etcdutl, --bump-revision,
// --mark-compacted). Code finds etcd, etcdctl and etcdutl on PATH, so the version is chosen by PATH alone.
// Extra arguments are passed to vitest (e.g. a single file).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter } from 'node:path';

// The tests whose outcome depends on etcd's version: backup, verify, recover, drills, the agent, the kubeadm nodes,
// the change log (Watch).
// (Kept small: the whole suite must stay within CI's ~20 minutes on two cores.)
const ETCD_VERSION_TESTS = [
  'test/integration/backup.test.ts',
  'test/integration/verify.test.ts',
  'test/integration/recover.test.ts',
  'test/integration/drill.test.ts',
  'test/integration/agent-incident.test.ts',
  'test/integration/kubeadm-nodes.test.ts',
  'test/integration/kubeadm-plans.test.ts',
  'test/integration/kubeadm-survivor.test.ts',
  'test/integration/etcdlog.test.ts',
  'test/integration/etcdlog-backend.test.ts',
];

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
const files = args.length ? args : ETCD_VERSION_TESTS.filter((f) => existsSync(f));
const result = spawnSync(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', ...files], {
  stdio: 'inherit',
  env,
});
process.exit(result.status ?? 1);
