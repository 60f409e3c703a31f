import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, runCli, runProgram } from '../helpers/cli.js';

/**
 * The single-file executables (ADR 011, scripts/build-sea.mjs) on a machine path without Node: the x64 one runs the
 * commands a control-plane host needs against a real lab (check, lab, doctor, backup etcd, verify, recover); the
 * arm64 one is an aarch64 ELF with the blob injected, and runs `check` under qemu-user where it is installed (CI
 * installs it, .ci/run).
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

    const healthy = await lifeboat(['-c', config, 'doctor']);
    expect(healthy.code, healthy.stderr).toBe(0);
    expect(healthy.stdout).toMatch(/^etcd is HEALTHY/);

    const backup = await lifeboat(['-c', config, '--json', 'backup', 'etcd', '--to', join(work, 'backups')]);
    expect(backup.code, backup.stderr).toBe(0);
    const snapshot = json<{ location: string }>(backup).location;
    expect(existsSync(snapshot)).toBe(true);

    const verify = await lifeboat(['-c', config, '--json', 'verify', snapshot]);
    expect(verify.code, verify.stderr).toBe(0);
    expect(json<{ ok: boolean }>(verify).ok).toBe(true);

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
