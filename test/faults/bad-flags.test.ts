import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command, Option } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli.js';
import { runCli } from '../helpers/cli.js';
import { type BatchResult, runCliBatch } from '../helpers/cli-batch.js';

/**
 * Issue 16, "keep the fault run": every option of every command (read from the commander definitions, so a new
 * option is in the corpus the day it is added) given bad values of its kind, a missing value, and bad endpoints;
 * every positional argument given bad values. No command line may crash, print a stack trace, hang past its deadline,
 * or say more than one line on stderr when it exits 2. Run in-process through the CLI entry (runCliBatch), so the
 * corpus costs seconds.
 */

/** Where nothing answers: a command that gets past its input fails fast (connection refused), it never waits. */
const NOWHERE = 'http://127.0.0.1:1';
const DEADLINE_MS = 20_000;

let dir: string;
let base: string[];
const paths = {
  missing: '',
  directory: '',
  file: '',
  binary: '',
  config: '',
};

/** Bad values for an option, by the name of its argument (`<file>`, `<duration>`...). */
function badValues(argument: string): string[] {
  const text = ['', ' ', '-', '\u0000', 'x'.repeat(5000), 'caf\u00e9\u202e'];
  const file = ['', paths.missing, paths.directory, '/dev/null', '/dev/zero', '/proc/self/mem', paths.binary];
  const dirs = ['', paths.missing + '/below', paths.file, '/dev/null', '/proc/1/nonexistent'];
  const duration = ['', '0', '-1s', '1ms', '999999999h', '1e309s', 'soon', '5 parsecs', '1s1x', 'NaN'];
  const count = ['', '-1', '1.5', '1e9', '9007199254740993', 'three', '0x10', 'Infinity'];
  const dest = ['', 's3://', 's3:///x', 'ftp://host/x', '/dev/null', `${paths.file}/below`, 'nfs://x', 's3://b/../..'];
  switch (argument) {
    case 'file':
      return file;
    case 'dir':
      return dirs;
    case 'dest':
      return dest;
    case 'duration':
    case 'range':
      return [...duration, '8s-2s', '2s-', '-'];
    case 'ms':
      return [...count, '99', '60001'];
    case 'n':
    case 'port':
      return [...count, '0', '65536', '70000'];
    case 'urls':
    case 'url':
      return [
        '',
        'ftp://a:21',
        ',,,',
        'http://[::1',
        'http://a:99999',
        'http://exa mple',
        'mysql://',
        'a'.repeat(3000),
      ];
    case 'zone':
      return ['', 'Mars/Olympus', '../../etc/passwd', 'UTC\u0000'];
    case 'iso':
    case 'revision|time':
      return ['', 'yesterday', '2026-13-45T99:99:99Z', '-5', '99999999999999999999999', '2026-02-30T00:00:00Z'];
    case 'age1...':
      return ['', 'age1xyz', 'AGE-SECRET-KEY-1QQQQ', 'ssh-rsa AAAA'];
    case 'host:port':
      return ['', 'nohost', ':99999', '1.2.3.4:-1', '[::1', 'a:b:c', '256.1.1.1:80'];
    case 'node=file':
      return ['', 'nofile', '=x', `a=${paths.missing}`, `a=${paths.directory}`, 'a=/dev/zero'];
    case 'ns/name/key':
    case 'ns/name':
      return ['', 'a', 'a/b/c/d', '/a/', 'A B/c/d', '../x/y'];
    case 'members':
      return ['', ',', 'nosuch', 'm1,,m1'];
    case 'shell':
      return ['', 'tcsh', 'bash;rm'];
    default:
      // names, free text, commands, choices: what any text option must survive
      return [...text, 'bogus'];
  }
}

/** What a command needs beside the option under test to get as far as using it, without running for ever. */
function contextOf(path: string[]): string[] {
  const command = path.join(' ');
  if (command === 'serve') return ['--listen', '127.0.0.1:0'];
  if (command === 'agent') return ['--node', 'a', '--once', '--dry-run'];
  if (command === 'backup etcd') return ['--to', join(dir, 'b')];
  if (['lab stop', 'lab kill', 'lab start', 'lab wipe'].includes(command)) return ['m1', '--dir', join(dir, 'nolab')];
  if (command.startsWith('lab ')) return ['--dir', join(dir, 'nolab')];
  if (command === 'maintain request' || command === 'maintain cancel') return ['a'];
  if (command === 'completion') return ['bash'];
  if (command === 'verify' || command === 'verify mysql') return ['--latest'];
  if (command === 'restore mysql') return ['--latest', '--source', 'db'];
  return [];
}

/** Options whose value names something that starts for real (a practice cluster): left to the lab tests. */
const RUNS_FOR_REAL = new Set(['lab up', 'lab drill']);

function argumentOf(option: Option): string | undefined {
  return /[<[]([^>\]]+)[>\]]/.exec(option.flags)?.[1];
}

function leaves(command: Command, path: string[] = []): Array<{ path: string[]; command: Command }> {
  const here = path.length > 0 && command.commands.length === 0 ? [{ path, command }] : [];
  if (path.length > 0 && command.commands.length > 0 && command.options.length > 0) here.push({ path, command });
  return [...here, ...command.commands.flatMap((c) => leaves(c, [...path, c.name()]))];
}

interface Case {
  what: string;
  argv: string[];
  /** The option's argument kind (`duration`, `n`...), or `choice`. */
  kind: string;
}

/** Kinds whose bad values no command may accept: each is refused with exit 2 before anything runs. */
const CHECKED_UP_FRONT = new Set(['duration', 'range', 'ms', 'n', 'port', 'zone', 'choice', 'iso', 'host:port']);

function corpus(program: Command): Case[] {
  const cases: Case[] = [];
  // Global options, in front of a command that uses them all.
  for (const option of program.options) {
    const argument = argumentOf(option);
    if (!argument) continue;
    for (const value of badValues(argument === 'urls' ? 'urls' : argument)) {
      cases.push({
        what: `${option.long} ${JSON.stringify(value)}`,
        argv: [option.long!, value, 'status'],
        kind: argument,
      });
    }
  }
  for (const { path, command } of leaves(program)) {
    if (RUNS_FOR_REAL.has(path.join(' '))) {
      // Only numbers that no reading may take: one accepted would start a practice cluster.
      for (const option of command.options.filter((o) => ['n', 'port'].includes(argumentOf(o) ?? ''))) {
        for (const value of ['', '-1', '1.5', '0x10', '1e1', 'three', 'Infinity', '9007199254740993']) {
          cases.push({
            what: `${path.join(' ')} ${option.long} ${JSON.stringify(value)}`,
            argv: [...path, '--dir', join(dir, 'lab'), option.long!, value],
            kind: 'n',
          });
        }
      }
      continue;
    }
    const context = contextOf(path);
    for (const option of command.options) {
      const argument = argumentOf(option);
      if (!argument || option.long === '--help') continue;
      const values = option.argChoices ? ['', 'bogus', option.argChoices.join(',')] : badValues(argument);
      for (const value of values) {
        cases.push({
          what: `${path.join(' ')} ${option.long} ${JSON.stringify(value).slice(0, 40)}`,
          argv: [...base, ...path, ...context, option.long!, value],
          kind: option.argChoices ? 'choice' : argument,
        });
      }
      // The value left out: the option is last.
      cases.push({
        what: `${path.join(' ')} ${option.long} (no value)`,
        argv: [...base, ...path, ...context, option.long!],
        kind: 'choice',
      });
    }
    for (const argument of command.registeredArguments) {
      const rest = context.filter((word, i) => i > 0 || !['m1', 'a', 'bash'].includes(word));
      for (const value of badValues(argument.name())) {
        cases.push({
          what: `${path.join(' ')} <${argument.name()}> ${JSON.stringify(value).slice(0, 40)}`,
          argv: [...base, ...path, value, ...rest],
          kind: argument.name(),
        });
      }
    }
  }
  return cases;
}

let cases: Case[];
let results: BatchResult[];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lifeboat-fault-flags-'));
  paths.missing = join(dir, 'missing');
  paths.directory = join(dir, 'a-directory');
  mkdirSync(paths.directory);
  paths.file = join(dir, 'a-file');
  writeFileSync(paths.file, 'not a directory\n');
  paths.binary = join(dir, 'binary');
  writeFileSync(paths.binary, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 131) % 256)));
  paths.config = join(dir, 'lifeboat.yaml');
  writeFileSync(
    paths.config,
    `etcd: { endpoints: [${NOWHERE}] }
nodes:
  - { name: a, roles: [etcd, control-plane] }
backups: { to: [${join(dir, 'b')}] }
databases:
  - { name: db, url: "mysql://backup@127.0.0.1:1/app", passwordFile: ${join(dir, 'pw')} }
`,
  );
  writeFileSync(join(dir, 'pw'), 'secret\n', { mode: 0o600 });
  base = ['-c', paths.config];
  cases = corpus(await buildProgram([]));
  results = await runCliBatch(
    cases.map((c) => c.argv),
    { cwd: dir, deadlineMs: DEADLINE_MS, env: { KUBECONFIG: join(dir, 'no-kubeconfig') } },
  );
}, 600_000);
afterAll(async () => {
  // Only if a bad number was taken and a lab started: stop it before removing its directory.
  if (dir && existsSync(join(dir, 'lab'))) await runCli(['lab', 'down', '--dir', join(dir, 'lab'), '--purge']);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('every flag of every command, given bad values', () => {
  it('covers every option of every command', () => {
    writeFileSync(
      '/tmp/safety-flags.json',
      JSON.stringify(
        results.map((r, i) => ({ what: cases[i]!.what, ...r })),
        null,
        1,
      ),
    );
    expect(cases.length).toBeGreaterThan(500);
    expect(results).toHaveLength(cases.length);
  });

  it('no command line crashes, prints a stack trace or hangs, and exit 2 is one line', () => {
    const bad: string[] = [];
    results.forEach((r, i) => {
      const what = cases[i]!.what;
      const lines = r.stderr.trimEnd().split('\n');
      if (r.code === 'hung') bad.push(`${what}: still running after ${DEADLINE_MS} ms`);
      else if (r.code === 'crash') bad.push(`${what}: crashed: ${r.stderr.slice(0, 300)}`);
      else if (/\n\s+at /.test(r.stderr)) bad.push(`${what}: stack trace: ${r.stderr.slice(0, 300)}`);
      else if (/run again with --debug/.test(r.stderr)) bad.push(`${what}: unexpected error: ${lines[0]}`);
      else if (r.code === 2 && (lines.length !== 1 || !lines[0]!.startsWith('lifeboat: error: ')))
        bad.push(`${what}: exit 2 with ${lines.length} lines: ${r.stderr.slice(0, 300)}`);
    });
    expect(bad).toEqual([]);
  });

  it('a bad number, duration, zone, time, address or choice is refused up front (exit 2), whatever the command', () => {
    // Found by this corpus: `check --days 0x10` ran for 16 days, `lab up --members 0x3` started a lab, `backup etcd --verify-every ""` and `--seal-every`
    // without --every/--follow were ignored, `serve --timezone ""`, `--probe-interval 999999999h` (a timer past 2^31
    // ms fires at once: probing in a tight loop) and a --listen host that does not resolve (exit 1) were accepted.
    const accepted = cases
      .map((c, i) => ({ c, r: results[i]! }))
      .filter(({ c, r }) => CHECKED_UP_FRONT.has(c.kind) && r.code !== 2)
      .map(({ c, r }) => `${c.what}: exit ${r.code}: ${(r.stderr || r.stdout).split('\n')[0]}`);
    expect(accepted).toEqual([]);
  });

  it('a file that never ends (/dev/zero) or is not one is refused, never read until the heap runs out', () => {
    // Found by this corpus: --kubeconfig /dev/zero (status, agent, init, backup helm) and restore etcd --identity
    // /dev/zero hung reading, as would an etcd or MySQL password file; serve took any --identity and failed later.
    const outcome = (what: string) => {
      const i = cases.findIndex((c) => c.what === what);
      expect(i, what).toBeGreaterThanOrEqual(0);
      return results[i]!;
    };
    for (const what of [
      'agent --kubeconfig "/dev/zero"',
      'backup helm --kubeconfig "/dev/zero"',
      'restore etcd --identity "/dev/zero"',
      'serve --identity "/dev/zero"',
    ]) {
      expect(outcome(what).stderr, what).toMatch(/^lifeboat: error: cannot read .* \/dev\/zero: a device, not a file/);
    }
    const serveIdentity = cases.flatMap((c, i) => (c.what.startsWith('serve --identity') ? [results[i]!] : []));
    expect(serveIdentity.length).toBeGreaterThan(5);
    for (const r of serveIdentity) expect(r.code, r.argv.join(' ')).toBe(2);
  });
});
