#!/usr/bin/env node
// `npm run quickstart`: from a fresh Debian 12 machine with Node >= 20 to a running practice lab and a doctor
// report. Installs OS packages with apt-get when it can (root or passwordless sudo); otherwise prints the command.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * Every OS package `npm test` starts for real, keyed by what shows it is installed (a command on PATH, or a file).
 * The same list as .ci/run's (test/unit/quickstart-packages.test.ts keeps the two in step): the README promises that
 * `npm run quickstart` then `npm test` pass on a fresh machine.
 */
const PACKAGES = [
  { command: 'etcd', pkg: 'etcd-server' },
  { command: 'etcdctl', pkg: 'etcd-client' },
  { command: 'mariadbd', pkg: 'mariadb-server' },
  { command: 'chromium', pkg: 'chromium' },
  { command: 'age', pkg: 'age' },
  { command: 'openssl', pkg: 'openssl' },
  // The system tz database: what cron and systemd read, and what `check` reads.
  { file: '/usr/share/zoneinfo/Europe/Berlin', pkg: 'tzdata' },
  // The arm64 single-file executable runs under qemu-user with Debian's arm64 C and C++ runtimes.
  { command: 'qemu-aarch64', pkg: 'qemu-user' },
  { file: '/usr/aarch64-linux-gnu/lib/libc.so.6', pkg: 'libc6-arm64-cross' },
  { file: '/usr/aarch64-linux-gnu/lib/libstdc++.so.6', pkg: 'libstdc++6-arm64-cross' },
  // The container image (scripts/build-image.sh) and the MySQL 9 test root (scripts/mysql-root.sh) use mmdebstrap.
  { command: 'mmdebstrap', pkg: 'mmdebstrap' },
  { command: 'umoci', pkg: 'umoci' },
  // The kubeadm node simulator gives each node its own network namespace with ip(8).
  { command: 'ip', pkg: 'iproute2' },
  // `lifeboat completion zsh|fish` is tested in the shells themselves.
  { command: 'zsh', pkg: 'zsh' },
  { command: 'fish', pkg: 'fish' },
];
const LAB_DIR = '.lab';

// mariadbd lives in /usr/sbin, which a non-root PATH often lacks.
const SEARCH_PATH = `${process.env.PATH ?? ''}:/usr/sbin:/sbin`;

function has(command) {
  return (
    spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore', env: { ...process.env, PATH: SEARCH_PATH } })
      .status === 0
  );
}

function run(command, args, opts = {}) {
  console.log(`\n$ ${[command, ...args].join(' ')}`);
  const result = spawnSync(command, args, { stdio: 'inherit', ...opts });
  if (result.status !== 0 && !opts.allowFailure) {
    console.error(`quickstart: '${command} ${args.join(' ')}' failed (exit ${result.status}).`);
    process.exit(1);
  }
  return result.status ?? 1;
}

function installOsPackages() {
  const missing = PACKAGES.filter((p) => (p.file ? !existsSync(p.file) : !has(p.command))).map((p) => p.pkg);
  if (missing.length === 0) return;
  const isRoot = process.getuid?.() === 0;
  const canSudo = !isRoot && has('sudo') && spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0;
  const command = `apt-get update && apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  if (!isRoot && !canSudo) {
    console.error(
      `quickstart: missing OS packages. Run this, then npm run quickstart again:\n  sudo sh -c '${command}'`,
    );
    process.exit(1);
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (isRoot) run('sh', ['-c', command], { env });
  else run('sudo', ['-n', 'sh', '-c', command], { env });
}

installOsPackages();
// `npm test` runs the etcd tests on 3.5 too (kubeadm's version; Debian 12 ships 3.4): fetch it now, into a cache folder
// (no install). Not needed for the lab, so a failure here is a warning; `npm test` tries again.
if (run('bash', ['scripts/etcd-3.5.sh'], { allowFailure: true, stdio: ['ignore', 'ignore', 'inherit'] }) !== 0) {
  console.error(
    'quickstart: could not fetch etcd 3.5 for the tests (npm test will try again); the lab does not need it.',
  );
}
run('npm', ['ci', '--no-audit', '--no-fund']);
// Oracle MySQL 9 for the MySQL tests (a Debian unstable root in ~/.cache/lifeboat-test; built once, a few minutes).
if (run('bash', ['scripts/mysql-root.sh'], { allowFailure: true }) !== 0) {
  console.error(
    'quickstart: the MySQL test root could not be built; the MySQL 9 tests will try again (or skip, saying why)',
  );
}
run('npm', ['run', 'build']);
const lifeboat = (...args) => run(process.execPath, ['bin/lifeboat.js', ...args], { allowFailure: true });
// Start from a clean lab so quickstart can be run again and again.
if (existsSync(`${LAB_DIR}/lab.json`)) lifeboat('lab', 'down', '--purge', '--dir', LAB_DIR);
if (lifeboat('lab', 'up', '--dir', LAB_DIR) !== 0) process.exit(1);
// The README's backup examples, on the lab: a snapshot proven restorable, so doctor has no backup to complain about.
lifeboat('-c', `${LAB_DIR}/lifeboat.yaml`, 'backup', 'etcd');
lifeboat('-c', `${LAB_DIR}/lifeboat.yaml`, 'verify', '--latest');
lifeboat('-c', `${LAB_DIR}/lifeboat.yaml`, 'doctor');
// The main job: replay the incident on a separate throwaway lab and prove the recovery (RTO, writes lost).
if (lifeboat('lab', 'drill', '--scenario', 'incident') !== 0) process.exit(1);
console.log(`
The incident drill passed. Your own practice cluster is still running (3 real etcd members under ${LAB_DIR}/). Try:
  node bin/lifeboat.js lab kill cp2 --dir ${LAB_DIR}           # a power cut on one member
  node bin/lifeboat.js -c ${LAB_DIR}/lifeboat.yaml doctor      # degraded: one more failure stops etcd
  node bin/lifeboat.js lab kill cp3 --dir ${LAB_DIR}           # the incident: two members down together
  node bin/lifeboat.js -c ${LAB_DIR}/lifeboat.yaml doctor      # quorum lost, explained, with recovery plans
  node bin/lifeboat.js -c ${LAB_DIR}/lifeboat.yaml recover      # the plan it would run (add --yes to run it)
  node bin/lifeboat.js lab down --purge --dir ${LAB_DIR}       # stop and remove the lab`);
