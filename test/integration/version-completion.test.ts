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

  it('zsh registers the completion and completes subcommands as its bashcompinit runs it', async () => {
    const script = join(dir, 'lifeboat.zsh');
    writeFileSync(script, (await runCli(['completion', 'zsh'])).stdout);
    // _bash_complete (zsh's bashcompinit) runs the function under `emulate -L sh` with these options; compadd exists
    // only inside a completion widget, so the function is called the same way and COMPREPLY read back.
    const run = spawnSync(
      'zsh',
      [
        '-f',
        '-c',
        `autoload -U compinit && compinit -u -D; source ${script}; print -r -- "$_comps[lifeboat]";
         emulate -L sh; setopt kshglob noshglob braceexpand;
         COMP_WORDS=(lifeboat -c x.yaml backup ''); COMP_CWORD=4; _lifeboat_complete; print -l -- "\${COMPREPLY[@]}"`,
      ],
      { encoding: 'utf8' },
    );
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const [registered, ...words] = run.stdout.split('\n').filter(Boolean);
    expect(registered).toMatch(/_bash_complete .*-F _lifeboat_complete/);
    const backup = (await buildProgram([])).commands.find((c) => c.name() === 'backup')!;
    expect(words.filter((w) => !w.startsWith('-'))).toEqual(backup.commands.map((c) => c.name()));
  });

  it('fish completes commands, subcommands and options from its script', async () => {
    const script = join(dir, 'lifeboat.fish');
    writeFileSync(script, (await runCli(['completion', 'fish'])).stdout);
    const complete = (line: string) => {
      const run = spawnSync('fish', ['-N', '-c', `source ${script}; complete -C '${line}'`], { encoding: 'utf8' });
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      return run.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split('\t')[0]);
    };
    const program = await buildProgram([]);
    expect(complete('lifeboat ').sort()).toEqual(program.commands.map((c) => c.name()).sort());
    const backup = program.commands.find((c) => c.name() === 'backup')!;
    expect(complete('lifeboat backup ').sort()).toEqual(backup.commands.map((c) => c.name()).sort());
    expect(complete('lifeboat doc')).toEqual(['doctor']);
    expect(complete('lifeboat doctor --ti')).toEqual(['--timeout']);
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
    const zsh = spawnSync('zsh', ['-n'], { input: (await runCli(['completion', 'zsh'])).stdout, encoding: 'utf8' });
    expect(zsh.status, zsh.stderr).toBe(0);
    const fishScript = join(dir, 'syntax.fish');
    writeFileSync(fishScript, (await runCli(['completion', 'fish'])).stdout);
    const fish = spawnSync('fish', ['--no-execute', fishScript], { encoding: 'utf8' });
    expect(fish.status, fish.stderr).toBe(0);
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
