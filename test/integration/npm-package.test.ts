import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runProgram } from '../helpers/cli.js';

/**
 * The npm tarball (`npm pack`) is a way to install Lifeboat where Node >= 20 is: it must hold the bundle and the
 * launcher and nothing of the development tree (sources, tests, the 100 MB single-file executables), and once
 * installed with `npm install --global` the `lifeboat` it puts on the PATH must run.
 */

const root = resolve(import.meta.dirname, '../..');
const work = mkdtempSync(join(tmpdir(), 'lifeboat-npm-package-'));

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('npm pack tarball', () => {
  it('holds the launcher and the bundle only, and installs a working lifeboat', async () => {
    // --ignore-scripts: `npm test` has just built dist/ (prepack would build it again).
    const pack = spawnSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(pack.status, pack.stderr).toBe(0);
    const [packed] = JSON.parse(pack.stdout) as { filename: string; files: { path: string }[] }[];
    const { filename, files } = packed!;
    const paths = files.map((f) => f.path);
    expect(paths).toContain('bin/lifeboat.js');
    expect(paths).toContain('dist/bundle/lifeboat.cjs');
    expect(paths).toContain('package.json');
    expect(paths.filter((p) => /^(src|test|scripts|dist\/sea)\/|\.map$/.test(p))).toEqual([]);

    const prefix = join(work, 'prefix');
    const install = spawnSync(
      'npm',
      ['install', '--global', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', join(work, filename)],
      { encoding: 'utf8', timeout: 300_000 },
    );
    expect(install.status, install.stderr).toBe(0);
    const lifeboat = join(prefix, 'bin', 'lifeboat');
    const version = await runProgram(lifeboat, ['--version']);
    expect(version.stdout.trim()).toBe(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version);
    const check = await runProgram(lifeboat, ['-c', join(root, 'examples/incident.yaml'), 'check']);
    expect(check.code).toBe(1);
    expect(check.stdout).toMatch(/ERROR quorum-loss: cp1 and cp2/);
  }, 360_000);
});
