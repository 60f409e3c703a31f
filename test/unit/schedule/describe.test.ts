import { existsSync } from 'node:fs';
import fc from 'fast-check';
import { DateTime } from 'luxon';
import { afterEach, describe, expect, it } from 'vitest';
import { loadZoneRules } from '../../../src/adapters/zoneinfo.js';
import {
  describeRecurrence,
  formatLocal,
  formatSpan,
  isoInstant,
  localDayNumber,
  localDays,
} from '../../../src/domain/schedule/describe.js';
import type { Interval } from '../../../src/domain/schedule/types.js';
import { useZoneRules } from '../../../src/domain/schedule/tz.js';
import { intlAgreesWithSystem, ORACLE_ZONES, SYSTEM_TZDIR } from './zone-oracle.js';

const MIN = 60_000;
const at = (iso: string) => Date.parse(iso);

afterEach(() => {
  useZoneRules(undefined);
});

describe('formatLocal and isoInstant', () => {
  it('write the local time, seconds only when not zero', () => {
    expect(formatLocal(at('2026-01-05T04:00:00Z'), 'UTC')).toBe('2026-01-05 04:00 UTC');
    expect(formatLocal(at('2026-01-05T04:00:30Z'), 'UTC')).toBe('2026-01-05 04:00:30 UTC');
    expect(formatLocal(at('2026-01-05T04:00:00.500Z'), 'UTC', true)).toBe('2026-01-05 04:00');
    expect(formatLocal(at('2026-01-04T22:30:00Z'), 'Asia/Kolkata')).toBe('2026-01-05 04:00 Asia/Kolkata');
    expect(formatLocal(at('2026-01-05T03:30:00Z'), 'America/St_Johns', true)).toBe('2026-01-05 00:00');
    expect(formatLocal(at('2026-01-05T02:00:00Z'), 'America/New_York')).toBe('2026-01-04 21:00 America/New_York');
  });

  it('end in Z for UTC and in the offset otherwise, +00:00 included', () => {
    expect(isoInstant(at('2026-01-05T04:00:00Z'))).toBe('2026-01-05T04:00:00Z');
    expect(isoInstant(at('2026-01-05T04:00:00.250Z'))).toBe('2026-01-05T04:00:00.250Z');
    expect(isoInstant(at('2026-01-04T19:00:00Z'), 'Asia/Tokyo')).toBe('2026-01-05T04:00:00+09:00');
    expect(isoInstant(at('2026-01-04T22:30:00Z'), 'Asia/Kolkata')).toBe('2026-01-05T04:00:00+05:30');
    expect(isoInstant(at('2026-01-04T22:15:00Z'), 'Asia/Kathmandu')).toBe('2026-01-05T04:00:00+05:45');
    expect(isoInstant(at('2026-01-05T07:30:00Z'), 'America/St_Johns')).toBe('2026-01-05T04:00:00-03:30');
    expect(isoInstant(at('2026-07-05T03:00:15Z'), 'America/Sao_Paulo')).toBe('2026-07-05T00:00:15-03:00');
    expect(isoInstant(at('2026-01-05T04:00:00Z'), 'Etc/UTC')).toBe('2026-01-05T04:00:00+00:00');
    expect(isoInstant(at('2026-01-05T04:00:00Z'), 'Europe/London')).toBe('2026-01-05T04:00:00+00:00');
    expect(isoInstant(at('2026-01-05T04:00:00Z'), 'GMT')).toBe('2026-01-05T04:00:00Z');
  });
});

describe('localDays', () => {
  it('makes a date the zone skipped whole a day of no length', () => {
    useZoneRules(loadZoneRules);
    // The Line Islands went from UTC-10 to UTC+14 at the end of 30 Dec 1994 local time.
    const [skipped, next] = localDays(at('1995-01-01T00:00:00Z'), 'Pacific/Kiritimati', 2, -1);
    expect(skipped).toMatchObject({ date: '1994-12-31', start: at('1994-12-31T10:00:00Z') });
    expect(skipped!.end).toBe(skipped!.start);
    expect(next).toMatchObject({
      date: '1995-01-01',
      start: at('1994-12-31T10:00:00Z'),
      end: at('1995-01-01T10:00:00Z'),
    });
  });

  it('starts a day whose midnight comes twice at its first showing', () => {
    useZoneRules(loadZoneRules);
    // St. John's, 31 Oct 1999: at 00:01 NDT (-2:30) the clock went back to 23:01 NST (-3:30) on the 30th.
    const [day] = localDays(at('1999-10-31T12:00:00Z'), 'America/St_Johns', 1);
    expect(day).toMatchObject({
      date: '1999-10-31',
      start: at('1999-10-31T02:30:00Z'),
      end: at('1999-11-01T03:30:00Z'),
    });
  });

  it('starts a day whose midnight falls in a DST gap at the end of the gap, and the next one at midnight', () => {
    useZoneRules(loadZoneRules);
    // Casablanca, 1 June 2008: 00:00 became 01:00.
    const [gapDay, after] = localDays(at('2008-06-01T12:00:00Z'), 'Africa/Casablanca', 2);
    expect(gapDay).toMatchObject({ date: '2008-06-01', start: at('2008-06-01T00:00:00Z'), label: 'Sun 1 Jun' });
    expect(after).toMatchObject({ start: at('2008-06-01T23:00:00Z'), end: at('2008-06-02T23:00:00Z') });
  });
});

describe('describeRecurrence across zones', () => {
  const runs = (starts: string[], minutes: number): Interval[] =>
    starts.map((s) => ({ start: at(s), end: at(s) + minutes * MIN }));

  it('reads the pattern in the zone, across a DST change', () => {
    expect(describeRecurrence(runs(['2026-03-23T03:00:00Z', '2026-03-30T02:00:00Z'], 10), 'Europe/Berlin')).toBe(
      'every Monday 04:00–04:10 Europe/Berlin',
    );
    expect(describeRecurrence(runs(['2026-01-05T07:30:00Z'], 15), 'America/St_Johns')).toBe(
      'on Monday 2026-01-05 04:00–04:15 America/St_Johns',
    );
    expect(describeRecurrence(runs(['2026-01-04T22:30:00Z', '2026-01-05T22:30:00Z'], 5), 'Asia/Kolkata')).toBe(
      'every day 04:00–04:05 Asia/Kolkata',
    );
    expect(describeRecurrence(runs(['2026-01-05T04:00:00Z'], 2 * 1440), 'UTC')).toBe(
      'from 2026-01-05 04:00 UTC → 2026-01-07 04:00',
    );
  });
});

/**
 * `ours` is luxon's `theirs`, or, where the zone's clock shows that moment twice (St. John's fell back at 00:01 until
 * 2011, so midnight came twice), its first showing: a day starts the first time its date is on the clock.
 */
function firstOccurrenceOf(ours: number, theirs: number, zone: string): boolean {
  const wall = (t: number) => DateTime.fromMillis(t, { zone }).toFormat('yyyy-MM-dd HH:mm:ss.SSS');
  return ours === theirs || (ours < theirs && wall(ours) === wall(theirs));
}

/** The first instant of a local date, by luxon: midnight, or where a gap swallows midnight the end of the gap. */
function midnight(date: string, zone: string): number {
  return DateTime.fromISO(date, { zone }).toMillis();
}

/** describe.ts as it was, on luxon: the oracle for byte-identical output. */
const WEEKDAY_NAMES = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
function luxonFormatLocal(instant: number, zone: string, bare = false): string {
  const dt = DateTime.fromMillis(instant, { zone });
  const text = dt.toFormat(dt.second === 0 ? 'yyyy-MM-dd HH:mm' : 'yyyy-MM-dd HH:mm:ss');
  return bare ? text : `${text} ${zone}`;
}
function luxonIsoInstant(instant: number, zone = 'UTC'): string {
  return (
    DateTime.fromMillis(instant, { zone }).toISO({ suppressMilliseconds: true }) ?? new Date(instant).toISOString()
  );
}
function luxonDescribeRecurrence(runs: Interval[], zone: string): string {
  if (runs.length === 0) return 'never';
  const locals = runs.map((r) => ({
    start: DateTime.fromMillis(r.start, { zone }),
    end: DateTime.fromMillis(r.end, { zone }),
  }));
  const first = locals[0]!;
  const span = (s: DateTime, e: DateTime) =>
    e.toMillis() - s.toMillis() < 86_400_000 ? `${s.toFormat('HH:mm')}–${e.toFormat('HH:mm')}` : null;
  const firstSpan = span(first.start, first.end);
  const full = `${luxonFormatLocal(runs[0]!.start, zone)} → ${luxonFormatLocal(runs[0]!.end, zone, true)}`;
  if (runs.length === 1) {
    return firstSpan ? `on ${first.start.toFormat('cccc yyyy-MM-dd')} ${firstSpan} ${zone}` : `from ${full}`;
  }
  const sameTimes = firstSpan !== null && locals.every((l) => span(l.start, l.end) === firstSpan);
  if (!sameTimes) return `at varying times, first ${full}`;
  const dayNumbers = locals.map((l) => Date.UTC(l.start.year, l.start.month - 1, l.start.day) / 86_400_000);
  const gaps = dayNumbers.slice(1).map((d, i) => d - dayNumbers[i]!);
  if (gaps.every((g) => g === 1)) return `every day ${firstSpan} ${zone}`;
  const weekdays = [...new Set(locals.map((l) => l.start.weekday))].sort();
  if (weekdays.length === 1) {
    const name = WEEKDAY_NAMES[weekdays[0]! - 1]!;
    return gaps.every((g) => g === 7) ? `every ${name} ${firstSpan} ${zone}` : `on ${name}s ${firstSpan} ${zone}`;
  }
  const doms = new Set(locals.map((l) => l.start.day));
  if (doms.size === 1) return `on day ${first.start.day} of the month ${firstSpan} ${zone}`;
  if (weekdays.length < 7) {
    const names = weekdays.map((w) => `${WEEKDAY_NAMES[w - 1]!}s`);
    const list = names.length === 2 ? names.join(' and ') : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
    return `on ${list} ${firstSpan} ${zone}`;
  }
  return `on ${runs.length} days ${firstSpan} ${zone}`;
}

const ZONES = [...ORACLE_ZONES, 'Etc/UTC', 'GMT', 'utc', 'America/Los_Angeles', 'Pacific/Kiritimati'];
const instant = fc.integer({ min: at('1995-01-01T00:00:00Z'), max: at('2040-01-01T00:00:00Z') });
/** Minute-aligned mostly, like schedule output; sometimes with seconds or milliseconds. */
const moment = fc.oneof(
  instant.map((t) => Math.floor(t / MIN) * MIN),
  instant.map((t) => Math.floor(t / 1000) * 1000),
  instant,
);
/** Runs like a schedule's: a first start, a gap pattern (daily, weekly, irregular) and a length. */
const runList = fc
  .record({
    first: moment,
    gaps: fc.array(fc.constantFrom(1440, 7 * 1440, 14 * 1440, 3 * 1440, 1441, 31 * 1440, 30 * 1440), {
      maxLength: 8,
    }),
    minutes: fc.constantFrom(1, 10, 90, 1439, 1440, 3000),
  })
  .map(({ first, gaps, minutes }) => {
    const starts = [first];
    for (const g of gaps) starts.push(starts[starts.length - 1]! + g * MIN);
    return starts.map((s) => ({ start: s, end: s + minutes * MIN }));
  });

const sources = existsSync(`${SYSTEM_TZDIR}/Europe/Berlin`) ? (['Intl', 'tz files'] as const) : (['Intl'] as const);

/**
 * luxon reads Intl, i.e. Node's own tz release; with the system's files the output can only be byte-identical for
 * zones both releases agree on over the instants drawn (a fresh Debian's tzdata is newer than Node 20's ICU).
 */
const SAME_IN_BOTH = ZONES.filter(
  (zone) =>
    !existsSync(`${SYSTEM_TZDIR}/${zone}`) ||
    intlAgreesWithSystem(zone, at('1994-12-01T00:00:00Z'), at('2040-02-01T00:00:00Z')),
);

describe.each(sources)('describe.ts with zone rules from %s: byte-identical to the luxon version', (source) => {
  const install = () => useZoneRules(source === 'tz files' ? loadZoneRules : undefined);
  const zones = source === 'tz files' ? SAME_IN_BOTH : ZONES;
  const differ = ZONES.filter((zone) => !zones.includes(zone));

  it(`draws from ${zones.length} of ${ZONES.length} zones (tz data differs from Intl's for: ${differ.join(', ') || 'none'})`, () => {
    // Each zone's own rules are checked against glibc's zdump in tzif.test.ts; a mass disagreement is not a release skew.
    expect(differ.length).toBeLessThanOrEqual(3);
  });

  it('formatLocal and isoInstant', () => {
    install();
    fc.assert(
      fc.property(fc.constantFrom(...zones), moment, fc.boolean(), (zone, t, bare) => {
        expect(formatLocal(t, zone, bare)).toBe(luxonFormatLocal(t, zone, bare));
        expect(isoInstant(t, zone)).toBe(luxonIsoInstant(t, zone));
        expect(isoInstant(t)).toBe(luxonIsoInstant(t));
      }),
      { numRuns: 3000 },
    );
  });

  it('formatLocal and isoInstant far from today: expanded years, offsets with seconds (local mean time)', () => {
    install();
    const instants = [Date.UTC(12345, 0, 1), Date.parse('-000003-11-27T00:00:00Z'), Date.parse('1880-06-01T12:34:56Z')];
    for (const zone of ['UTC', 'Asia/Tokyo', 'America/New_York', 'Asia/Kolkata']) {
      for (const t of instants) {
        expect(isoInstant(t, zone)).toBe(luxonIsoInstant(t, zone));
        expect(formatLocal(t, zone)).toBe(luxonFormatLocal(t, zone));
      }
    }
  });

  it('describeRecurrence', () => {
    install();
    fc.assert(
      fc.property(fc.constantFrom(...zones), runList, (zone, runs) => {
        expect(describeRecurrence(runs, zone)).toBe(luxonDescribeRecurrence(runs, zone));
      }),
      { numRuns: 2000 },
    );
  });

  it('localDays and formatSpan (the serve calendar and timeline): what luxon gave', () => {
    install();
    // Each day is checked on its own against luxon's midnight of that date (shifted past a DST gap, as luxon does).
    // The old calendar chained luxon's plus({ days: 1 }) instead, so after a day whose midnight fell in a gap every
    // later "midnight" was 01:00 (Africa/Casablanca, June 2008): that drift is gone.
    fc.assert(
      fc.property(fc.constantFrom(...zones), moment, fc.integer({ min: -40, max: 0 }), (zone, t, shift) => {
        const days = localDays(t, zone, 3, shift);
        const base = Date.parse(`${DateTime.fromMillis(t, { zone }).toISODate()}T00:00:00Z`);
        days.forEach((day, i) => {
          const date = new Date(base + (shift + i) * 86_400_000).toISOString().slice(0, 10);
          const d = DateTime.fromISO(date, { zone: 'UTC' });
          const next = new Date(Date.parse(`${date}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
          expect([day.date, day.label, day.dayMonth, day.weekday]).toEqual([
            date,
            d.toFormat('ccc d LLL'),
            d.toFormat('d LLL'),
            d.weekday,
          ]);
          expect(firstOccurrenceOf(day.start, midnight(date, zone), zone)).toBe(true);
          expect(firstOccurrenceOf(day.end, midnight(next, zone), zone)).toBe(true);
          // Every instant of a day but its (repeated) first minutes belongs to it: start and last instant agree.
          if (day.end > day.start) expect(localDayNumber(day.end - 1, zone)).toBe(localDayNumber(day.start, zone));
        });
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.constantFrom(...zones), moment, fc.integer({ min: 1, max: 3 * 1440 }), (zone, t, minutes) => {
        const end = t + minutes * MIN;
        const a = DateTime.fromMillis(t, { zone });
        const b = DateTime.fromMillis(end, { zone });
        const endText = a.hasSame(b, 'day') ? b.toFormat('HH:mm') : luxonFormatLocal(end, zone, true);
        expect(formatSpan(t, end, zone)).toBe(`${a.toFormat('ccc d LLL HH:mm')}–${endText} ${zone}`);
      }),
      { numRuns: 2000 },
    );
  });
});
