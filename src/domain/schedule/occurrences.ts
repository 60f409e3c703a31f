import { type CalendarExpr, calendarDayMatches, calendarTimesOfDay } from './calendar.js';
import { type CronExpr, cronDayMatches, cronTimesOfDay } from './cron.js';
import { DAY, HOUR, type Interval, MINUTE } from './types.js';
import { type ZoneClock, zoneClock } from './tz.js';
import { type WindowSpec, windowLength } from './window.js';

/**
 * One planned reboot rule, parsed, turned into the intervals during which the node is (or may be) down.
 * DST rules (docs/adr/002-cron-dst-semantics.md):
 * - cron, as cronie runs it: a wall time skipped by spring-forward runs right after the jump for fixed-time jobs and
 *   not at all for wildcard jobs (minute or hour field starting with `*`); a wall time that happens twice in autumn
 *   runs once (the first time) for fixed-time jobs and both times for wildcard jobs;
 * - systemd OnCalendar: a skipped wall time does not elapse; a repeated one elapses once (the first time);
 * - windows are wall-clock ranges: the node may be down whenever the clock reads a time inside the window.
 */
export type RebootPlan =
  | {
      kind: 'cron';
      cron: CronExpr;
      timezone: string;
      downtimeMs: number;
      /** Fixed delay between the cron time and the reboot (`shutdown -r +5`, `sleep 60 && reboot`). */
      offsetMs?: number;
      /** Unknown extra delay, 0..jitter (`sleep $((RANDOM % 3600))`). */
      jitterMs?: number;
    }
  | { kind: 'calendar'; calendar: CalendarExpr; timezone: string; downtimeMs: number; jitterMs?: number }
  | { kind: 'window'; window: WindowSpec; downtimeMs: number };

export function planTimezone(plan: RebootPlan): string {
  return plan.kind === 'window' ? plan.window.timezone : plan.timezone;
}

/** How far before an instant a reboot may start and still keep the node down at that instant. */
export function planReach(plan: RebootPlan): number {
  if (plan.kind === 'window') return windowLength(plan.window) * MINUTE + plan.downtimeMs;
  const offset = plan.kind === 'cron' ? (plan.offsetMs ?? 0) : 0;
  return plan.downtimeMs + offset + (plan.jitterMs ?? 0);
}

/** How a start whose wall time DST skips (`gap`: run after it) or repeats (`first` or `both`) fires. */
interface DstRule {
  gap: boolean;
  repeat: 'first' | 'both';
}

/** Instants the rule fires (reboot command starts), for starts in [from - reach, to). Sorted. */
export function planStarts(plan: RebootPlan, from: number, to: number): number[] {
  if (plan.kind === 'window') return [];
  if (plan.kind === 'cron' && plan.cron.atReboot) return [];
  const clock = zoneClock(plan.timezone, from, to);
  const lo = from - planReach(plan);
  const days = dayTable(lo, to);
  const starts: number[] = [];
  // Times-of-day per matching day; how a wall time that DST skips or repeats fires differs between cron and systemd.
  const [times, matches, dst]: [number[], (d: (typeof days)[number]) => boolean, DstRule] =
    plan.kind === 'cron'
      ? [
          cronTimesOfDay(plan.cron).map((m) => m * MINUTE),
          (d) => cronDayMatches(plan.cron, d.month, d.day, d.weekday),
          // cron: a skipped time runs right after the gap, a repeated one once; a wildcard hour (`*`) does neither.
          plan.cron.wild ? { gap: false, repeat: 'both' } : { gap: true, repeat: 'first' },
        ]
      : [
          calendarTimesOfDay(plan.calendar).map((sec) => sec * 1000),
          (d) => calendarDayMatches(plan.calendar, d.year, d.month, d.day, d.weekday),
          // systemd: a skipped time does not run, a repeated one runs once.
          { gap: false, repeat: 'first' },
        ];
  for (const d of days) {
    if (!matches(d)) continue;
    for (const t of times) {
      const at = clock.instantOf(d.wall + t);
      if (!Number.isNaN(at)) {
        starts.push(at);
        continue;
      }
      const r = clock.resolve(d.wall + t);
      if (r.kind === 'normal') starts.push(r.at);
      else if (r.kind === 'gap') {
        if (dst.gap) starts.push(r.after);
      } else {
        starts.push(r.first);
        if (dst.repeat === 'both') starts.push(r.second);
      }
    }
  }
  return sortedUniqueWithin(starts, lo, to);
}

/** Intervals [from, to)-relevant during which the node is or may be down because of this rule; sorted, disjoint. */
export function planDowntime(plan: RebootPlan, from: number, to: number): Interval[] {
  if (plan.kind === 'cron' && plan.cron.atReboot) return [{ start: from, end: to }];
  if (plan.kind === 'window') return windowDowntime(plan.window, plan.downtimeMs, from, to);
  const offset = plan.kind === 'cron' ? (plan.offsetMs ?? 0) : 0;
  const length = plan.downtimeMs + (plan.jitterMs ?? 0);
  const out: Interval[] = [];
  if (length <= 0) return out;
  for (const s of planStarts(plan, from, to)) {
    const start = s + offset;
    const end = start + length;
    if (end <= from || start >= to) continue;
    const last = out[out.length - 1];
    if (last && start <= last.end) last.end = Math.max(last.end, end);
    else out.push({ start, end });
  }
  return out;
}

function windowDowntime(spec: WindowSpec, downtimeMs: number, from: number, to: number): Interval[] {
  const clock: ZoneClock = zoneClock(spec.timezone, from, to);
  const length = windowLength(spec) * MINUTE;
  const pieces: Interval[] = [];
  for (const d of dayTable(from - length - downtimeMs, to)) {
    if (!spec.days[d.weekday]) continue;
    const wallStart = d.wall + spec.start * MINUTE;
    for (const piece of clock.wallRange(wallStart, wallStart + length)) {
      const end = piece.end + downtimeMs;
      if (end <= from || piece.start >= to) continue;
      // Days come in order, so pieces do too: merge as they arrive.
      const last = pieces[pieces.length - 1];
      if (last && piece.start <= last.end) last.end = Math.max(last.end, end);
      else pieces.push({ start: piece.start, end });
    }
  }
  return pieces;
}

/** Union of lists that are each sorted and disjoint: a linear merge, no sort (objects are reused, not copied). */
export function unionOfSorted(lists: Interval[][]): Interval[] {
  if (lists.length === 1) return lists[0]!;
  let acc: Interval[] = [];
  for (const list of lists) {
    const out: Interval[] = [];
    let i = 0;
    let j = 0;
    while (i < acc.length || j < list.length) {
      const next = j >= list.length || (i < acc.length && acc[i]!.start <= list[j]!.start) ? acc[i++]! : list[j++]!;
      const last = out[out.length - 1];
      if (last && next.start <= last.end) {
        if (next.end > last.end) out[out.length - 1] = { start: last.start, end: next.end };
      } else out.push(next);
    }
    acc = out;
  }
  return acc;
}

interface DayRow {
  /** Local midnight as wall milliseconds. */
  wall: number;
  year: number;
  month: number;
  day: number;
  weekday: number;
}

let dayCache: { lo: number; hi: number; rows: DayRow[] } | undefined;

/** Civil days whose wall-clock span can hold instants in [lo, to) in any zone (UTC offsets lie within -12h..+14h). */
function dayTable(lo: number, to: number): DayRow[] {
  const first = Math.floor((lo - 15 * HOUR) / DAY) * DAY;
  const last = Math.floor((to + 15 * HOUR) / DAY) * DAY;
  if (!dayCache || first < dayCache.lo || last > dayCache.hi) {
    const rows: DayRow[] = [];
    for (let wall = first; wall <= last; wall += DAY) {
      const date = new Date(wall);
      rows.push({
        wall,
        year: date.getUTCFullYear(),
        month: date.getUTCMonth() + 1,
        day: date.getUTCDate(),
        weekday: date.getUTCDay(),
      });
    }
    dayCache = { lo: first, hi: last, rows };
    return rows;
  }
  const start = (first - dayCache.lo) / DAY;
  return dayCache.rows.slice(start, start + (last - first) / DAY + 1);
}

/** The values in [lo, hi), sorted, without duplicates (in place: generation is almost always in order already). */
function sortedUniqueWithin(values: number[], lo: number, hi: number): number[] {
  let sorted = true;
  for (let i = 1; i < values.length; i++) {
    if (values[i]! < values[i - 1]!) {
      sorted = false;
      break;
    }
  }
  if (!sorted) values.sort((a, b) => a - b);
  let n = 0;
  for (const v of values) {
    if (v < lo || v >= hi || (n > 0 && values[n - 1] === v)) continue;
    values[n++] = v;
  }
  values.length = n;
  return values;
}
