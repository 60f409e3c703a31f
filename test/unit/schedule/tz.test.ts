import { afterEach, describe, expect, it } from 'vitest';
import { loadZoneRules } from '../../../src/adapters/zoneinfo.js';
import {
  isKnownTimeZone,
  offsetAtInstant,
  useZoneRules,
  ZoneClock,
  zoneClock,
} from '../../../src/domain/schedule/tz.js';
import { parsePosixTz, type ZoneRules } from '../../../src/domain/schedule/tzif.js';
import { intlAgreesWithSystem, ORACLE_ZONES, zdumpOffset } from './zone-oracle.js';

const H = 3_600_000;
const DAY = 24 * H;
const FROM = Date.parse('2026-01-01T00:00:00Z');
const TO = Date.parse('2028-01-01T00:00:00Z');

afterEach(() => {
  useZoneRules(undefined);
});

/** A zone no tz database has: proves an answer came from the installed source, not from Intl. */
const NINE: ZoneRules = { transitions: [], offsets: [], initialOffset: 9 * H, footer: parsePosixTz('NIN-9') };
const onlyNine = (zone: string) => (zone === 'Test/Nine' ? NINE : undefined);

describe('ZoneClock from the system tz files', () => {
  it.each(ORACLE_ZONES)(
    '%s: the same segments as sampling Intl (or as zdump, where their tz releases differ), 2026-2027',
    (zone) => {
      useZoneRules(loadZoneRules);
      const clock = new ZoneClock(zone, FROM, TO);
      const fromRules = clock.segments;
      if (intlAgreesWithSystem(zone, FROM - 2 * DAY, TO + 2 * DAY)) {
        useZoneRules(undefined);
        const fromIntl = new ZoneClock(zone, FROM, TO).segments;
        expect(fromRules).toEqual(fromIntl);
        return;
      }
      // Node's ICU has another tz release than the system (tzif.test.ts): the segments are the system file's changes.
      for (const segment of fromRules) {
        const start = Math.max(segment.start, FROM - 2 * DAY);
        expect(zdumpOffset(zone, start), `${zone} at ${new Date(start).toISOString()}`).toBe(segment.offset);
        if (segment.start > FROM - 2 * DAY) expect(zdumpOffset(zone, segment.start - 1000)).not.toBe(segment.offset);
      }
      for (let t = FROM - 2 * DAY; t <= TO + 2 * DAY; t += H) expect(clock.offsetAt(t)).toBe(zdumpOffset(zone, t));
    },
  );

  it('is exact where sampling is not needed: one segment per offset, 2 days either side of the span', () => {
    useZoneRules(loadZoneRules);
    const berlin = new ZoneClock('Europe/Berlin', FROM, TO).segments;
    expect(berlin.map((s) => [s.start, s.offset / H])).toEqual([
      [-Infinity, 1],
      [Date.parse('2026-03-29T01:00:00Z'), 2],
      [Date.parse('2026-10-25T01:00:00Z'), 1],
      [Date.parse('2027-03-28T01:00:00Z'), 2],
      [Date.parse('2027-10-31T01:00:00Z'), 1],
    ]);
  });
});

describe('the zone rules source', () => {
  it('answers first; Intl only for zones it does not know', () => {
    expect(isKnownTimeZone('Test/Nine')).toBe(false);
    useZoneRules(onlyNine);
    expect(isKnownTimeZone('Test/Nine')).toBe(true);
    expect(isKnownTimeZone('Europe/Berlin')).toBe(true); // from Intl
    expect(isKnownTimeZone('Mars/Olympus')).toBe(false);
    expect(offsetAtInstant('Test/Nine', FROM)).toBe(9 * H);
    expect(offsetAtInstant('Asia/Kolkata', FROM)).toBe(5.5 * H); // from Intl
    expect(new ZoneClock('Test/Nine', FROM, TO).segments).toEqual([{ start: -Infinity, end: Infinity, offset: 9 * H }]);
    expect(() => new ZoneClock('Mars/Olympus', FROM, TO)).toThrow('unknown time zone "Mars/Olympus"');
  });

  it('starts afresh when replaced: no clock built from the previous source is reused', () => {
    useZoneRules(() => ({ ...NINE, initialOffset: 1 * H, footer: parsePosixTz('ONE-1') }));
    expect(zoneClock('Test/Nine', FROM, TO).offsetAt(FROM)).toBe(H);
    const previous = useZoneRules(onlyNine);
    expect(previous).toBeTypeOf('function');
    expect(zoneClock('Test/Nine', FROM, TO).offsetAt(FROM)).toBe(9 * H);
  });

  it('gives the offsets luxon gave without it, for luxon-only names too', () => {
    expect(offsetAtInstant('UTC', FROM)).toBe(0);
    expect(offsetAtInstant('utc', FROM)).toBe(0);
    expect(offsetAtInstant('America/St_Johns', FROM)).toBe(-3.5 * H);
    expect(() => offsetAtInstant('Mars/Olympus', FROM)).toThrow('unknown time zone');
  });
});
