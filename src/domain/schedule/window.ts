import { ScheduleSyntaxError } from './types.js';

/**
 * A kured-style maintenance window: the node may reboot at any moment between `start` and `end` (local wall
 * clock) on the listed days. A window whose end is not after its start runs past midnight (22:00-02:00); the day
 * is the day it starts. `every` (kured's period, e.g. 7d) limits how often the node reboots, but not which window
 * it picks, so the check treats every window as a possible downtime: the node counts as down from the window's
 * start until `downtime` after its end.
 */
export interface WindowSpec {
  /** Indexed 0..6 (Sunday 0). */
  days: boolean[];
  /** Minutes since midnight. */
  start: number;
  end: number;
  timezone: string;
  everyMs?: number;
}

const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

export function parseWindow(input: {
  days: string[];
  start: string;
  end: string;
  timezone?: string;
  everyMs?: number;
}): WindowSpec {
  const days: boolean[] = new Array(7).fill(false);
  for (const name of input.days) {
    const idx = DAY_NAMES.indexOf(name.toLowerCase().slice(0, 3));
    if (idx < 0) throw new ScheduleSyntaxError('window day', name, 'use sun, mon, tue, wed, thu, fri, sat');
    days[idx] = true;
  }
  return {
    days,
    start: clock('window start', input.start),
    end: clock('window end', input.end),
    timezone: input.timezone ?? 'UTC',
    everyMs: input.everyMs,
  };
}

function clock(field: string, text: string): number {
  const match = /^(\d{1,2}):(\d{2})$/.exec(text.trim());
  if (!match || Number(match[1]) > 23 || Number(match[2]) > 59) {
    throw new ScheduleSyntaxError(field, text, 'a time of day HH:MM, e.g. 03:00');
  }
  return Number(match[1]) * 60 + Number(match[2]);
}

/** Length of one window in minutes (end <= start: runs past midnight; equal: a whole day). */
export function windowLength(spec: WindowSpec): number {
  return spec.end > spec.start ? spec.end - spec.start : spec.end + 1440 - spec.start;
}

export function describeWindow(spec: WindowSpec): string {
  const days = spec.days.flatMap((on, i) => (on ? [DAY_NAMES[i]!] : [])).join(',');
  const hhmm = (m: number) => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
  return `window ${days} ${hhmm(spec.start)}-${hhmm(spec.end)} ${spec.timezone}`;
}
