import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, it } from 'vitest';
import { expectOneLineUsageError, runCli } from '../helpers/cli.js';

/**
 * Issue 16 findings 1 and 6, through the real CLI: input that used to exhaust the heap, echo binary bytes over several
 * lines, or be accepted and then misbehave is one clear line on stderr and exit 2.
 */

const dir = mkdtempSync(join(tmpdir(), 'lifeboat-fault-input-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function config(name: string, text: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('bad input is one line and exit 2', { timeout: 120_000 }, () => {
  it('a retention policy that keeps nothing (it pruned the only backup on every run)', async () => {
    const c = config('keep0.yaml', 'backups:\n  to: [./b]\n  retention: { keepLast: 0 }\n');
    expectOneLineUsageError(await runCli(['-c', c, 'backup', 'etcd']), /this policy keeps no backup at all/);
  });

  it('a downtime of 999999999h, in the config and as a flag (it exhausted the heap)', async () => {
    const c = config(
      'down.yaml',
      'nodes:\n  - { name: a, roles: [etcd], reboot: [{ cron: "0 4 * * *", downtime: 999999999h }] }\n',
    );
    expectOneLineUsageError(await runCli(['-c', c, 'check']), /downtime: out of range: between 1s and 7d/);
    const crontab = config('crontab', '0 4 * * * root /sbin/reboot\n');
    expectOneLineUsageError(
      await runCli(['check', '--downtime', '999999999h', '--crontab', `a=${crontab}`]),
      /invalid --downtime "999999999h" \(between 1s and 7d/,
    );
  });

  it('a binary file as the config: its bytes escaped, on one line', async () => {
    const c = config('binary.yaml', readFileSync(process.execPath).subarray(0, 400));
    const res = await runCli(['-c', c, 'doctor']);
    expectOneLineUsageError(res, /\\x7fELF\\x02/);
  });

  it('--every 1ms', async () => {
    expectOneLineUsageError(
      await runCli(['--endpoints', 'http://127.0.0.1:1', 'backup', 'etcd', '--to', dir, '--every', '1ms']),
      /--every needs a duration between 1s and 366d/,
    );
  });
});
