import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../src/adapters/proc/wait.js';
import { json, runCli, runProgram } from '../helpers/cli.js';
import { startS3 } from '../helpers/s3.js';

/**
 * The single-file executables (ADR 011, scripts/build-sea.mjs) on a machine path without Node: the x64 one runs the
 * commands a control-plane host needs against a real lab (check, lab, doctor, backup etcd, verify, recover); the
 * arm64 one is an aarch64 ELF with the blob injected, and runs `check` under qemu-user where it is installed (CI
 * installs it, .ci/run). Then the container image built from it (scripts/build-image.sh: mmdebstrap + umoci, no
 * registry, no container engine): its rootfs, unpacked by umoci, runs the image's own entrypoint with chroot in new
 * mount and PID namespaces (this VM cannot run containers) and `lifeboat doctor` answers about the lab.
 */

const root = resolve(import.meta.dirname, '../..');
const sea = (arch: string) => join(root, 'dist/sea', `lifeboat-linux-${arch}`);
const work = mkdtempSync(join(tmpdir(), 'lifeboat-sea-'));
const labDir = join(work, 'lab');
const config = join(labDir, 'lifeboat.yaml');
const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version as string;
const QEMU_ARM64_LIBS = '/usr/aarch64-linux-gnu';

/** A PATH with the tools Lifeboat runs (sh, etcd, etcdctl, etcdutl) and nothing else: no node. */
function nodeFreePath(): string {
  const bin = join(work, 'bin');
  mkdirSync(bin);
  for (const tool of ['sh', 'etcd', 'etcdctl', 'etcdutl']) {
    const found = which(tool);
    if (found !== undefined) symlinkSync(found, join(bin, tool));
  }
  return bin;
}

function which(tool: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir !== '' && existsSync(join(dir, tool))) return join(dir, tool);
  }
  return undefined;
}

let env: NodeJS.ProcessEnv;
const lifeboat = (args: string[], timeoutMs = 120_000) => runProgram(sea('x64'), args, { env, timeoutMs });

beforeAll(() => {
  // Always from this checkout's dist/ (npm test has just built it): the executables must carry today's code.
  const build = spawnSync(process.execPath, ['scripts/build-sea.mjs', 'x64', 'arm64'], { cwd: root, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`build-sea failed: ${build.stdout}${build.stderr}`);
  env = { PATH: nodeFreePath(), HOME: join(work, 'home') };
  const nodeOnPath = spawnSync('sh', ['-c', 'command -v node'], { env: { PATH: env.PATH } });
  expect(nodeOnPath.status, 'the test PATH must not have node on it').not.toBe(0);
}, 600_000);

afterAll(async () => {
  if (existsSync(config)) await runCli(['lab', 'down', '--purge', '--dir', labDir]);
  rmSync(work, { recursive: true, force: true });
});

describe('single-file executable, linux-x64, without node on the PATH', () => {
  it('knows its version and runs check on the incident schedule', async () => {
    const v = await lifeboat(['--version']);
    expect(v.stdout.trim()).toBe(version);
    const check = await lifeboat(['-c', join(root, 'examples/incident.yaml'), 'check']);
    expect(check.code).toBe(1);
    expect(check.stdout).toMatch(/ERROR quorum-loss: cp1 and cp2/);
  });

  it('starts a lab, diagnoses it, backs it up, verifies the backup and recovers from two lost members', async () => {
    const up = await lifeboat(['lab', 'up', '--dir', labDir, '--keys', '500']);
    expect(up.code, up.stderr).toBe(0);

    // Into the lab's own backups.to, and verified: doctor counts a missing verified backup as a finding.
    const backup = await lifeboat(['-c', config, '--json', 'backup', 'etcd']);
    expect(backup.code, backup.stderr).toBe(0);
    const snapshot = json<{ location: string }>(backup).location;
    expect(existsSync(snapshot)).toBe(true);

    const verify = await lifeboat(['-c', config, '--json', 'verify', '--latest']);
    expect(verify.code, verify.stderr).toBe(0);
    expect(json<{ ok: boolean }>(verify).ok).toBe(true);

    const healthy = await lifeboat(['-c', config, 'doctor']);
    expect(healthy.code, healthy.stdout + healthy.stderr).toBe(0);
    expect(healthy.stdout).toMatch(/^etcd is HEALTHY/);

    for (const member of ['cp2', 'cp3'])
      expect((await lifeboat(['lab', 'kill', member, '--dir', labDir])).code).toBe(0);
    const lost = await lifeboat(['-c', config, 'doctor']);
    expect(lost.code).toBe(3);
    expect(lost.stdout).toMatch(/QUORUM-LOST/);

    const recover = await lifeboat(['-c', config, 'recover', '--yes']);
    expect(recover.code, recover.stdout + recover.stderr).toBe(0);
    expect(recover.stdout).toMatch(/Data loss: none/);
    const back = await lifeboat(['-c', config, 'doctor']);
    expect(back.code, back.stdout).toBe(0);

    // Total loss: every disk gone; the snapshot taken above brings the cluster back.
    for (const member of ['cp1', 'cp2', 'cp3']) {
      expect((await lifeboat(['lab', 'kill', member, '--dir', labDir])).code).toBe(0);
      expect((await lifeboat(['lab', 'wipe', member, '--dir', labDir])).code).toBe(0);
    }
    const restored = await lifeboat(['-c', config, 'recover', '--plan', 'snapshot', '--snapshot', snapshot, '--yes']);
    expect(restored.code, restored.stdout + restored.stderr).toBe(0);
    const status = await lifeboat(['-c', config, '--json', 'status']);
    expect(json<{ state: string }>(status).state).toBe('healthy');
  }, 300_000);

  it('runs the follower (backup etcd --follow) in its small-heap worker thread, and stops it on SIGTERM', async () => {
    const logDir = join(work, 'follow');
    const child = spawn(sea('x64'), ['-c', config, 'backup', 'etcd', '--follow', '--to', logDir], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      // The worker runs the program's embedded script: a chain begins (base snapshot, then the watch).
      await waitFor('the follower to begin a chain', async () => /chain-started/.test(out) || child.exitCode !== null, {
        timeoutMs: 60_000,
      });
      expect(child.exitCode, out).toBeNull();
      child.kill('SIGTERM'); // relayed by the main thread to the worker, whose own handler stops the follower
      expect(await exited, out).toBe(0);
      expect(out).toMatch(/stopped; chain \S+ durable up to revision \d+/);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 120_000);
});

describe('single-file executable, linux-x64: the libraries loaded on demand (AWS SDK, typage)', () => {
  it('backs the lab up to S3 age-encrypted, and verifies that backup from S3 with the identity', async () => {
    const s3 = await startS3('lifeboat-sea');
    try {
      const key = join(work, 'age.key');
      execFileSync('age-keygen', ['-o', key], { stdio: 'ignore' });
      const recipient = execFileSync('age-keygen', ['-y', key], { encoding: 'utf8' }).trim();
      const endpoints = readFileSync(config, 'utf8').match(/http:\/\/127\.0\.0\.1:\d+/g) ?? [];
      const s3Config = join(work, 's3.yaml');
      writeFileSync(
        s3Config,
        `etcd: { endpoints: [${endpoints.join(', ')}] }
backups:
  to: [s3://${s3.bucket}/etcd]
  s3: { endpoint: "${s3.endpoint}", forcePathStyle: true }
  encryption: { recipients: [${recipient}] }
`,
      );
      const s3Env = { ...env, ...s3.env };
      const backup = await runProgram(sea('x64'), ['-c', s3Config, '--json', 'backup', 'etcd'], { env: s3Env });
      expect(backup.code, backup.stderr).toBe(0);
      expect(json<{ location: string }>(backup).location).toMatch(/^s3:\/\/lifeboat-sea\/etcd\/.*\.age$/);
      const verify = await runProgram(sea('x64'), ['-c', s3Config, '--json', 'verify', '--latest', '--identity', key], {
        env: s3Env,
        timeoutMs: 120_000,
      });
      expect(verify.code, verify.stdout + verify.stderr).toBe(0);
      expect(json<{ ok: boolean }>(verify).ok).toBe(true);
    } finally {
      await s3.stop();
    }
  }, 240_000);
});

describe('single-file executable, linux-arm64', () => {
  it('is an aarch64 ELF executable carrying the blob with the CLI', () => {
    const file = readFileSync(sea('arm64'));
    expect(file.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
    expect(file[4]).toBe(2); // 64-bit
    expect(file.readUInt16LE(18)).toBe(183); // e_machine EM_AARCH64
    // Node flips its fuse from :0 to :1 when a blob is injected, and the blob holds the bundled script as text.
    expect(file.includes('NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2:1')).toBe(true);
    expect(file.includes(readFileSync(join(root, 'dist/sea/lifeboat.cjs')))).toBe(true);
  });

  const qemu = which('qemu-aarch64');
  it.skipIf(qemu === undefined || !existsSync(QEMU_ARM64_LIBS))(
    'runs check under qemu-user (skipped without qemu-user and the arm64 C++ runtime: .ci/run installs them)',
    async () => {
      const check = await runProgram(
        qemu as string,
        ['-L', QEMU_ARM64_LIBS, sea('arm64'), '-c', join(root, 'examples/incident.yaml'), 'check'],
        { env, timeoutMs: 180_000 },
      );
      expect(check.code, check.stderr).toBe(1);
      expect(check.stdout).toMatch(/ERROR quorum-loss: cp1 and cp2/);
    },
    200_000,
  );
});

const imageTools = ['mmdebstrap', 'umoci', 'unshare', 'chroot'].filter((tool) => which(tool) === undefined);

describe.skipIf(imageTools.length > 0 || process.getuid?.() !== 0)(
  `container image (skipped without root or ${imageTools.join(', ') || 'nothing'}: .ci/run installs them)`,
  () => {
    it('builds with Debian tools only, and its rootfs runs lifeboat doctor against the lab', async () => {
      const build = spawnSync('bash', ['scripts/build-image.sh', 'x64'], { cwd: root, encoding: 'utf8' });
      expect(build.status, build.stdout + build.stderr).toBe(0);
      const tag = `${version}-linux-x64`;
      expect(existsSync(join(root, 'dist/image', `lifeboat-${tag}.oci.tar`))).toBe(true);

      const bundle = join(work, 'bundle');
      const unpack = spawnSync('umoci', ['unpack', '--image', `${join(root, 'dist/image/oci')}:${tag}`, bundle], {
        encoding: 'utf8',
      });
      expect(unpack.status, unpack.stderr).toBe(0);
      // What a container runtime would run: the image's entrypoint, with our arguments instead of its default --help.
      const runtime = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8')) as { process: { args: string[] } };
      const entrypoint = runtime.process.args.slice(0, -1);
      expect(entrypoint).toEqual(['/usr/bin/tini', '--', '/usr/local/bin/lifeboat']);
      const rootfs = join(bundle, 'rootfs');
      expect(existsSync(join(rootfs, 'usr/bin/etcd')), 'the image carries etcd for restore drills').toBe(true);
      const inImage = (args: string[]) =>
        runProgram(
          'unshare',
          [
            '--mount',
            '--pid',
            '--fork',
            `--mount-proc=${join(rootfs, 'proc')}`,
            'sh',
            '-c',
            // /dev from the host (the image has none); exec: tini is PID 1 of the new PID namespace.
            'mount --rbind /dev "$0/dev" && exec chroot "$0" "$@"',
            rootfs,
            ...entrypoint,
            ...args,
          ],
          { env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' }, timeoutMs: 60_000 },
        );
      const v = await inImage(['--version']);
      expect(v.stdout.trim(), v.stderr).toBe(version);
      const endpoint = readFileSync(config, 'utf8').match(/http:\/\/127\.0\.0\.1:\d+/)?.[0];
      expect(endpoint).toBeDefined();
      const doctor = await inImage(['--endpoints', endpoint as string, 'doctor']);
      expect(doctor.code, doctor.stdout + doctor.stderr).toBe(0);
      expect(doctor.stdout).toMatch(/^etcd is HEALTHY: 3 of 3 voting members answer/);
    }, 1_200_000);
  },
);
