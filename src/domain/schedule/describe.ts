import { DateTime } from 'luxon';
import type { Interval } from './types.js';

/**
 * Human descriptions of recurring intervals, read in one time zone:
 * "every Monday 04:00–04:10 Asia/Tokyo", "every day 03:00–03:10 UTC", "on Mondays and Thursdays 04:00–04:12 UTC",
 * "on Monday 2026-01-05 04:00–04:10 UTC" (once), or "at varying times, first ..." when no pattern holds.
 */
const WEEKDAY_NAMES = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

export function describeRecurrence(runs: Interval[], zone: string): string {
  if (runs.length === 0) return 'never';
  const locals = runs.map((r) => ({
    start: DateTime.fromMillis(r.start, { zone }),
    end: DateTime.fromMillis(r.end, { zone }),
  }));
  const first = locals[0]!;
  const span = (s: DateTime, e: DateTime) =>
    e.toMillis() - s.toMillis() < 86_400_000 ? `${s.toFormat('HH:mm')}–${e.toFormat('HH:mm')}` : null;
  const firstSpan = span(first.start, first.end);
  const full = `${formatLocal(runs[0]!.start, zone)} → ${formatLocal(runs[0]!.end, zone, true)}`;
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

/** "2026-01-05 04:00 Asia/Tokyo" (seconds only when not zero); `bare` leaves the zone off. */
export function formatLocal(instant: number, zone: string, bare = false): string {
  const dt = DateTime.fromMillis(instant, { zone });
  const text = dt.toFormat(dt.second === 0 ? 'yyyy-MM-dd HH:mm' : 'yyyy-MM-dd HH:mm:ss');
  return bare ? text : `${text} ${zone}`;
}

/** ISO-8601 with the zone's offset, e.g. 2026-01-05T04:00:00+09:00 (UTC: Z). */
export function isoInstant(instant: number, zone = 'UTC'): string {
  return (
    DateTime.fromMillis(instant, { zone }).toISO({ suppressMilliseconds: true }) ?? new Date(instant).toISOString()
  );
}

/** One zone for a set of zones: the common one, else UTC. */
export function commonZone(zones: Iterable<string>): string {
  const set = new Set(zones);
  return set.size === 1 ? [...set][0]! : 'UTC';
}
