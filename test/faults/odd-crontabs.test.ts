import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BatchResult, runCliBatch } from '../helpers/cli-batch.js';

/**
 * Issue 16, "keep the fault run": odd crontabs, as people and generators write them (out-of-range fields, Quartz and
 * seconds syntax, names, @-macros, CRON_TZ/TZ/RANDOM_DELAY lines, CRLF, tabs, a BOM, NUL bytes, huge lines, reboot
 * lines that never fire or fire every minute). `lifeboat check --crontab` must answer each one without a crash, a
 * stack trace or a hang: exit 2 with one line naming file:line, or a report in which the odd line is accounted for
 * (a reboot source, a finding, or a job it ignores, by line number): never silently dropped.
 */

const REBOOT = 'root /sbin/reboot';
/** [what, crontab text, the line (1-based) that must be accounted for]. */
const CRONTABS: Array<[string, string, number]> = [
  ['a day that never comes (Feb 30)', `0 4 30 2 * ${REBOOT}\n`, 1],
  ['step 0', `*/0 4 * * * ${REBOOT}\n`, 1],
  ['a reversed range', `5-1 4 * * * ${REBOOT}\n`, 1],
  ['day of week 8', `0 4 * * 8 ${REBOOT}\n`, 1],
  ['month 13', `0 4 * 13 * ${REBOOT}\n`, 1],
  ['minute 60', `60 4 * * * ${REBOOT}\n`, 1],
  ['hour 24', `0 24 * * * ${REBOOT}\n`, 1],
  ['day names', `0 4 * * MON-FRI ${REBOOT}\n`, 1],
  ['month names', `0 4 1 JAN-DEC * ${REBOOT}\n`, 1],
  ['Sunday as 7 and 0', `0 4 * * 0,7 ${REBOOT}\n`, 1],
  ['@weekly', `@weekly ${REBOOT}\n`, 1],
  ['@annually with shutdown -r', '@annually root /sbin/shutdown -r now\n', 1],
  ['@reboot that reboots (a boot loop)', `@reboot ${REBOOT}\n`, 1],
  ['@every (not cron)', `@every 1h ${REBOOT}\n`, 1],
  ['Quartz L', `0 4 L * * ${REBOOT}\n`, 1],
  ['Quartz ?', `0 4 ? * MON ${REBOOT}\n`, 1],
  ['six fields (seconds)', `0 0 4 * * * ${REBOOT}\n`, 1],
  ['CRLF line ends', `SHELL=/bin/sh\r\n0 4 * * * ${REBOOT}\r\n`, 2],
  ['tabs between fields', `0\t4\t*\t*\t*\troot\t/sbin/reboot\n`, 1],
  ['a user crontab (no user field)', '0 4 * * * /sbin/reboot\n', 1],
  ['CRON_TZ of a real zone', `CRON_TZ=Asia/Tokyo\n0 4 * * * ${REBOOT}\n`, 2],
  ['CRON_TZ of no zone', `CRON_TZ=Mars/Olympus\n0 4 * * * ${REBOOT}\n`, 1],
  ['RANDOM_DELAY (cronie)', `RANDOM_DELAY=30\n0 4 * * * ${REBOOT}\n`, 2],
  ['a shell-made delay', `0 4 * * * root sleep $((RANDOM % 3600)) && /sbin/reboot\n`, 1],
  ['systemctl reboot --force', '0 4 * * * root systemctl reboot --force\n', 1],
  ['a power-off, not a reboot', '0 4 * * * root shutdown -h now\n', 1],
  ['a trailing comment', `0 4 * * * ${REBOOT} # weekly\n`, 1],
  ['a UTF-8 BOM', `\ufeff0 4 * * * ${REBOOT}\n`, 1],
  ['a NUL byte in the line', `0 4 * * * root /sbin/re\u0000boot\n`, 1],
  ['a 100 KB line', `0 4 * * * root ${'x'.repeat(100_000)} && /sbin/reboot\n`, 1],
  ['every minute', `* * * * * ${REBOOT}\n`, 1],
  ['all 60 minutes listed', `${Array.from({ length: 60 }, (_, i) => i).join(',')} * * * * ${REBOOT}\n`, 1],
  ['odd days, stepped range', `0 4 1-31/2 * * ${REBOOT}\n`, 1],
  ['nothing but a comment', '# 0 4 * * * root /sbin/reboot\n', 0],
  ['an empty file', '', 0],
  ['binary junk', '\u0001\u0002\u0003\u00ff\u00fe\n', 1],
];

let dir: string;
let results: BatchResult[];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lifeboat-fault-crontabs-'));
  const config = join(dir, 'lifeboat.yaml');
  writeFileSync(
    config,
    'nodes:\n  - { name: a, roles: [etcd] }\n  - { name: b, roles: [etcd] }\n  - { name: c, roles: [etcd] }\n',
  );
  const argv = CRONTABS.map(([, text], i) => {
    const file = join(dir, `ct${i}`);
    writeFileSync(file, text);
    return ['-c', config, '--json', 'check', '--days', '400', '--crontab', `a=${file}`];
  });
  results = await runCliBatch(argv, { cwd: dir, deadlineMs: 20_000 });
}, 120_000);
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('odd crontabs', () => {
  it.each(CRONTABS.map((c, i) => [c[0], i] as const))('%s', (_what, i) => {
    const r = results[i]!;
    const file = `ct${i}`;
    const line = CRONTABS[i]![2];
    expect(r.code, r.stderr).not.toBe('hung');
    expect(r.code, r.stderr).not.toBe('crash');
    expect(r.stderr).not.toMatch(/\n\s+at |run again with --debug/);
    if (r.code === 2) {
      const lines = r.stderr.trimEnd().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`^lifeboat: error: .*${file}(:${line})?: `));
      return;
    }
    expect([0, 1]).toContain(r.code);
    const report = JSON.parse(r.stdout) as { findings: Array<{ message: string; sources: Array<{ origin: string }> }> };
    const said = report.findings.flatMap((f) => [f.message, ...f.sources.map((s) => s.origin)]).join('\n');
    if (line === 0) {
      expect(said).toMatch(new RegExp(`${file}: no line reboots the machine`));
    } else {
      // Accounted for by number: a reboot source (ct3:1), a finding about it, or a job it ignores ("line 1 is a job").
      expect(said).toMatch(new RegExp(`${file}:${line}\\b|${file}: lines? (\\d+, )*${line}\\b`));
    }
  });
});
