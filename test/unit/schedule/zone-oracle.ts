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
