import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type PosixTz,
  parsePosixTz,
  parseTzif,
  posixOffsetAt,
  posixOffsetChanges,
  type ZoneRules,
  zoneOffsetAt,
  zoneOffsetChanges,
} from '../../../src/domain/schedule/tzif.js';
import { tzifBytes } from './tzif-bytes.js';
import { ORACLE_ZONES, SYSTEM_TZDIR, systemZoneRules, zdumpOffset } from './zone-oracle.js';

const H = 3_600_000;
const at = (iso: string) => Date.parse(iso);
const seconds = (iso: string) => Date.parse(iso) / 1000;

/** A rule's changes in a UTC year as [instant, offset in hours]. */
function changesIn(tz: PosixTz, year: number): [string, number][] {
  return posixOffsetChanges(tz, Date.UTC(year, 0, 1), Date.UTC(year + 1, 0, 1)).map((c) => [
    new Date(c.at).toISOString(),
    c.offset / H,
  ]);
}

describe('POSIX TZ strings', () => {
  it('reads a zone without daylight time', () => {
    const tokyo = parsePosixTz('JST-9');
    expect(tokyo).toEqual({ std: { name: 'JST', offset: 9 * H } });
    expect(posixOffsetAt(tokyo, at('2026-07-01T00:00:00Z'))).toBe(9 * H);
    expect(changesIn(tokyo, 2026)).toEqual([]);
  });

  it('reads quoted names, minutes and seconds, and signs (POSIX offsets count west of Greenwich)', () => {
    expect(parsePosixTz('<+0330>-3:30').std).toEqual({ name: '+0330', offset: 3.5 * H });
    expect(parsePosixTz('<+0545>-5:45').std.offset).toBe(5.75 * H);
    expect(parsePosixTz('<-03>3').std).toEqual({ name: '-03', offset: -3 * H });
    expect(parsePosixTz('<-03>+3').std.offset).toBe(-3 * H);
    expect(parsePosixTz('LMT0:44:30').std.offset).toBe(-(44 * 60 + 30) * 1000);
    expect(parsePosixTz('<+167>-167').std.offset).toBe(167 * H);
  });

  it('reads Mm.w.d rules with the default 02:00 and explicit times (New York, St Johns)', () => {
    const ny = parsePosixTz('EST5EDT,M3.2.0,M11.1.0');
    expect(ny.dst).toEqual({
      name: 'EDT',
      offset: -4 * H,
      start: { date: { kind: 'month-week-day', month: 3, week: 2, weekday: 0 }, time: 7200 },
      end: { date: { kind: 'month-week-day', month: 11, week: 1, weekday: 0 }, time: 7200 },
    });
    expect(changesIn(ny, 2026)).toEqual([
      ['2026-03-08T07:00:00.000Z', -4],
      ['2026-11-01T06:00:00.000Z', -5],
    ]);
    expect(changesIn(parsePosixTz('EST5EDT4,M3.2.0/2:00:00,M11.1.0/02:00'), 2026)).toEqual(changesIn(ny, 2026));
    expect(changesIn(parsePosixTz('NST3:30NDT,M3.2.0,M11.1.0'), 2026)).toEqual([
      ['2026-03-08T05:30:00.000Z', -2.5],
      ['2026-11-01T04:30:00.000Z', -3.5],
    ]);
  });

  it('uses the US rule when a daylight name has none', () => {
    expect(changesIn(parsePosixTz('EST5EDT'), 2026)).toEqual([
      ['2026-03-08T07:00:00.000Z', -4],
      ['2026-11-01T06:00:00.000Z', -5],
    ]);
  });

  it('reads negative transition times (America/Nuuk: 22:00 the day before, TZif v3)', () => {
    const nuuk = parsePosixTz('<-02>2<-01>,M3.5.0/-1,M10.5.0/0');
    expect(nuuk.dst?.start.time).toBe(-3600);
    expect(changesIn(nuuk, 2026)).toEqual([
      ['2026-03-29T01:00:00.000Z', -1],
      ['2026-10-25T01:00:00.000Z', -2],
    ]);
  });

  it('reads transition times of 24:00 and beyond (America/Santiago, and the 167-hour limit)', () => {
    expect(changesIn(parsePosixTz('<-04>4<-03>,M9.1.6/24,M4.1.6/24'), 2026)).toEqual([
      ['2026-04-05T03:00:00.000Z', -4],
      ['2026-09-06T04:00:00.000Z', -3],
    ]);
    expect(changesIn(parsePosixTz('XXX0YYY,M3.2.0/167,M11.1.0/-167'), 2026)).toEqual([
      ['2026-03-14T23:00:00.000Z', 1],
      ['2026-10-25T00:00:00.000Z', 0],
    ]);
  });

  it('reads negative daylight saving time (Europe/Dublin: winter is the "daylight" time)', () => {
    const dublin = parsePosixTz('IST-1GMT0,M10.5.0,M3.5.0/1');
    expect(dublin.std).toEqual({ name: 'IST', offset: H });
    expect(dublin.dst?.offset).toBe(0);
    expect(posixOffsetAt(dublin, at('2026-01-15T12:00:00Z'))).toBe(0);
    expect(posixOffsetAt(dublin, at('2026-07-15T12:00:00Z'))).toBe(H);
    expect(changesIn(dublin, 2026)).toEqual([
      ['2026-03-29T01:00:00.000Z', 1],
      ['2026-10-25T01:00:00.000Z', 0],
    ]);
  });

  it('reads southern-hemisphere rules (Australia/Sydney: daylight time spans the new year)', () => {
    const sydney = parsePosixTz('AEST-10AEDT,M10.1.0,M4.1.0/3');
    expect(posixOffsetAt(sydney, at('2026-01-01T00:00:00Z'))).toBe(11 * H);
    expect(posixOffsetAt(sydney, at('2026-07-01T00:00:00Z'))).toBe(10 * H);
    expect(changesIn(sydney, 2026)).toEqual([
      ['2026-04-04T16:00:00.000Z', 10],
      ['2026-10-03T16:00:00.000Z', 11],
    ]);
  });

  it('reads Jn (February 29 never counted) and zero-based n (counted) days', () => {
    const julian = parsePosixTz('<+00>0<+01>,J60/0,J300/0');
    const zeroBased = parsePosixTz('<+00>0<+01>,59/0,299/0');
    expect(changesIn(julian, 2024)).toEqual([
      ['2024-03-01T00:00:00.000Z', 1],
      ['2024-10-26T23:00:00.000Z', 0],
    ]);
    expect(changesIn(zeroBased, 2024)).toEqual([
      ['2024-02-29T00:00:00.000Z', 1],
      ['2024-10-25T23:00:00.000Z', 0],
    ]);
    expect(changesIn(zeroBased, 2026)).toEqual(changesIn(julian, 2026));
  });

  it('keeps a zone on daylight time all year when one year ends as the next begins', () => {
    const permanent = parsePosixTz('EST5EDT,0/0,J365/25');
    fc.assert(
      fc.property(fc.integer({ min: at('1990-01-01T00:00:00Z'), max: at('2045-01-01T00:00:00Z') }), (t) => {
        expect(posixOffsetAt(permanent, t)).toBe(-4 * H);
      }),
    );
    expect(posixOffsetChanges(permanent, at('2020-06-01T00:00:00Z'), at('2030-01-01T00:00:00Z'))).toEqual([]);
  });

  it.each([
    '',
    'EST',
    'ES5',
    '<AB>5',
    'EST168',
    'EST5:60',
    'EST5EDT,M13.1.0,M11.1.0',
    'EST5EDT,M3.6.0,M11.1.0',
    'EST5EDT,M3.2.7,M11.1.0',
    'EST5EDT,M3.2.0',
    'EST5EDT,M3.2.0,M11.1.0,',
    'EST5EDT,J0,J365',
    'EST5EDT,366,1',
    'EST5EDT4x',
  ])('rejects %j', (text) => {
    expect(() => parsePosixTz(text)).toThrow(/invalid TZ string/);
  });
});

describe('TZif files', () => {
  const CET: [number, string] = [3600, 'CET'];
  const CEST: [number, string] = [7200, 'CEST'];
  const spring = seconds('2026-03-29T01:00:00Z');
  const autumn = seconds('2026-10-25T01:00:00Z');

  it('reads a version-1 file: 32-bit transitions, type 0 before the first, the last one holds after', () => {
    const rules = parseTzif(
      tzifBytes({
        version: 0,
        types: [CET, CEST],
        transitions: [
          [spring, 1],
          [autumn, 0],
        ],
      }),
    );
    expect(rules.footer).toBeUndefined();
    expect(rules.transitions).toEqual([spring * 1000, autumn * 1000]);
    expect(zoneOffsetAt(rules, spring * 1000 - 1)).toBe(H);
    expect(zoneOffsetAt(rules, spring * 1000)).toBe(2 * H);
    expect(zoneOffsetAt(rules, autumn * 1000)).toBe(H);
    expect(zoneOffsetAt(rules, at('2030-07-01T00:00:00Z'))).toBe(H);
  });

  it('reads the 64-bit block of a version-2 file, not the version-1 one', () => {
    const longAgo = seconds('1850-01-01T00:00:00Z'); // does not fit 32 bits
    const rules = parseTzif(
      tzifBytes({
        version: 2,
        types: [[-600, 'LMT'], CET, CEST],
        transitions: [
          [-(2 ** 59), 0], // zic's "big bang" sentinel
          [longAgo, 1],
          [spring, 2],
          [autumn, 1],
        ],
        v1Transitions: [[spring, 2]],
        footer: '',
      }),
    );
    expect(rules.transitions).toHaveLength(4);
    expect(rules.footer).toBeUndefined(); // empty footer: the last transition's offset holds
    expect(zoneOffsetAt(rules, longAgo * 1000 - 1)).toBe(-600_000);
    expect(zoneOffsetAt(rules, longAgo * 1000)).toBe(H);
    expect(zoneOffsetAt(rules, at('2040-07-01T00:00:00Z'))).toBe(H);
  });

  it('reads a version-2 file without any footer bytes', () => {
    const rules = parseTzif(tzifBytes({ version: 2, types: [CET, CEST], transitions: [[spring, 1]] }));
    expect(rules.footer).toBeUndefined();
    expect(zoneOffsetAt(rules, at('2040-01-01T00:00:00Z'))).toBe(2 * H);
  });

  it('follows the footer after the last transition, as in Debian\'s "slim" files', () => {
    const rules = parseTzif(
      tzifBytes({
        version: 3,
        types: [
          [-10800, '-03'],
          [-7200, '-02'],
          [-3600, '-01'],
        ],
        transitions: [[seconds('2023-10-29T01:00:00Z'), 1]],
        footer: '<-02>2<-01>,M3.5.0/-1,M10.5.0/0',
      }),
    );
    expect(zoneOffsetAt(rules, at('2023-01-01T00:00:00Z'))).toBe(-3 * H);
    expect(zoneOffsetAt(rules, at('2024-01-01T00:00:00Z'))).toBe(-2 * H);
    expect(zoneOffsetAt(rules, at('2026-07-01T00:00:00Z'))).toBe(-1 * H);
    expect(zoneOffsetChanges(rules, at('2023-01-01T00:00:00Z'), at('2025-01-01T00:00:00Z'))).toEqual([
      { at: at('2023-10-29T01:00:00Z'), offset: -2 * H },
      { at: at('2024-03-31T01:00:00Z'), offset: -1 * H },
      { at: at('2024-10-27T01:00:00Z'), offset: -2 * H },
    ]);
  });

  it('lets the footer decide from the last transition on, as glibc does, even where the two disagree', () => {
    // zic's slim America/Ojinaga (2022) ends on a switch to CST while its footer says CDT until November. glibc, and
    // so cron and systemd, read the footer from that transition on; tzcode and ICU would keep CST until the footer's
    // next switch. Only such inconsistent files, and only until their footer's next switch, tell the two apart.
    const rules = parseTzif(
      tzifBytes({
        version: 2,
        types: [
          [-25200, 'MST'],
          [-21600, 'CST'],
        ],
        transitions: [[seconds('2022-10-30T08:00:00Z'), 1]],
        footer: 'CST6CDT,M3.2.0,M11.1.0',
      }),
    );
    expect(zoneOffsetAt(rules, at('2022-10-31T00:00:00Z'))).toBe(-5 * H);
    expect(zoneOffsetChanges(rules, at('2022-10-01T00:00:00Z'), at('2022-12-01T00:00:00Z'))).toEqual([
      { at: at('2022-10-30T08:00:00Z'), offset: -5 * H },
      { at: at('2022-11-06T07:00:00Z'), offset: -6 * H },
    ]);
  });

  it('uses the footer for all instants when there are no transitions (version 4)', () => {
    const rules = parseTzif(tzifBytes({ version: 4, types: [[32400, 'JST']], transitions: [], footer: 'JST-9' }));
    expect(zoneOffsetAt(rules, at('1990-01-01T00:00:00Z'))).toBe(9 * H);
    expect(zoneOffsetChanges(rules, at('1990-01-01T00:00:00Z'), at('2045-01-01T00:00:00Z'))).toEqual([]);
  });

  it('leaves out transitions that change only the name', () => {
    const rules = parseTzif(
      tzifBytes({
        version: 2,
        types: [CET, [3600, 'MEZ'], CEST],
        transitions: [
          [seconds('2026-01-01T00:00:00Z'), 1],
          [spring, 2],
        ],
        footer: '',
      }),
    );
    expect(zoneOffsetChanges(rules, at('2025-06-01T00:00:00Z'), at('2027-01-01T00:00:00Z'))).toEqual([
      { at: spring * 1000, offset: 2 * H },
    ]);
  });

  it('rejects what is not a well-formed TZif file', () => {
    const good = tzifBytes({ version: 2, types: [CET, CEST], transitions: [[spring, 1]], footer: 'CET-1' });
    expect(() => parseTzif(good)).not.toThrow();
    expect(() => parseTzif(new TextEncoder().encode('# tzdb data for Europe/Berlin\n'))).toThrow(/not a TZif/);
    expect(() => parseTzif(good.subarray(0, 60))).toThrow(/truncated/);
    expect(() => parseTzif(tzifBytes({ version: 0, types: [CET], transitions: [[spring, 1]] }))).toThrow(
      /undefined local time type/,
    );
    expect(() =>
      parseTzif(
        tzifBytes({
          version: 0,
          types: [CET, CEST],
          transitions: [
            [autumn, 0],
            [spring, 1],
          ],
        }),
      ),
    ).toThrow(/out of order/);
    expect(() => parseTzif(tzifBytes({ version: 0, types: [], transitions: [] }))).toThrow(/no local time types/);
    expect(() => parseTzif(tzifBytes({ version: 2, types: [CET], transitions: [], footer: 'not a rule' }))).toThrow(
      /invalid TZ string/,
    );
  });
});

/*
 * The system's tz files as our reader sees them, against glibc's zdump reading the same files: both follow whichever
 * tzdata release is installed. (Intl is no oracle here: Node's ICU carries its own tz release, and a fresh Debian's
 * tzdata from bookworm-security is newer than a given Node 20's. tzdata 2026f and ICU's 2025c disagree about
 * Africa/Casablanca in 2026, and this test failed on a fresh machine while it passed on an older one.)
 */
const FROM = at('1990-01-01T00:00:00Z');
const TO = at('2045-01-01T00:00:00Z');

// .ci/run installs tzdata (zdump is libc-bin's): these run everywhere CI runs, never skipped.
describe(`the system's tz files (${SYSTEM_TZDIR}) against glibc's zdump`, () => {
  const rules = new Map<string, ZoneRules>(ORACLE_ZONES.map((zone) => [zone, systemZoneRules(zone)]));

  it('give the offset zdump reports at random instants, 1990-2045', () => {
    fc.assert(
      fc.property(fc.constantFrom(...ORACLE_ZONES), fc.integer({ min: FROM, max: TO }), (zone, t) => {
        expect(zoneOffsetAt(rules.get(zone)!, t)).toBe(zdumpOffset(zone, t));
      }),
      { numRuns: 20_000 },
    );
  });

  it.each(ORACLE_ZONES)('%s: change exactly where zdump sees one, 1990-2045', (zone) => {
    const zoneRules = rules.get(zone)!;
    for (const change of zoneOffsetChanges(zoneRules, FROM, TO)) {
      expect([zdumpOffset(zone, change.at - 1000), zdumpOffset(zone, change.at)]).toEqual([
        zoneOffsetAt(zoneRules, change.at - 1000),
        change.offset,
      ]);
      expect(zoneOffsetAt(zoneRules, change.at - 1000)).not.toBe(change.offset);
    }
  });

  // Debian's files are "fat" (explicit transitions up to 2037); "slim" ones stop after the last rule change and
  // leave the rest to the footer. Dropping the explicit future transitions checks the footers against zdump.
  const DST_FOOTER_ZONES = ORACLE_ZONES.filter((zone) => rules.get(zone)!.footer?.dst !== undefined);
  const SLIM_FROM = at('2026-01-01T00:00:00Z');

  it('have daylight-time footers for the zones that observe it', () => {
    expect(DST_FOOTER_ZONES).toEqual([
      'Europe/Berlin',
      'Europe/London',
      'Europe/Dublin',
      'America/New_York',
      'America/Santiago',
      'America/Nuuk',
      'America/St_Johns',
      'Australia/Sydney',
      'Australia/Lord_Howe',
      'Pacific/Chatham',
    ]);
  });

  it('give the offset zdump reports from the footer alone, 2026-2045', () => {
    const slim = new Map(
      DST_FOOTER_ZONES.map((zone) => {
        const fat = rules.get(zone)!;
        const keep = fat.transitions.filter((t) => t < SLIM_FROM).length;
        return [
          zone,
          { ...fat, transitions: fat.transitions.slice(0, keep), offsets: fat.offsets.slice(0, keep) },
        ] as const;
      }),
    );
    fc.assert(
      fc.property(fc.constantFrom(...DST_FOOTER_ZONES), fc.integer({ min: SLIM_FROM, max: TO }), (zone, t) => {
        expect(zoneOffsetAt(slim.get(zone)!, t)).toBe(zdumpOffset(zone, t));
      }),
      { numRuns: 5_000 },
    );
    for (const zone of DST_FOOTER_ZONES) {
      expect(zoneOffsetChanges(slim.get(zone)!, SLIM_FROM, TO)).toEqual(
        zoneOffsetChanges(rules.get(zone)!, SLIM_FROM, TO),
      );
    }
  });

  it('list changes consistent with the offsets, over any span', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...ORACLE_ZONES),
        fc.integer({ min: FROM, max: TO }),
        fc.integer({ min: 0, max: 3 * 366 * 24 * H }),
        (zone, from, length) => {
          const zoneRules = rules.get(zone)!;
          const changes = zoneOffsetChanges(zoneRules, from, from + length);
          let offset = zoneOffsetAt(zoneRules, from);
          let previousAt = from;
          for (const change of changes) {
            expect(change.at).toBeGreaterThanOrEqual(previousAt);
            expect(change.at).toBeLessThan(from + length);
            // Constant in between: the middle of the stretch has the offset of its start.
            if (change.at > from)
              expect(zoneOffsetAt(zoneRules, Math.floor((previousAt + change.at) / 2))).toBe(offset);
            expect(zoneOffsetAt(zoneRules, change.at)).toBe(change.offset);
            expect(zoneOffsetAt(zoneRules, change.at - 1)).not.toBe(change.offset);
            offset = change.offset;
            previousAt = change.at;
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
