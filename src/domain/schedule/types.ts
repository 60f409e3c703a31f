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

/** A problem tied to a line of an imported file: the caller prefixes the file (`crontab:3: invalid minute ...`). */
export class SourceLineError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
    this.name = 'SourceLineError';
  }
}
