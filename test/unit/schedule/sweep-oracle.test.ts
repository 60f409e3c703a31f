import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCalendar } from '../../../src/domain/schedule/calendar.js';
import { type CheckInput, type RebootSource, runCheck } from '../../../src/domain/schedule/check.js';
import { parseCron } from '../../../src/domain/schedule/cron.js';
import type { RebootPlan } from '../../../src/domain/schedule/occurrences.js';
import { parseWindow } from '../../../src/domain/schedule/window.js';
import { oracleConditions } from './oracle.js';

const MIN = 60_000;
const ZONES = ['UTC', 'America/New_York', 'Europe/Berlin', 'Australia/Lord_Howe', 'Asia/Tokyo'];
// Horizons that start just before DST changes (New York, Berlin, Lord Howe's 30-minute shift) and in winter.
const BASES = [
  '2026-03-07T00:00:00Z',
  '2026-10-31T00:00:00Z',
  '2026-03-28T00:00:00Z',
  '2026-10-24T00:00:00Z',
  '2026-04-04T00:00:00Z',
  '2026-10-03T00:00:00Z',
  '2026-01-04T00:00:00Z',
].map((s) => Date.parse(s));

const minuteField = fc.constantFrom('0', '5', '15', '30', '45', '59', '0,30', '*/20', '10-50/20', '*/7', '*');
const hourField = fc.constantFrom('0', '1', '2', '3', '4', '23', '1-3', '*/2', '2,14', '*', '*/5');
const domField = fc.constantFrom('*', '*', '*', '1,8,15', '*/2', '1-7', '29');
const monthField = fc.constantFrom('*', '*', '*', '3,10', '1-6', 'nov');
const dowField = fc.constantFrom('*', '*', '0', '7', '1-5', 'sun,sat', '*/2', 'mon', '6');
const cronText = fc
  .tuple(minuteField, hourField, domField, monthField, dowField)
  .map((f) => f.join(' '))
  .filter((text) => !text.startsWith('* *'));

const cronPlan: fc.Arbitrary<RebootPlan> = fc
  .record({
    text: fc.oneof(cronText, fc.constantFrom('@daily', '@hourly', '@weekly')),
    zone: fc.constantFrom(...ZONES),
    downtime: fc.integer({ min: 1, max: 90 }),
    offset: fc.constantFrom(0, 0, 0, 5),
    jitter: fc.constantFrom(0, 0, 30),
  })
  .map(({ text, zone, downtime, offset, jitter }) => ({
    kind: 'cron',
    cron: parseCron(text),
    timezone: zone,
    downtimeMs: downtime * MIN,
    offsetMs: offset * MIN,
    jitterMs: jitter * MIN,
  }));

const calendarPlan: fc.Arbitrary<RebootPlan> = fc
  .record({
    weekday: fc.constantFrom('', 'Sun ', 'Mon..Fri ', 'Sat,Sun '),
    time: fc.constantFrom('02:30', '01:30', '03:00', '*:0/30', '2,3:15', '00:00', '01,02:45'),
    zone: fc.constantFrom(...ZONES),
    downtime: fc.integer({ min: 1, max: 60 }),
    jitter: fc.constantFrom(0, 0, 20),
  })
  .map(({ weekday, time, zone, downtime, jitter }) => ({
    kind: 'calendar',
    calendar: parseCalendar(`${weekday}*-*-* ${time}`),
    timezone: zone,
    downtimeMs: downtime * MIN,
    jitterMs: jitter * MIN,
  }));

const windowPlan: fc.Arbitrary<RebootPlan> = fc
  .record({
    days: fc.subarray(['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'], { minLength: 1 }),
    start: fc.constantFrom('01:30', '02:00', '02:15', '23:00', '03:00'),
    end: fc.constantFrom('02:30', '03:00', '01:00', '04:00', '01:45'),
    zone: fc.constantFrom(...ZONES),
    downtime: fc.integer({ min: 1, max: 30 }),
  })
  .map(({ days, start, end, zone, downtime }) => ({
    kind: 'window',
    window: parseWindow({ days, start, end, timezone: zone }),
    downtimeMs: downtime * MIN,
  }));

const plan = fc.oneof(
  { arbitrary: cronPlan, weight: 3 },
  { arbitrary: calendarPlan, weight: 2 },
  { arbitrary: windowPlan, weight: 1 },
);

const inventory: fc.Arbitrary<CheckInput> = fc
  .record({
    voting: fc.integer({ min: 1, max: 5 }),
    workers: fc.integer({ min: 0, max: 3 }),
    plans: fc.array(fc.array(plan, { maxLength: 2 }), { minLength: 8, maxLength: 8 }),
    base: fc.constantFrom(...BASES),
    shift: fc.integer({ min: 0, max: 24 * 60 }),
    days: fc.integer({ min: 1, max: 3 }),
  })
  .map(({ voting, workers, plans, base, shift, days }) => {
    const nodes = [
      ...Array.from({ length: voting }, (_, i) => ({ name: `cp${i + 1}`, roles: ['control-plane', 'etcd'] })),
      ...Array.from({ length: workers }, (_, i) => ({ name: `w${i + 1}`, roles: ['worker'] })),
    ];
    const sources: RebootSource[] = nodes.flatMap((n, i) =>
      plans[i]!.map((p, j) => ({ node: n.name, origin: `${n.name}[${j}]`, text: 'generated', plan: p })),
    );
    const from = base + shift * MIN;
    return { nodes, sources, from, to: from + days * 1440 * MIN };
  });

describe('sweep vs minute-by-minute oracle', () => {
  it('finds exactly the conditions a brute-force scan finds, DST included', () => {
    fc.assert(
      fc.property(inventory, (input) => {
        const result = runCheck(input);
        const expected = oracleConditions(input);
        const strip = (list: typeof expected) =>
          list.map((c) => ({ code: c.code, start: c.start, end: c.end, nodes: c.nodes }));
        expect(strip(result.conditions)).toEqual(strip(expected));
        // Grouped findings agree too: per (code, nodes) the count and the first occurrence.
        const groups = new Map<string, { count: number; first: number }>();
        for (const c of expected) {
          const key = `${c.code}|${c.nodes.join(',')}`;
          const g = groups.get(key);
          if (g) g.count++;
          else groups.set(key, { count: 1, first: c.start });
        }
        const timed = result.findings.filter(
          (f) => f.first && ['quorum-loss', 'zero-margin', 'workers-all-down'].includes(f.code),
        );
        expect(timed).toHaveLength(groups.size);
        for (const f of timed) {
          const g = groups.get(`${f.code}|${f.nodes.join(',')}`);
          expect(g).toEqual({ count: f.occurrences, first: f.first!.start });
        }
      }),
      { numRuns: 200 },
    );
  });

  it('agrees on a year of the incident schedule in a DST zone', () => {
    const from = Date.parse('2026-01-05T00:00:00Z');
    const nodes = ['cp1', 'cp2', 'cp3', 'w1'].map((name) => ({
      name,
      roles: name.startsWith('cp') ? ['etcd'] : ['worker'],
    }));
    const lines = ['0 4 * * 1', '0 4 * * 1', '30 2 * * 0', '*/30 2 * * 0'];
    const sources = nodes.map((n, i) => ({
      node: n.name,
      origin: n.name,
      text: lines[i]!,
      plan: { kind: 'cron', cron: parseCron(lines[i]!), timezone: 'Europe/Berlin', downtimeMs: 10 * MIN } as RebootPlan,
    }));
    const input = { nodes, sources, from, to: from + 366 * 1440 * MIN };
    expect(runCheck(input).conditions).toEqual(oracleConditions(input));
  });
});
