import { DAY, type Interval } from './types.js';
import { offsetAtInstant, zoneClock } from './tz.js';

/**
 * Human descriptions of recurring intervals, read in one time zone:
 * "every Monday 04:00–04:10 Asia/Tokyo", "every day 03:00–03:10 UTC", "on Mondays and Thursdays 04:00–04:12 UTC",
 * "on Monday 2026-01-05 04:00–04:10 UTC" (once), or "at varying times, first ..." when no pattern holds.
 */
const WEEKDAY_NAMES = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

export function describeRecurrence(runs: Interval[], zone: string): string {
  if (runs.length === 0) return 'never';
  const locals = runs.map((r) => ({ start: localTime(r.start, zone), end: localTime(r.end, zone) }));
  const first = locals[0]!;
  const span = (s: LocalTime, e: LocalTime) =>
    e.instant - s.instant < DAY ? `${hourMinute(s)}–${hourMinute(e)}` : null;
  const firstSpan = span(first.start, first.end);
  const full = `${formatLocal(runs[0]!.start, zone)} → ${formatLocal(runs[0]!.end, zone, true)}`;
  if (runs.length === 1) {
    const day = `${WEEKDAY_NAMES[first.start.weekday - 1]!} ${isoDate(first.start)}`;
    return firstSpan ? `on ${day} ${firstSpan} ${zone}` : `from ${full}`;
  }
  const sameTimes = firstSpan !== null && locals.every((l) => span(l.start, l.end) === firstSpan);
  if (!sameTimes) return `at varying times, first ${full}`;

  const dayNumbers = locals.map((l) => Math.floor(l.start.wall / DAY));
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
  const local = localTime(instant, zone);
  const seconds = local.second === 0 ? '' : `:${pad(local.second)}`;
  const text = `${isoDate(local)} ${hourMinute(local)}${seconds}`;
  return bare ? text : `${text} ${zone}`;
}

/**
 * ISO-8601 with the zone's offset, e.g. 2026-01-05T04:00:00+09:00, milliseconds only when not zero. "UTC" (and
 * "GMT") end in Z, while zones that merely sit at offset zero, like Etc/UTC or Europe/London in winter, say +00:00:
 * the output luxon's toISO gave, kept byte for byte.
 */
export function isoInstant(instant: number, zone = 'UTC'): string {
  const local = localTime(instant, zone);
  const millis = local.millisecond === 0 ? '' : `.${pad(local.millisecond, 3)}`;
  const time = `${hourMinute(local)}:${pad(local.second)}${millis}`;
  // Years outside 0..9999 take ISO's expanded form, +012345 / -000001, as luxon wrote them.
  const year = local.year > 9999 ? `+${pad(local.year, 6)}` : pad(local.year, local.year < 0 ? 6 : 4);
  const date = `${year}-${pad(local.month)}-${pad(local.day)}`;
  return `${date}T${time}${isUtcName(zone) ? 'Z' : offsetText(local.offset)}`;
}

const SHORT_WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
const SHORT_MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** One calendar day on a zone's clock: 23 or 25 hours long across a DST change. */
export interface LocalDay {
  /** 2026-03-29 */
  date: string;
  /** Its first instant, and the next day's. */
  start: number;
  end: number;
  /** "Sun 29 Mar" */
  label: string;
  /** "29 Mar" */
  dayMonth: string;
  /** 1 = Monday .. 7 = Sunday. */
  weekday: number;
}

/** Days since 1970-01-01 on the zone's wall clock: equal for two instants of the same local day. */
export function localDayNumber(instant: number, zone: string): number {
  return Math.floor((instant + offsetAtInstant(zone, instant)) / DAY);
}

/**
 * `count` local days from the one holding `instant` (moved by `shift` days: -6 starts six days earlier). A day starts at its midnight; where a DST gap swallows midnight
 * (Santiago, Havana, Beirut), at the first instant after the gap; where midnight repeats, at its first occurrence.
 */
export function localDays(instant: number, zone: string, count: number, shift = 0): LocalDay[] {
  const first = localDayNumber(instant, zone) + shift;
  const clock = zoneClock(zone, first * DAY - 2 * DAY, (first + count + 2) * DAY);
  const startOf = (dayNumber: number): number => {
    const r = clock.resolve(dayNumber * DAY);
    return r.kind === 'normal' ? r.at : r.kind === 'repeat' ? r.first : r.after;
  };
  return Array.from({ length: count }, (_, i) => {
    const d = new Date((first + i) * DAY);
    const weekday = ((d.getUTCDay() + 6) % 7) + 1;
    const dayMonth = `${d.getUTCDate()} ${SHORT_MONTHS[d.getUTCMonth()]}`;
    return {
      date: d.toISOString().slice(0, 10),
      start: startOf(first + i),
      end: startOf(first + i + 1),
      label: `${SHORT_WEEKDAYS[weekday - 1]} ${dayMonth}`,
      dayMonth,
      weekday,
    };
  });
}

/** "Mon 2 Mar 04:00–04:10 Europe/Berlin": the end carries its own date when it falls on another local day. */
export function formatSpan(start: number, end: number, zone: string): string {
  const a = localTime(start, zone);
  const b = localTime(end, zone);
  const sameDay = a.year === b.year && a.month === b.month && a.day === b.day;
  const label = `${SHORT_WEEKDAYS[a.weekday - 1]} ${a.day} ${SHORT_MONTHS[a.month - 1]}`;
  return `${label} ${hourMinute(a)}–${sameDay ? hourMinute(b) : formatLocal(end, zone, true)} ${zone}`;
}

/** One zone for a set of zones: the common one, else UTC. */
export function commonZone(zones: Iterable<string>): string {
  const set = new Set(zones);
  return set.size === 1 ? [...set][0]! : 'UTC';
}

/** A local date-time, read with plain arithmetic from the zone's offset (no Intl, no date library). */
interface LocalTime {
  instant: number;
  /** The local date-time written as if it were UTC. */
  wall: number;
  offset: number;
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  millisecond: number;
  /** 1 = Monday .. 7 = Sunday. */
  weekday: number;
}

function localTime(instant: number, zone: string): LocalTime {
  const offset = offsetAtInstant(zone, instant);
  const wall = instant + offset;
  const d = new Date(wall);
  return {
    instant,
    wall,
    offset,
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
    millisecond: d.getUTCMilliseconds(),
    weekday: ((d.getUTCDay() + 6) % 7) + 1,
  };
}

/** Zero-padded like luxon's padStart: a minus sign goes before the padding. */
function pad(n: number, width = 2): string {
  return n < 0 ? `-${String(-n).padStart(width, '0')}` : String(n).padStart(width, '0');
}

function isoDate(t: LocalTime): string {
  return `${pad(t.year, 4)}-${pad(t.month)}-${pad(t.day)}`;
}

function hourMinute(t: LocalTime): string {
  return `${pad(t.hour)}:${pad(t.minute)}`;
}

/** +09:00, -03:30; whole minutes, truncated (offsets with seconds predate 1973). */
function offsetText(offsetMs: number): string {
  const minutes = Math.trunc(Math.abs(offsetMs) / 60_000);
  return `${offsetMs < 0 ? '-' : '+'}${pad(Math.trunc(minutes / 60))}:${pad(minutes % 60)}`;
}

/** Names luxon reads as its fixed UTC zone rather than an IANA zone: "UTC", "GMT" (any case), "UTC+0", "UTC-00:00". */
function isUtcName(zone: string): boolean {
  const m = /^utc(?:([+-]\d{1,2})(?::(\d{2}))?)?$/i.exec(zone);
  if (m) return Number(m[1] ?? 0) === 0 && Number(m[2] ?? 0) === 0;
  return zone.toLowerCase() === 'gmt';
}
