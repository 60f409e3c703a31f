import { describe, expect, it } from 'vitest';
import { parseCalendar } from '../../../src/domain/schedule/calendar.js';
import { planDowntime, planStarts } from '../../../src/domain/schedule/occurrences.js';
import { DAY, MINUTE } from '../../../src/domain/schedule/types.js';
import { parseWindow } from '../../../src/domain/schedule/window.js';

const iso = (ms: number) => new Date(ms).toISOString().replace('.000', '');

function calendarStarts(text: string, from: string, days: number, timezone = 'UTC') {
  const f = Date.parse(from);
  const calendar = parseCalendar(text);
  const plan = { kind: 'calendar' as const, calendar, timezone: calendar.timezone ?? timezone, downtimeMs: 0 };
  return planStarts(plan, f, f + days * DAY)
    .filter((s) => s >= f)
    .map(iso);
}

describe('systemd OnCalendar', () => {
  it('reads weekday lists and ranges, dates and times', () => {
    expect(calendarStarts('Mon *-*-* 04:00:00', '2026-01-01T00:00:00Z', 14)).toEqual([
      '2026-01-05T04:00:00Z',
      '2026-01-12T04:00:00Z',
    ]);
    expect(calendarStarts('Mon..Wed,Fri 03:30', '2026-01-05T00:00:00Z', 7)).toHaveLength(4);
    expect(calendarStarts('Sat,Sun *-*-* 02:00:00', '2026-01-05T00:00:00Z', 7)).toEqual([
      '2026-01-10T02:00:00Z',
      '2026-01-11T02:00:00Z',
    ]);
    expect(calendarStarts('*-*-01 00:00:00', '2026-01-05T00:00:00Z', 60)).toEqual([
      '2026-02-01T00:00:00Z',
      '2026-03-01T00:00:00Z',
    ]);
    expect(calendarStarts('*-*-* *:0/20', '2026-01-05T00:00:00Z', 1 / 24)).toHaveLength(3);
    expect(calendarStarts('2026-02-29', '2026-01-01T00:00:00Z', 400)).toEqual([]);
  });

  it('requires weekday AND date to match (no cron OR rule)', () => {
    // The first Monday of the month.
    expect(calendarStarts('Mon *-*-1..7 05:00', '2026-01-01T00:00:00Z', 60)).toEqual([
      '2026-01-05T05:00:00Z',
      '2026-02-02T05:00:00Z',
    ]);
  });

  it('knows the shorthands and a trailing time zone', () => {
    expect(calendarStarts('daily', '2026-01-05T00:00:00Z', 2)).toEqual([
      '2026-01-05T00:00:00Z',
      '2026-01-06T00:00:00Z',
    ]);
    expect(calendarStarts('weekly', '2026-01-01T00:00:00Z', 7)).toEqual(['2026-01-05T00:00:00Z']);
    expect(calendarStarts('monthly', '2026-01-02T00:00:00Z', 31)).toEqual(['2026-02-01T00:00:00Z']);
    expect(calendarStarts('Mon 04:00 Asia/Tokyo', '2026-01-04T00:00:00Z', 7)).toEqual(['2026-01-04T19:00:00Z']);
  });

  it('skips a time that DST removes and runs a repeated time once', () => {
    expect(calendarStarts('*-*-* 02:30:00', '2026-03-07T12:00:00Z', 2, 'America/New_York')).toEqual([
      '2026-03-09T06:30:00Z',
    ]);
    expect(calendarStarts('*-*-* 01:30:00', '2026-11-01T00:00:00Z', 1, 'America/New_York')).toEqual([
      '2026-11-01T05:30:00Z',
    ]);
  });

  it('widens each elapse by RandomizedDelaySec', () => {
    const f = Date.parse('2026-01-05T00:00:00Z');
    const plan = {
      kind: 'calendar' as const,
      calendar: parseCalendar('Mon 04:00'),
      timezone: 'UTC',
      downtimeMs: 10 * MINUTE,
      jitterMs: 30 * MINUTE,
    };
    expect(planDowntime(plan, f, f + DAY)).toEqual([{ start: f + 4 * 60 * MINUTE, end: f + (4 * 60 + 40) * MINUTE }]);
  });

  it('rejects what it does not understand, naming the part', () => {
    expect(() => parseCalendar('Mon *-*-* 25:00')).toThrow('invalid OnCalendar hour field "25" (0..23)');
    expect(() => parseCalendar('Mnday 04:00')).toThrow('OnCalendar weekday');
    expect(() => parseCalendar('*-*~01')).toThrow('not supported');
    expect(() => parseCalendar('Mon 04:00 Mars/Olympus')).toThrow('OnCalendar');
  });
});

describe('kured-style windows', () => {
  const f = Date.parse('2026-01-05T00:00:00Z'); // a Monday
  const down = (w: Parameters<typeof parseWindow>[0], minutes = 10, days = 7) =>
    planDowntime({ kind: 'window', window: parseWindow(w), downtimeMs: minutes * MINUTE }, f, f + days * DAY).map(
      (i) => [iso(i.start), iso(i.end)],
    );

  it('counts the whole window plus the downtime as possibly down', () => {
    expect(down({ days: ['sat', 'sun'], start: '03:00', end: '05:00' })).toEqual([
      ['2026-01-10T03:00:00Z', '2026-01-10T05:10:00Z'],
      ['2026-01-11T03:00:00Z', '2026-01-11T05:10:00Z'],
    ]);
  });

  it('runs past midnight when the end is not after the start, keyed to the starting day', () => {
    // The horizon starts on a Monday at 00:00: the Sunday window before it still reaches in.
    expect(down({ days: ['sun'], start: '22:00', end: '02:00' })).toEqual([
      ['2026-01-04T22:00:00Z', '2026-01-05T02:10:00Z'],
      ['2026-01-11T22:00:00Z', '2026-01-12T02:10:00Z'],
    ]);
  });

  it('follows the wall clock in its zone across DST', () => {
    const g = Date.parse('2026-03-07T00:00:00Z');
    const plan = {
      kind: 'window' as const,
      window: parseWindow({ days: ['sun'], start: '01:30', end: '03:30', timezone: 'America/New_York' }),
      downtimeMs: 0,
    };
    // 01:30 EST (06:30Z) to 03:30 EDT (07:30Z): the window is an hour shorter that night.
    expect(planDowntime(plan, g, g + 2 * DAY).map((i) => [iso(i.start), iso(i.end)])).toEqual([
      ['2026-03-08T06:30:00Z', '2026-03-08T07:30:00Z'],
    ]);
  });
});
