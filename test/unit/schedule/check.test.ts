import { describe, expect, it } from 'vitest';
import { type CheckInput, type RebootSource, runCheck } from '../../../src/domain/schedule/check.js';
import { parseCron } from '../../../src/domain/schedule/cron.js';
import { describeRecurrence } from '../../../src/domain/schedule/describe.js';
import { suggestSchedule } from '../../../src/domain/schedule/suggest.js';
import { DAY, MINUTE } from '../../../src/domain/schedule/types.js';

const FROM = Date.parse('2026-01-05T00:00:00Z'); // a Monday
const iso = (ms: number) => new Date(ms).toISOString().replace('.000', '');

function cluster(
  schedule: Record<string, string | string[]>,
  opts: {
    timezone?: string;
    etcd?: string[];
    workers?: string[];
    days?: number;
    downtime?: number;
    from?: number;
  } = {},
): CheckInput {
  const etcd = opts.etcd ?? ['cp1', 'cp2', 'cp3'];
  const workers = opts.workers ?? [];
  const nodes = [
    ...etcd.map((name) => ({ name, roles: ['control-plane', 'etcd'] })),
    ...workers.map((name) => ({ name, roles: ['worker'] })),
  ];
  const sources: RebootSource[] = Object.entries(schedule).flatMap(([node, lines]) =>
    [lines].flat().map((line, i) => ({
      node,
      origin: `${node}.crontab:${i + 1}`,
      text: line,
      plan: {
        kind: 'cron' as const,
        cron: parseCron(line),
        timezone: opts.timezone ?? 'UTC',
        downtimeMs: (opts.downtime ?? 10) * MINUTE,
      },
    })),
  );
  const from = opts.from ?? FROM;
  return { nodes, sources, from, to: from + (opts.days ?? 366) * DAY };
}

const codes = (input: CheckInput) =>
  runCheck(input).findings.map((f) => `${f.severity} ${f.code} ${f.nodes.join(',')}`);

describe('runCheck', () => {
  it('explains the incident: two control planes at the same minute every Monday', () => {
    const result = runCheck(
      cluster({ cp1: '0 4 * * 1', cp2: '0 4 * * 1', cp3: '0 4 * * 3' }, { timezone: 'Asia/Tokyo' }),
    );
    expect(result.ok).toBe(false);
    const worst = result.findings[0]!;
    expect(worst).toMatchObject({ severity: 'error', code: 'quorum-loss', nodes: ['cp1', 'cp2'], occurrences: 52 });
    expect(worst.description).toBe('every Monday 04:00–04:10 Asia/Tokyo');
    expect(worst.message).toMatch(
      /^cp1 and cp2 \(2 of 3 etcd members\) are down together every Monday 04:00–04:10 Asia\/Tokyo, 52 times/,
    );
    // The horizon starts Monday 09:00 in Tokyo: the first of them is the next Monday.
    expect(iso(worst.first!.start)).toBe('2026-01-11T19:00:00Z');
    expect(worst.sources.map((s) => s.origin)).toEqual(['cp1.crontab:1', 'cp2.crontab:1']);
  });

  it('sees overlapping downtimes that start at different minutes', () => {
    const result = runCheck(cluster({ cp1: '0 4 * * *', cp2: '5 4 * * *' }, { days: 3 }));
    const loss = result.findings.find((f) => f.code === 'quorum-loss')!;
    expect(loss.description).toBe('every day 04:05–04:10 UTC');
    expect(loss.occurrences).toBe(3);
    const margins = result.findings.filter((f) => f.code === 'zero-margin').map((f) => [f.nodes.join(), f.description]);
    expect(margins).toEqual([
      ['cp1', 'every day 04:00–04:05 UTC'],
      ['cp2', 'every day 04:10–04:15 UTC'],
    ]);
  });

  it('counts a reboot just before the horizon that is still going on at its start', () => {
    const input = cluster({ cp1: '55 23 * * *', cp2: '58 23 * * *' }, { days: 1 });
    const loss = runCheck(input).findings.find((f) => f.code === 'quorum-loss')!;
    expect([iso(loss.first!.start), iso(loss.first!.end)]).toEqual(['2026-01-05T00:00:00Z', '2026-01-05T00:05:00Z']);
  });

  it('is clean when every member has its own slot', () => {
    const result = runCheck(cluster({ cp1: '0 4 * * 1', cp2: '0 5 * * 1', cp3: '0 6 * * 1' }));
    expect(result.ok).toBe(true);
    expect(codes(cluster({ cp1: '0 4 * * 1', cp2: '0 5 * * 1', cp3: '0 6 * * 1' }))).toEqual([
      'warning zero-margin cp1',
      'warning zero-margin cp2',
      'warning zero-margin cp3',
    ]);
  });

  it('warns when all workers are down together', () => {
    const input = cluster({ w1: '0 3 * * 6', w2: '5 3 * * 6' }, { workers: ['w1', 'w2'], days: 14 });
    const f = runCheck(input).findings.find((x) => x.code === 'workers-all-down')!;
    expect(f).toMatchObject({ severity: 'warning', nodes: ['w1', 'w2'], occurrences: 2 });
    expect(f.description).toBe('every Saturday 03:05–03:10 UTC');
  });

  it('reports shapes: even, too few, none, and boot loops', () => {
    expect(codes(cluster({}, { etcd: ['a', 'b', 'c', 'd'] }))).toContain('warning even-members a,b,c,d');
    expect(codes(cluster({ a: '0 4 * * *' }, { etcd: ['a', 'b'], days: 1 }))).toEqual(
      expect.arrayContaining(['error quorum-loss a', 'warning few-members a,b', 'warning even-members a,b']),
    );
    expect(codes(cluster({}, { etcd: [], workers: ['w1'] }))).toContain('warning no-etcd-members ');
    const loop = runCheck(cluster({ cp1: '@reboot' }, { days: 1 }));
    expect(loop.findings[0]).toMatchObject({ severity: 'error', code: 'boot-loop', nodes: ['cp1'] });
    expect(loop.findings.find((f) => f.code === 'zero-margin')?.occurrences).toBe(1);
  });

  it('warns when more members than the tolerance share a time of day on different days', () => {
    const f = runCheck(cluster({ cp1: '0 4 * * 1', cp2: '0 4 * * 2', cp3: '0 6 * * 3' })).findings.find(
      (x) => x.code === 'same-window',
    );
    expect(f).toMatchObject({ nodes: ['cp1', 'cp2'], description: 'the 04:00–04:10 UTC window of the day' });
  });
});

describe('describeRecurrence', () => {
  const run = (start: string, minutes: number) => ({
    start: Date.parse(start),
    end: Date.parse(start) + minutes * MINUTE,
  });
  it('names a single, weekly, daily, monthly and irregular pattern', () => {
    expect(describeRecurrence([run('2026-01-05T04:00:00Z', 10)], 'UTC')).toBe('on Monday 2026-01-05 04:00–04:10 UTC');
    expect(describeRecurrence([run('2026-01-05T04:00:00Z', 10), run('2026-01-12T04:00:00Z', 10)], 'UTC')).toBe(
      'every Monday 04:00–04:10 UTC',
    );
    expect(describeRecurrence([run('2026-01-05T04:00:00Z', 10), run('2026-01-19T04:00:00Z', 10)], 'UTC')).toBe(
      'on Mondays 04:00–04:10 UTC',
    );
    expect(describeRecurrence([run('2026-01-01T04:00:00Z', 5), run('2026-02-01T04:00:00Z', 5)], 'UTC')).toBe(
      'on day 1 of the month 04:00–04:05 UTC',
    );
    expect(describeRecurrence([run('2026-01-05T04:00:00Z', 10), run('2026-01-08T04:00:00Z', 10)], 'UTC')).toBe(
      'on Mondays and Thursdays 04:00–04:10 UTC',
    );
    expect(describeRecurrence([run('2026-01-05T04:00:00Z', 10), run('2026-01-06T05:00:00Z', 10)], 'UTC')).toMatch(
      /^at varying times, first 2026-01-05 04:00 UTC/,
    );
  });
});

describe('suggestSchedule', () => {
  it('proposes a schedule for the incident that passes check and keeps the cadence', () => {
    const input = cluster(
      { cp1: '0 4 * * 1', cp2: '0 4 * * 1', cp3: '0 4 * * 3', w1: '0 4 * * 4', w2: '0 4 * * 5' },
      { timezone: 'Europe/Berlin', workers: ['w1', 'w2'] },
    );
    const s = suggestSchedule(input, 2 * MINUTE);
    expect(s.ok).toBe(true);
    expect(s.gapMs).toBe(15 * MINUTE);
    expect(s.suggestions.map((x) => [x.node, x.cron.join(';'), x.changed])).toEqual([
      ['cp1', '0 4 * * 1', false],
      ['cp2', '15 4 * * 1', true],
      ['cp3', '30 4 * * 3', true],
    ]);
    // Independently re-checked: no error and no shared window.
    const fixed = runCheck({
      ...input,
      sources: [
        ...input.sources.filter((src) => src.node.startsWith('w')),
        ...cluster(Object.fromEntries(s.suggestions.map((x) => [x.node, x.cron])), { timezone: 'Europe/Berlin' })
          .sources,
      ],
    });
    expect(fixed.ok).toBe(true);
    expect(fixed.findings.map((f) => f.code)).not.toContain('same-window');
  });

  it('steps around a DST gap that would bunch the slots together', () => {
    // 02:30, 02:45, 03:00 New York: on 2026-03-08 the first two would both run at 03:00 EDT with the third.
    const input = cluster(
      { cp1: '30 2 * * *', cp2: '30 2 * * *', cp3: '30 2 * * *' },
      { timezone: 'America/New_York', from: Date.parse('2026-03-01T00:00:00Z'), days: 30 },
    );
    const s = suggestSchedule(input, 5 * MINUTE);
    expect(s.ok).toBe(true);
    expect(s.check?.ok).toBe(true);
    const hours = s.suggestions.flatMap((x) => x.cron.map((line) => Number(line.split(' ')[1])));
    expect(hours.every((h) => h >= 3)).toBe(true);
  });

  it('keeps multi-time cadences (every 6 hours) while shifting the slot', () => {
    const s = suggestSchedule(cluster({ cp1: '0 */6 * * *', cp2: '0 */6 * * *', cp3: '0 */6 * * *' }, { days: 7 }), 0);
    expect(s.ok).toBe(true);
    expect(s.suggestions.map((x) => x.cron[0])).toEqual([
      '0 0,6,12,18 * * *',
      '10 0,6,12,18 * * *',
      '20 0,6,12,18 * * *',
    ]);
  });
});
