import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli.js';
import { expectOneLineUsageError, json, runCli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'lifeboat-completion-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What bash's completion offers for a command line whose last word is being typed. */
function bashCompletes(script: string, words: string[]): string[] {
  const file = join(dir, 'lifeboat.bash');
  writeFileSync(file, script);
  const array = words.map((w) => `'${w}'`).join(' ');
  const run = spawnSync(
    'bash',
    [
      '-c',
      `source ${file}; COMP_WORDS=(${array}); COMP_CWORD=${words.length - 1}; _lifeboat_complete; printf '%s\\n' "\${COMPREPLY[@]}"`,
    ],
    { encoding: 'utf8' },
  );
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  return run.stdout.split('\n').filter(Boolean);
}

describe('lifeboat completion', () => {
  it('bash completes the real top-level commands and the subcommands of each group', async () => {
    const result = await runCli(['completion', 'bash']);
    expect(result.code).toBe(0);
    const program = await buildProgram([]);
    const topLevel = program.commands.map((c) => c.name());
    expect(topLevel).toEqual(expect.arrayContaining(['doctor', 'check', 'backup', 'version', 'completion']));
    expect(
      bashCompletes(result.stdout, ['lifeboat', ''])
        .filter((w) => !w.startsWith('-'))
        .sort(),
    ).toEqual([...topLevel].sort());
    const backup = program.commands.find((c) => c.name() === 'backup')!;
    expect(
      bashCompletes(result.stdout, ['lifeboat', '-c', 'x.yaml', 'backup', '']).filter((w) => !w.startsWith('-')),
    ).toEqual(backup.commands.map((c) => c.name()));
    expect(bashCompletes(result.stdout, ['lifeboat', 'doc'])).toEqual(['doctor']);
    expect(bashCompletes(result.stdout, ['lifeboat', 'doctor', '--ti'])).toEqual(['--timeout']);
    expect(bashCompletes(result.stdout, ['lifeboat', 'completion', ''])).toEqual(
      expect.arrayContaining(['bash', 'zsh', 'fish']),
    );
    // After an option that takes a value, words give way to file names.
    expect(bashCompletes(result.stdout, ['lifeboat', '-c', ''])).toEqual([]);
  });

  it('zsh and fish scripts name every top-level command; an unknown shell is bad input', async () => {
    const program = await buildProgram([]);
    for (const shell of ['zsh', 'fish']) {
      const result = await runCli(['completion', shell]);
      expect(result.code).toBe(0);
      for (const c of program.commands) expect(result.stdout).toContain(c.name());
    }
    const syntax = spawnSync('bash', ['-n'], { input: (await runCli(['completion', 'bash'])).stdout });
    expect(syntax.status).toBe(0);
    expectOneLineUsageError(await runCli(['completion', 'tcsh']), /tcsh/);
  });
});

describe('root help', () => {
  it('points at the configuration reference', async () => {
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('docs/CONFIG.md');
  });
});

describe('lifeboat version', () => {
  it('says the version, commit, node and platform, also as JSON', async () => {
    const text = await runCli(['version']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^lifeboat \d+\.\d+\.\d+/);
    expect(text.stdout).toContain(process.version);
    const report = json<{ version: string; commit: string | null; node: string; platform: string; arch: string }>(
      await runCli(['version', '--json']),
    );
    expect(report.node).toBe(process.version);
    expect(report.platform).toBe(process.platform);
    expect(report.arch).toBe(process.arch);
    const head = spawnSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' });
    // Built from this checkout (test/global-setup.ts builds it): the commit is the checkout's, when git knows one.
    if (head.status === 0) expect(report.commit).toBe(head.stdout.trim());
    expect(report.version).toBe((await runCli(['-V'])).stdout.trim());
  });
});
