import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { expectOneLineUsageError, json, runCli } from '../helpers/cli.js';

/** `lifeboat check` through the real compiled CLI (built by test/global-setup.ts). */
const dir = mkdtempSync(join(tmpdir(), 'lifeboat-check-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const FROM = ['--from', '2026-01-05T00:00:00Z'];

interface Report {
  ok: boolean;
  horizon: { from: string; to: string };
  findings: {
    severity: string;
    code: string;
    nodes: string[];
    first: { start: string; end: string } | null;
    occurrences: number;
    message: string;
    sources: { node: string; origin: string; text: string }[];
  }[];
  suggestion?: { ok: boolean; nodes: { node: string; cron: string[]; timezone: string; downtime: string }[] };
}

describe('lifeboat check', () => {
  it('explains the incident in its first line and exits 1', async () => {
    const result = await runCli(['-c', 'examples/incident.yaml', 'check', ...FROM]);
    expect(result.code).toBe(1);
    const [first] = result.stdout.split('\n');
    expect(first).toMatch(
      /^ERROR quorum-loss: cp1 and cp2 \(2 of 3 etcd members\) are down together every Monday 04:00–04:10 Europe\/Berlin, 53 times in the next 366 days\. etcd needs 2 of 3 members to accept writes/,
    );
    expect(result.stdout).toContain('examples/incident.yaml nodes[1].reboot[0]');
    expect(result.stdout).toMatch(/WARNING same-window: cp1, cp2 and cp3/);
    expect(result.stderr).toBe('');
  });

  it('--json keeps the docs/ARCHITECTURE.md shape', async () => {
    const result = await runCli(['-c', 'examples/incident.yaml', 'check', ...FROM, '--json']);
    expect(result.code).toBe(1);
    const doc = json<Report>(result);
    expect(doc.ok).toBe(false);
    expect(doc.horizon).toMatchObject({ from: '2026-01-05T00:00:00Z', to: '2027-01-06T00:00:00Z' });
    const [worst] = doc.findings;
    expect(worst).toMatchObject({
      severity: 'error',
      code: 'quorum-loss',
      nodes: ['cp1', 'cp2'],
      first: { start: '2026-01-05T04:00:00+01:00', end: '2026-01-05T04:10:00+01:00' },
      occurrences: 53,
    });
    expect(worst!.sources.map((s) => s.origin)).toEqual([
      'examples/incident.yaml nodes[0].reboot[0]',
      'examples/incident.yaml nodes[1].reboot[0]',
    ]);
  });

  it('exits 0 on the fixed schedule (cron, kured window and systemd calendar mixed)', async () => {
    const result = await runCli(['-c', 'examples/fixed.yaml', '--json', 'check', ...FROM]);
    expect(result.code).toBe(0);
    const doc = json<Report>(result);
    expect(doc.ok).toBe(true);
    expect(doc.findings.filter((f) => f.severity === 'error')).toEqual([]);
  });

  it('--suggest proposes lines that pass check when written back to lifeboat.yaml', async () => {
    const result = await runCli(['-c', 'examples/incident.yaml', '--json', 'check', '--suggest', ...FROM]);
    expect(result.code).toBe(1);
    const suggestion = json<Report>(result).suggestion!;
    expect(suggestion.ok).toBe(true);
    const workers = ['w1 0 4 * * 4', 'w2 0 4 * * 5'];
    const lines = [
      'nodes:',
      ...suggestion.nodes.map(
        (n) =>
          `  - { name: ${n.node}, roles: [control-plane, etcd], reboot: [${n.cron
            .map((c) => `{ cron: "${c}", timezone: ${n.timezone}, downtime: ${n.downtime} }`)
            .join(', ')}] }`,
      ),
      ...workers.map((w) => {
        const [name, ...cron] = w.split(' ');
        return `  - { name: ${name}, roles: [worker], reboot: [{ cron: "${cron.join(' ')}", timezone: Europe/Berlin }] }`;
      }),
    ];
    const fixed = await runCli(['-c', file('suggested.yaml', `${lines.join('\n')}\n`), 'check', ...FROM]);
    expect(fixed.code).toBe(0);
    expect(fixed.stdout).not.toMatch(/quorum-loss|same-window/);
  });

  it('imports crontabs and timers, naming file:line of the lines responsible', async () => {
    const result = await runCli([
      '-c',
      'examples/cluster.yaml',
      '--json',
      'check',
      ...FROM,
      '--timezone',
      'Europe/Berlin',
      '--crontab',
      'cp1=examples/crontabs/cp1',
      '--crontab',
      'cp2=examples/crontabs/cp2',
      '--crontab',
      'cp3=examples/crontabs/cp3',
      '--timer',
      'w2=examples/timers/reboot.timer',
    ]);
    expect(result.code).toBe(1);
    const doc = json<Report>(result);
    const loss = doc.findings.find((f) => f.code === 'quorum-loss')!;
    expect(loss.sources.map((s) => s.origin)).toEqual(['examples/crontabs/cp1:5', 'examples/crontabs/cp2:3']);
    expect(loss.sources[0]!.text).toContain('/sbin/shutdown -r now');
    expect(doc.findings.find((f) => f.code === 'not-a-reboot')?.message).toContain('examples/crontabs/cp3: line 3');
  });

  it('reports lines it does not understand instead of dropping them', async () => {
    const tab = file('odd.crontab', '0 4 * * 1 /sbin/reboot\nevery monday reboot please\n0 3 * * 0 /sbin/poweroff\n');
    const result = await runCli(['-c', 'examples/cluster.yaml', 'check', ...FROM, '--crontab', `cp1=${tab}`]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /WARNING unrecognised-line: .*odd\.crontab:2: not a cron line .*"every monday reboot please"/,
    );
    expect(result.stdout).toMatch(/WARNING power-off: .*odd\.crontab:3: "\/sbin\/poweroff" powers cp1 off/);
  });

  it('has help with examples', async () => {
    const result = await runCli(['check', '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Examples:/);
    expect(result.stdout).toMatch(/--crontab <node=file>/);
  });
});

describe('lifeboat check: bad input is one line and exit 2', () => {
  const yaml = (name: string, cron: string, extra = '') =>
    file(name, `nodes:\n  - name: cp1\n    roles: [etcd]\n    reboot:\n      - cron: "${cron}"\n${extra}`);
  const cases: [string, () => string[], RegExp][] = [
    [
      'invalid cron field in a crontab',
      () => [
        '-c',
        'examples/cluster.yaml',
        'check',
        '--crontab',
        `cp1=${file('cp1.crontab', '# x\n\n61 4 * * 1 reboot\n')}`,
      ],
      /cp1\.crontab:3: invalid minute field "61" \(0-59\)$/,
    ],
    [
      'invalid cron field in lifeboat.yaml',
      () => ['-c', yaml('badcron.yaml', '0 4 * * 8'), 'check'],
      /badcron\.yaml:5:\d+: nodes\[0\]\.reboot\[0\]\.cron: invalid day-of-week field "8" \(0-7 or sun-sat\)$/,
    ],
    [
      'unknown time zone in lifeboat.yaml',
      () => ['-c', yaml('badtz.yaml', '0 4 * * 1', '        timezone: Europe/Atlantis\n'), 'check'],
      /badtz\.yaml:6:\d+: nodes\[0\]\.reboot\[0\]\.timezone: not an IANA time zone/,
    ],
    [
      'unknown CRON_TZ in a crontab',
      () => [
        '-c',
        'examples/cluster.yaml',
        'check',
        '--crontab',
        `cp1=${file('tz.crontab', 'CRON_TZ=Mars/Olympus\n0 4 * * 1 reboot\n')}`,
      ],
      /tz\.crontab:1: unknown time zone "Mars\/Olympus" in CRON_TZ/,
    ],
    [
      'unknown --timezone',
      () => ['-c', 'examples/cluster.yaml', 'check', '--timezone', 'Nowhere/Land'],
      /unknown time zone "Nowhere\/Land" in --timezone/,
    ],
    [
      'unknown node in --crontab',
      () => ['-c', 'examples/cluster.yaml', 'check', '--crontab', 'cp9=examples/crontabs/cp1'],
      /--crontab cp9=examples\/crontabs\/cp1: unknown node "cp9" \(nodes in .*cluster\.yaml: cp1, cp2/,
    ],
    [
      'missing crontab file',
      () => ['-c', 'examples/cluster.yaml', 'check', '--crontab', `cp1=${join(dir, 'nope')}`],
      /cannot read crontab .*nope: no such file/,
    ],
    [
      'bad OnCalendar in a timer',
      () => [
        '-c',
        'examples/cluster.yaml',
        'check',
        '--timer',
        `w1=${file('bad.timer', '[Timer]\nOnCalendar=Mon 25:00\n')}`,
      ],
      /bad\.timer:2: invalid OnCalendar hour field "25" \(0\.\.23\)/,
    ],
    ['--days out of range', () => ['-c', 'examples/incident.yaml', 'check', '--days', '0'], /invalid --days "0"/],
    [
      '--from not a date',
      () => ['-c', 'examples/incident.yaml', 'check', '--from', 'tuesday'],
      /invalid --from "tuesday"/,
    ],
    [
      'no nodes',
      () => ['-c', file('empty.yaml', 'cluster: { name: x }\n'), 'check'],
      /nothing to check: .*empty\.yaml has no nodes \(pass -c FILE/,
    ],
  ];
  it.each(cases)('%s', async (_name, args, message) => {
    expectOneLineUsageError(await runCli(args()), message);
  });
});
