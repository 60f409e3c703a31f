import { type CalendarExpr, parseCalendar } from './calendar.js';
import { ScheduleSyntaxError, SourceLineError } from './types.js';

/**
 * A systemd .timer unit that triggers a reboot: `OnCalendar=` lines of the [Timer] section (an empty assignment
 * resets the list, as systemd does), `RandomizedDelaySec=` (an uncertainty window after each elapse) and
 * `AccuracySec=` when set explicitly (systemd may coalesce the elapse that much later). Monotonic timers
 * (OnBootSec=...) are noted, not simulated.
 */
export interface TimerUnit {
  calendars: { line: number; expr: CalendarExpr }[];
  jitterMs: number;
  notes: { line: number; text: string; reason: string }[];
}

export function parseTimerUnit(text: string): TimerUnit {
  const unit: TimerUnit = { calendars: [], jitterMs: 0, notes: [] };
  let section = '';
  let randomized = 0;
  let accuracy = 0;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    let raw = lines[i]!;
    while (raw.endsWith('\\') && i + 1 < lines.length) raw = `${raw.slice(0, -1)} ${lines[++i]}`;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#') || trimmed.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(trimmed);
    if (header) {
      section = header[1]!;
      continue;
    }
    const kv = /^([A-Za-z]+)\s*=\s*(.*)$/.exec(trimmed);
    if (!kv) {
      unit.notes.push({ line: lineNo, text: trimmed, reason: 'not a Key=Value line' });
      continue;
    }
    if (section !== 'Timer') continue;
    const [, key, value = ''] = kv;
    if (key === 'OnCalendar') {
      if (value.trim() === '') unit.calendars = [];
      else {
        try {
          unit.calendars.push({ line: lineNo, expr: parseCalendar(value) });
        } catch (err) {
          if (err instanceof ScheduleSyntaxError) throw new SourceLineError(lineNo, err.message);
          throw err;
        }
      }
    } else if (key === 'RandomizedDelaySec' || key === 'AccuracySec') {
      const ms = parseTimespan(value);
      if (ms === undefined) {
        throw new SourceLineError(lineNo, `invalid ${key} "${value}" (a time span, e.g. 30min, 1h 30m, 90)`);
      }
      if (key === 'RandomizedDelaySec') randomized = ms;
      else accuracy = ms;
    } else if (/^On(Boot|Startup|Active|UnitActive|UnitInactive)Sec$/.test(key!)) {
      unit.notes.push({
        line: lineNo,
        text: trimmed,
        reason: `${key} is relative to boot or activation; not simulated`,
      });
    }
  }
  unit.jitterMs = randomized + accuracy;
  return unit;
}

const SPAN_UNITS: [RegExp, number][] = [
  [/^(us|usec|µs)$/, 0.001],
  [/^(ms|msec)$/, 1],
  [/^(s|sec|secs|second|seconds|)$/, 1000],
  [/^(m|min|mins|minute|minutes)$/, 60_000],
  [/^(h|hr|hrs|hour|hours)$/, 3_600_000],
  [/^(d|day|days)$/, 86_400_000],
  [/^(w|week|weeks)$/, 604_800_000],
  [/^(M|month|months)$/, 2_629_800_000],
  [/^(y|year|years)$/, 31_557_600_000],
];

/** systemd time spans: "90", "30min", "1h 30m", "2h30min" (a bare number is seconds). */
export function parseTimespan(text: string): number | undefined {
  const s = text.trim();
  if (s === '') return undefined;
  let total = 0;
  let consumed = 0;
  for (const m of s.matchAll(/\s*(\d+(?:\.\d+)?)\s*([A-Za-zµ]*)/g)) {
    if (m.index !== consumed) return undefined;
    const unit = SPAN_UNITS.find(([re]) => re.test(m[2]!));
    if (!unit) return undefined;
    total += Number(m[1]) * unit[1];
    consumed += m[0].length;
  }
  return consumed === s.length ? Math.round(total) : undefined;
}
