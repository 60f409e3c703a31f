import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { expectOneLineUsageError, runCli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'lifeboat-bad-input-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** Every case must fail with exactly one line on stderr, exit 2, and no stack trace. */
const cases: Array<[string, () => string[], RegExp]> = [
  [
    'malformed YAML',
    () => ['-c', file('bad.yaml', 'etcd:\n  endpoints: [http://a:2379\n'), 'status'],
    /bad\.yaml:\d+:\d+: invalid YAML/,
  ],
  [
    'unknown key',
    () => ['-c', file('typo.yaml', 'etcd:\n  endpoint: [http://a:2379]\n'), 'doctor'],
    /typo\.yaml:2:3: etcd: unknown key "endpoint"/,
  ],
  [
    'bad URL in config',
    () => ['-c', file('url.yaml', 'etcd:\n  endpoints: [ftp://a:21]\n'), 'doctor'],
    /url\.yaml:2:15: etcd\.endpoints\[0\]: not an etcd client URL/,
  ],
  [
    'bad URL flag',
    () => ['--endpoints', 'http://exa mple:2379', 'status'],
    /invalid endpoint "http:\/\/exa mple:2379"/,
  ],
  [
    'missing config file',
    () => ['-c', join(dir, 'nope.yaml'), 'status'],
    /cannot read config .*nope\.yaml: no such file/,
  ],
  [
    'missing cert file',
    () => ['--endpoints', 'https://127.0.0.1:1', '--cacert', join(dir, 'ca.crt'), 'doctor'],
    /cannot read .*ca\.crt: no such file/,
  ],
  ['unknown flag', () => ['doctor', '--frobnicate'], /unknown option '--frobnicate'/],
  ['unknown command', () => ['doctr'], /unknown command 'doctr'.*Did you mean doctor\?/],
  [
    'password on the command line',
    () => ['--user', 'root:secret', 'status'],
    /refusing a password on the command line/,
  ],
  ['bad timeout', () => ['doctor', '--timeout', 'soon'], /--timeout must be milliseconds/],
];

describe('bad input gets one clear line and exit 2', () => {
  it.each(cases)('%s', async (_name, args, message) => {
    expectOneLineUsageError(await runCli(args()), message);
  });

  it('--debug adds the stack trace', async () => {
    const result = await runCli(['--debug', '-c', join(dir, 'nope.yaml'), 'status']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/\n\s+at /);
  });

  it('help has examples and exits 0', async () => {
    for (const args of [['--help'], ['doctor', '--help'], ['status', '--help']]) {
      const result = await runCli(args);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/Examples:/);
    }
  });
});

describe('only the command being run is loaded', () => {
  it('finds the command name past global options and their values', async () => {
    const { commandNameOf } = await import('../../src/cli.js');
    expect(commandNameOf(['node', 'lifeboat', '-c', 'x.yaml', '--json', 'check', '--days', '3'])).toBe('check');
    expect(commandNameOf(['node', 'lifeboat', '--endpoints', 'a:1', 'status'])).toBe('status');
    expect(commandNameOf(['node', 'lifeboat', '--json'])).toBeUndefined();
  });

  it('every command is still listed in the top-level help', async () => {
    const help = await runCli(['--help']);
    for (const name of [
      'status',
      'doctor',
      'check',
      'lab',
      'recover',
      'backup',
      'verify',
      'prune',
      'restore',
      'agent',
      'maintain',
      'serve',
      'guide',
    ]) {
      expect(help.stdout).toMatch(new RegExp(`\\n  ${name}\\b`));
    }
  });
});
