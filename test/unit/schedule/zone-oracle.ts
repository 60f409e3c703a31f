import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseTzif, type ZoneRules } from '../../../src/domain/schedule/tzif.js';

/** Zones with every kind of rule the parser must get right: see tzif.test.ts for why each is here. */
export const ORACLE_ZONES = [
  'UTC',
  'Europe/Berlin',
  'Europe/London',
  'Europe/Dublin', // negative DST: winter is the "daylight" time
  'America/New_York',
  'America/Sao_Paulo', // DST abolished in 2019
  'America/Santiago', // southern hemisphere, transitions at 24:00
  'America/Nuuk', // transition times -1:00 and 0:00 (TZif v3)
  'America/St_Johns', // -3:30
  'Australia/Sydney', // southern hemisphere
  'Australia/Lord_Howe', // 30-minute DST
  'Asia/Tokyo',
  'Asia/Kolkata', // +5:30
  'Asia/Kathmandu', // +5:45
  'Asia/Tehran', // DST abolished in 2022
  'Pacific/Chatham', // +12:45 / +13:45
  'Africa/Casablanca', // Ramadan switches, all in the transition table
  'Pacific/Apia', // skipped 2011-12-30, DST abolished in 2021
] as const;

/** Where the system's compiled tz database lives, as libc finds it. */
export const SYSTEM_TZDIR = process.env.TZDIR || '/usr/share/zoneinfo';

export function systemZoneRules(zone: string): ZoneRules {
  return parseTzif(readFileSync(`${SYSTEM_TZDIR}/${zone}`));
}

const formats = new Map<string, Intl.DateTimeFormat>();

/** The offset (ms) Intl (Node's ICU tz data) reports for a zone at an instant: the independent oracle. */
export function intlOffset(zone: string, instant: number): number {
  let format = formats.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formats.set(zone, format);
  }
  const parts = format.formatToParts(instant);
  const get = (type: Intl.DateTimeFormatPartTypes) => Number(parts.find((p) => p.type === type)?.value);
  const wall = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return wall - Math.floor(instant / 1000) * 1000;
}

const MONTHS: Record<string, number> = {
  Jan: 0,
  Feb: 1,
  Mar: 2,
  Apr: 3,
  May: 4,
  Jun: 5,
  Jul: 6,
  Aug: 7,
  Sep: 8,
  Oct: 9,
  Nov: 10,
  Dec: 11,
};
const ZDUMP_ROW = /^\S+\s+\w{3} (\w{3})\s+(\d+) (\d\d):(\d\d):(\d\d) (-?\d+) UT = .* gmtoff=(-?\d+)$/;
const zdumps = new Map<string, { initial: number; rows: Array<{ at: number; offset: number }> }>();

/**
 * A zone's offsets as glibc's zdump (libc-bin, on every Debian machine) reads them from the system's tz file, 1800-2050:
 * the oracle for our TZif reader. It reads the very files we read, with another implementation, so it holds for
 * whichever tzdata release is installed; Intl does not: Node's ICU carries its own copy of the tz database, and a
 * fresh Debian gets a newer tzdata from bookworm-security than the ICU of a given Node 20 (tzdata 2026f vs ICU's 2025c
 * moved Africa/Casablanca's 2026 changes).
 */
function zdump(zone: string) {
  let found = zdumps.get(zone);
  if (found) return found;
  const rows = execFileSync('zdump', ['-v', '-c', '1800,2050', zone], { encoding: 'utf8' })
    .split('\n')
    .flatMap((line) => {
      const m = ZDUMP_ROW.exec(line);
      if (!m) return [];
      const [, mon, day, hh, mm, ss, year, gmtoff] = m;
      const at = Date.UTC(Number(year), MONTHS[mon!]!, Number(day), Number(hh), Number(mm), Number(ss));
      return [{ at, offset: Number(gmtoff) * 1000 }];
    });
  let initial = rows[0]?.offset;
  if (initial === undefined) {
    // No change at all (UTC): `zdump -i` still names the one offset, as +HH[MM[SS]].
    const tab = execFileSync('zdump', ['-i', '-c', '1800,2050', zone], { encoding: 'utf8' });
    const m = /^-\t-\t([+-])(\d\d)(\d\d)?(\d\d)?/m.exec(tab);
    if (!m) throw new Error(`zdump -i ${zone}: no offset in ${JSON.stringify(tab)}`);
    const sign = m[1] === '-' ? -1 : 1;
    initial = sign * (Number(m[2]) * 3600 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0)) * 1000;
  }
  found = { initial, rows };
  zdumps.set(zone, found);
  return found;
}

/** The offset (ms) the system's tz file gives a zone at an instant, as glibc reads it (zdump). */
export function zdumpOffset(zone: string, instant: number): number {
  const { initial, rows } = zdump(zone);
  let offset = initial;
  for (const row of rows) {
    if (row.at > instant) break;
    offset = row.offset;
  }
  return offset;
}

/**
 * Whether Intl (Node's own tz copy) gives a zone the offsets of the system's tz file over [from, to]: at every change
 * zdump sees and every day in between. False when the two tz releases differ for the zone in that span; comparisons
 * with luxon (Intl) can then only be made for the other zones.
 */
export function intlAgreesWithSystem(zone: string, from: number, to: number): boolean {
  const DAY = 86_400_000;
  for (const row of zdump(zone).rows) {
    if (row.at < from || row.at > to) continue;
    if (intlOffset(zone, row.at) !== row.offset) return false;
  }
  for (let t = from; t <= to; t += DAY) if (intlOffset(zone, t) !== zdumpOffset(zone, t)) return false;
  return true;
}
