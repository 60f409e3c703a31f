import { readFileSync } from 'node:fs';
import { parseTzif, type ZoneRules } from '../domain/schedule/tzif.js';

/**
 * Time zone rules from the system's compiled tz database (/usr/share/zoneinfo, or $TZDIR as libc honours it).
 *
 * Why these files and not Intl: cron and systemd resolve CRON_TZ= and OnCalendar='... Europe/Berlin' through libc,
 * which reads exactly these files, so they are the truest source of the offsets a reboot schedule will see (Node's
 * ICU carries its own, possibly older or newer, copy of the database). Reading and parsing one costs about 1 ms,
 * against ~20 ms for starting ICU's time zone support.
 */

const DEFAULT_TZDIR = '/usr/share/zoneinfo';

/** tz database names: path segments of letters, digits, _, + and -. No "..", no absolute paths, no empty segments. */
const ZONE_NAME = /^[A-Za-z0-9_+-]+(?:\/[A-Za-z0-9_+-]+)*$/;

const cache = new Map<string, ZoneRules | undefined>();

/** Rules of a zone by its tz name, or undefined when the name is not safe, the file is missing or is not TZif. */
export function loadZoneRules(name: string): ZoneRules | undefined {
  if (!ZONE_NAME.test(name)) return undefined;
  // Read per call, not once, so a changed TZDIR is seen; empty counts as unset, as in glibc.
  const path = `${process.env.TZDIR || DEFAULT_TZDIR}/${name}`;
  if (cache.has(path)) return cache.get(path);
  const rules = readRules(path);
  cache.set(path, rules);
  return rules;
}

function readRules(path: string): ZoneRules | undefined {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch {
    return undefined; // missing, a directory (e.g. "Europe"), unreadable
  }
  try {
    return parseTzif(bytes);
  } catch {
    return undefined; // zone.tab, tzdata.zi and the like; or a file this parser cannot read: Intl answers instead
  }
}
