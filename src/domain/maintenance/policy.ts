import { DAY, MINUTE } from '../schedule/types.js';
import { zoneClock } from '../schedule/tz.js';
import { describeWindow, type WindowSpec } from '../schedule/window.js';

/** Why a node wants maintenance, and whether its window and schedule allow it now. Pure: `now` is a parameter. */

export type WantReason = 'sentinel' | 'sentinel-command' | 'schedule' | 'request';

export interface WantSignals {
  /** The sentinel file exists (kured's /var/run/reboot-required). */
  sentinel: boolean;
  /** The sentinel command exited 0 (undefined: none configured). */
  sentinelCommand?: boolean;
  /** An operator ran `lifeboat maintain request NODE`. */
  requested: boolean;
  /** The node's `maintenance.every` policy is due right now (see scheduleDue). */
  scheduleDue: boolean;
}

export function wantReasons(signals: WantSignals): WantReason[] {
  const reasons: WantReason[] = [];
  if (signals.sentinel) reasons.push('sentinel');
  if (signals.sentinelCommand) reasons.push('sentinel-command');
  if (signals.scheduleDue) reasons.push('schedule');
  if (signals.requested) reasons.push('request');
  return reasons;
}

export function describeReasons(reasons: WantReason[]): string {
  const words: Record<WantReason, string> = {
    sentinel: 'reboot-required sentinel present',
    'sentinel-command': 'sentinel command says reboot',
    schedule: 'maintenance schedule due',
    request: 'operator request',
  };
  return reasons.map((r) => words[r]).join(', ');
}

/**
 * True when `now` falls inside the window (wall clock of its time zone). A window whose end is not after its start
 * runs past midnight and belongs to the day it starts on; start == end is a whole day from start.
 */
export function insideWindow(spec: WindowSpec, now: number): boolean {
  const wall = zoneClock(spec.timezone, now - DAY, now + DAY).wallAt(now);
  const day = new Date(wall).getUTCDay();
  const minute = Math.floor((((wall % DAY) + DAY) % DAY) / MINUTE);
  if (spec.end > spec.start) return Boolean(spec.days[day]) && minute >= spec.start && minute < spec.end;
  const yesterday = (day + 6) % 7;
  return (Boolean(spec.days[day]) && minute >= spec.start) || (Boolean(spec.days[yesterday]) && minute < spec.end);
}

/**
 * The `every` policy (the replacement for a reboot cron job): due once `everyMs` has passed since the last completed
 * maintenance (never done: due), and only inside the window when there is one.
 */
export function scheduleDue(input: {
  everyMs: number | undefined;
  window: WindowSpec | undefined;
  lastCompletedAt: number | undefined;
  now: number;
}): boolean {
  if (input.everyMs === undefined) return false;
  if (input.window && !insideWindow(input.window, input.now)) return false;
  return input.lastCompletedAt === undefined || input.now - input.lastCompletedAt >= input.everyMs;
}

export function windowText(spec: WindowSpec): string {
  return describeWindow(spec);
}
