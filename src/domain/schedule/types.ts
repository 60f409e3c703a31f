/** Shared shapes of the schedule checker. All instants are epoch milliseconds; intervals are half-open [start, end). */

export interface Interval {
  start: number;
  end: number;
}

export const MINUTE = 60_000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;

/**
 * A schedule text that cannot be understood. `field` names the part ("minute", "day-of-week", "OnCalendar hour"),
 * `value` the offending text, `reason` what is allowed; `column` is 1-based within the expression when known.
 * Callers prefix where it came from: `crontab:3: invalid minute field "61" (0-59)`.
 */
export class ScheduleSyntaxError extends Error {
  constructor(
    readonly field: string,
    readonly value: string,
    readonly reason: string,
    readonly column?: number,
  ) {
    super(`invalid ${field} field "${value}" (${reason})`);
    this.name = 'ScheduleSyntaxError';
  }
}

/** Merge intervals (any order) into a sorted list of disjoint ones; touching intervals join. Empty ones vanish. */
export function mergeIntervals(intervals: Interval[]): Interval[] {
  const sorted = intervals.filter((i) => i.end > i.start).sort((a, b) => a.start - b.start);
  const out: Interval[] = [];
  for (const iv of sorted) {
    const last = out[out.length - 1];
    if (last && iv.start <= last.end) {
      if (iv.end > last.end) last.end = iv.end;
    } else out.push({ start: iv.start, end: iv.end });
  }
  return out;
}

/** Civil date helpers on "wall" milliseconds (a local date-time written as if it were UTC). */
export function civilOf(wall: number): { year: number; month: number; day: number; weekday: number } {
  const d = new Date(wall);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), weekday: d.getUTCDay() };
}
