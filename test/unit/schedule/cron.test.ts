import { describe, expect, it } from 'vitest';
import { cronDayMatches, parseCron } from '../../../src/domain/schedule/cron.js';
import { planStarts } from '../../../src/domain/schedule/occurrences.js';
import { DAY, ScheduleSyntaxError } from '../../../src/domain/schedule/types.js';

const iso = (ms: number) => new Date(ms).toISOString().replace('.000', '');
const at = (text: string) => Date.parse(text);

function starts(cron: string, from: string, days: number, timezone = 'UTC'): string[] {
  const f = at(from);
  const plan = { kind: 'cron' as const, cron: parseCron(cron), timezone, downtimeMs: 0 };
  return planStarts(plan, f, f + days * DAY)
    .filter((s) => s >= f)
    .map(iso);
}

function matchingDays(cron: string, year: number, month: number): number[] {
  const expr = parseCron(cron);
  const out: number[] = [];
  for (let d = 1; d <= 31; d++) {
    const date = new Date(Date.UTC(year, month - 1, d));
    if (date.getUTCMonth() !== month - 1) break;
    if (cronDayMatches(expr, month, d, date.getUTCDay())) out.push(d);
  }
  return out;
}

describe('cron fields', () => {
  it('applies the day-of-month OR day-of-week rule only when both are restricted', () => {
    // January 2026: the 1st is a Thursday; Mondays are 5, 12, 19, 26.
    expect(matchingDays('0 4 1 * 1', 2026, 1)).toEqual([1, 5, 12, 19, 26]);
    expect(matchingDays('0 4 * * 1', 2026, 1)).toEqual([5, 12, 19, 26]);
    expect(matchingDays('0 4 1 * *', 2026, 1)).toEqual([1]);
    // A field starting with "*" counts as unrestricted for the rule (cronie's DOM_STAR), so */2 ANDs with Monday.
    expect(matchingDays('0 4 */2 * 1', 2026, 1)).toEqual([5, 19]);
    expect(matchingDays('0 4 1-7 * */7', 2026, 1)).toEqual([4]);
  });

  it('expands steps over ranges, wildcards and single starts', () => {
    expect(parseCron('10-40/15 * * * *').minutes).toEqual([10, 25, 40]);
    expect(parseCron('*/20 * * * *').minutes).toEqual([0, 20, 40]);
    expect(parseCron('5/15 * * * *').minutes).toEqual([5, 20, 35, 50]);
    expect(parseCron('0 8-18/4 * * *').hours).toEqual([8, 12, 16]);
    expect(parseCron('0,30 1,2-3 * * *').hours).toEqual([1, 2, 3]);
  });

  it('treats Sunday as 0 and 7, and accepts names in any case, in lists and ranges', () => {
    const sunday = [true, false, false, false, false, false, false];
    expect(parseCron('0 0 * * 0').dow).toEqual(sunday);
    expect(parseCron('0 0 * * 7').dow).toEqual(sunday);
    expect(parseCron('0 0 * * SUN').dow).toEqual(sunday);
    expect(parseCron('0 0 * * 5-7').dow).toEqual([true, false, false, false, false, true, true]);
    expect(parseCron('0 0 * * mon-fri').dow).toEqual([false, true, true, true, true, true, false]);
    const month = parseCron('0 0 1 Jan,jul *').month;
    expect([1, 7].every((m) => month[m])).toBe(true);
    expect(month.filter(Boolean)).toHaveLength(2);
  });

  it('knows the @ keywords, and @reboot has no times', () => {
    expect(parseCron('@weekly').fields).toEqual(['0', '0', '*', '*', '0']);
    expect(parseCron('@daily').hours).toEqual([0]);
    expect(parseCron('@hourly').wild).toBe(true);
    expect(parseCron('@reboot').atReboot).toBe(true);
    expect(starts('@yearly', '2026-01-01T00:00:00Z', 366)).toEqual(['2026-01-01T00:00:00Z', '2027-01-01T00:00:00Z']);
  });

  it('runs Feb 29 jobs only in leap years', () => {
    expect(starts('0 4 29 2 *', '2026-01-01T00:00:00Z', 365)).toEqual([]);
    expect(starts('0 4 29 2 *', '2027-06-01T00:00:00Z', 1000)).toEqual(['2028-02-29T04:00:00Z']);
  });

  it('rejects bad fields naming the field, the value, what is allowed and the column', () => {
    const error = (text: string) => {
      try {
        parseCron(text);
      } catch (err) {
        return err as ScheduleSyntaxError;
      }
      throw new Error(`accepted ${text}`);
    };
    expect(error('61 * * * *').message).toBe('invalid minute field "61" (0-59)');
    expect(error('0 24 * * *').field).toBe('hour');
    expect(error('0 0 32 * *').message).toBe('invalid day-of-month field "32" (1-31)');
    expect(error('0 0 * 13 *').message).toBe('invalid month field "13" (1-12 or jan-dec)');
    expect(error('0 0 * * 8').message).toBe('invalid day-of-week field "8" (0-7 or sun-sat)');
    expect(error('0 0 * * fry').message).toContain('unknown name "fry"');
    expect(error('*/0 * * * *').message).toContain('step must be at least 1');
    expect(error('0 4 * *').message).toContain('too few fields');
    expect(error('0 4 * * 1 extra').message).toContain('too many fields');
    expect(error('0 4 5-1 * *').message).toContain('runs backwards');
    expect(error('0  4 * * x').column).toBe(10);
    expect(error('@fortnightly')).toBeInstanceOf(ScheduleSyntaxError);
  });
});

describe('cron across DST changes (cronie rules, docs/adr/002)', () => {
  it('America/New_York spring gap: fixed jobs run at the jump, wildcard jobs skip the lost hour', () => {
    // 2026-03-08 02:00 EST -> 03:00 EDT (07:00Z).
    const from = '2026-03-07T12:00:00Z';
    expect(starts('30 2 * * *', from, 2, 'America/New_York')).toEqual(['2026-03-08T07:00:00Z', '2026-03-09T06:30:00Z']);
    const wild = starts('30 * * * *', from, 1, 'America/New_York');
    expect(wild).toContain('2026-03-08T06:30:00Z'); // 01:30 EST
    expect(wild).toContain('2026-03-08T07:30:00Z'); // 03:30 EDT
    expect(wild.filter((s) => s >= '2026-03-08T06:00:00Z' && s < '2026-03-08T08:00:00Z')).toHaveLength(2);
    expect(starts('*/30 2 * * *', from, 1, 'America/New_York')).toEqual([]);
  });

  it('America/New_York autumn repeat: fixed jobs once (first), wildcard jobs twice', () => {
    // 2026-11-01 02:00 EDT -> 01:00 EST: 01:00-01:59 happens twice (05:00Z-06:00Z EDT, 06:00Z-07:00Z EST).
    const from = '2026-11-01T00:00:00Z';
    expect(starts('30 1 * * *', from, 1, 'America/New_York')).toEqual(['2026-11-01T05:30:00Z']);
    expect(starts('30 * * * *', from, 1, 'America/New_York').filter((s) => s < '2026-11-01T08:00:00Z')).toEqual([
      '2026-11-01T00:30:00Z',
      '2026-11-01T01:30:00Z',
      '2026-11-01T02:30:00Z',
      '2026-11-01T03:30:00Z',
      '2026-11-01T04:30:00Z',
      '2026-11-01T05:30:00Z',
      '2026-11-01T06:30:00Z',
      '2026-11-01T07:30:00Z',
    ]);
  });

  it('Europe/Berlin spring gap and autumn repeat', () => {
    // 2026-03-29 02:00 CET -> 03:00 CEST (01:00Z); 2026-10-25 03:00 CEST -> 02:00 CET (01:00Z).
    expect(starts('30 2 * * *', '2026-03-28T12:00:00Z', 2, 'Europe/Berlin')).toEqual([
      '2026-03-29T01:00:00Z',
      '2026-03-30T00:30:00Z',
    ]);
    expect(starts('15 2 * * *', '2026-10-24T12:00:00Z', 1, 'Europe/Berlin')).toEqual(['2026-10-25T00:15:00Z']);
    expect(starts('15 2-3 * * *', '2026-10-24T22:00:00Z', 0.25, 'Europe/Berlin')).toEqual([
      '2026-10-25T00:15:00Z',
      '2026-10-25T02:15:00Z',
    ]);
    expect(starts('15 * * * *', '2026-10-24T23:00:00Z', 3.5 / 24, 'Europe/Berlin')).toEqual([
      '2026-10-24T23:15:00Z',
      '2026-10-25T00:15:00Z',
      '2026-10-25T01:15:00Z',
      '2026-10-25T02:15:00Z',
    ]);
  });

  it('keeps local wall time across DST for weekly jobs', () => {
    const list = starts('0 4 * * 1', '2026-03-01T00:00:00Z', 60, 'Europe/Berlin');
    expect(list[0]).toBe('2026-03-02T03:00:00Z');
    expect(list.at(-1)).toBe('2026-04-27T02:00:00Z');
  });
});
