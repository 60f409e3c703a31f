import { ScheduleSyntaxError } from './types.js';
import { isKnownTimeZone } from './tz.js';

/**
 * The systemd OnCalendar subset people use for reboot timers (systemd.time(7)):
 *   [WEEKDAYS] [[YEAR-]MONTH-DAY] [HOUR:MINUTE[:SECOND]] [TIMEZONE]
 * WEEKDAYS: `Mon`, `Monday`, lists `Sat,Sun`, ranges `Mon..Fri`. Each date/time component: `*`, numbers, lists,
 * ranges `a..b`, repetitions `a/n` or `a..b/n`. Shorthands: minutely hourly daily weekly monthly yearly annually
 * quarterly semiannually. Weekday and date restrictions must BOTH hold (unlike cron's OR rule). Not supported
 * (reported as errors): `~` (days from the month's end), fractional seconds.
 */
export interface CalendarExpr {
  source: string;
  /** Undefined: any year. */
  years?: Set<number>;
  /** Indexed 1..12. */
  month: boolean[];
  /** Indexed 1..31. */
  day: boolean[];
  /** Indexed 0..6 (Sunday 0). */
  weekday: boolean[];
  hours: number[];
  minutes: number[];
  seconds: number[];
  /** Time zone written in the expression itself, if any. */
  timezone?: string;
}

const SHORTHANDS: Record<string, string> = {
  minutely: '*-*-* *:*:00',
  hourly: '*-*-* *:00:00',
  daily: '*-*-* 00:00:00',
  monthly: '*-*-01 00:00:00',
  weekly: 'Mon *-*-* 00:00:00',
  yearly: '*-01-01 00:00:00',
  annually: '*-01-01 00:00:00',
  quarterly: '*-01,04,07,10-01 00:00:00',
  semiannually: '*-01,07-01 00:00:00',
};

const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const WEEKDAY_LONG = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];

export function parseCalendar(text: string): CalendarExpr {
  const source = text.trim();
  let tokens = source.split(/\s+/).filter(Boolean);
  if (tokens.length === 0) throw new ScheduleSyntaxError('OnCalendar', source, 'empty expression');
  let timezone: string | undefined;
  const last = tokens[tokens.length - 1]!;
  if (tokens.length > 1 && /[A-Za-z]/.test(last) && !/[:*]/.test(last) && isKnownTimeZone(last)) {
    timezone = last;
    tokens = tokens.slice(0, -1);
  }
  const first = tokens[0]!.toLowerCase();
  if (tokens.length === 1 && SHORTHANDS[first]) tokens = SHORTHANDS[first].split(' ');

  let weekday: boolean[] = new Array(7).fill(true);
  let dateText = '*-*-*';
  let timeText = '00:00:00';
  let rest = tokens;
  if (rest[0] && /^[a-z]/i.test(rest[0]) && !rest[0].includes(':')) {
    weekday = parseWeekdays(rest[0]);
    rest = rest.slice(1);
  }
  if (rest[0]?.includes('-') && !rest[0].includes(':')) {
    dateText = rest[0];
    rest = rest.slice(1);
  }
  if (rest[0]?.includes(':')) {
    timeText = rest[0];
    rest = rest.slice(1);
  }
  if (rest.length > 0) {
    const bad = rest[0]!;
    const reason = /[A-Za-z]/.test(bad) ? 'not a weekday, date, time or known time zone' : 'unexpected part';
    throw new ScheduleSyntaxError('OnCalendar', bad, reason);
  }

  const dateParts = dateText.split('-');
  if (dateParts.length < 2 || dateParts.length > 3) {
    throw new ScheduleSyntaxError('OnCalendar date', dateText, 'expected [YEAR-]MONTH-DAY');
  }
  const [yearText, monthText, dayText] = dateParts.length === 3 ? dateParts : ['*', ...dateParts];
  const timeParts = timeText.split(':');
  if (timeParts.length < 2 || timeParts.length > 3) {
    throw new ScheduleSyntaxError('OnCalendar time', timeText, 'expected HOUR:MINUTE[:SECOND]');
  }
  const [hourText, minuteText, secondText = '00'] = timeParts;

  const yearBits = parseComponent('OnCalendar year', yearText!, 1970, 2199);
  const listOf = (bits: boolean[]) => bits.flatMap((on, v) => (on ? [v] : []));
  return {
    source,
    years: yearText === '*' ? undefined : new Set(listOf(yearBits)),
    month: parseComponent('OnCalendar month', monthText!, 1, 12),
    day: parseComponent('OnCalendar day', dayText!, 1, 31),
    weekday,
    hours: listOf(parseComponent('OnCalendar hour', hourText!, 0, 23)),
    minutes: listOf(parseComponent('OnCalendar minute', minuteText!, 0, 59)),
    seconds: listOf(parseComponent('OnCalendar second', secondText, 0, 59)),
    timezone,
  };
}

function parseWeekdays(text: string): boolean[] {
  const bits: boolean[] = new Array(7).fill(false);
  const dayOf = (name: string): number => {
    const lower = name.toLowerCase();
    const idx = lower.length <= 3 ? WEEKDAYS.indexOf(lower) : WEEKDAY_LONG.indexOf(lower);
    if (idx < 0) throw new ScheduleSyntaxError('OnCalendar weekday', name, 'use Mon..Sun or Monday..Sunday');
    return idx;
  };
  for (const item of text.split(',')) {
    const range = item.includes('..') ? item.split('..') : item.split('-');
    if (range.length === 1) bits[dayOf(range[0]!)] = true;
    else if (range.length === 2) {
      // Weekday ranges run Monday-first as systemd's do: Fri..Mon wraps over the weekend.
      const from = dayOf(range[0]!);
      const to = dayOf(range[1]!);
      for (let d = from; ; d = (d + 1) % 7) {
        bits[d] = true;
        if (d === to) break;
      }
    } else throw new ScheduleSyntaxError('OnCalendar weekday', item, 'a range has two ends: Mon..Fri');
  }
  return bits;
}

function parseComponent(field: string, text: string, min: number, max: number): boolean[] {
  const bits: boolean[] = new Array(max + 1).fill(false);
  const fail = (reason: string): never => {
    throw new ScheduleSyntaxError(field, text, reason);
  };
  if (text.includes('~')) fail('"~" (counting from the month\'s end) is not supported');
  for (const item of text.split(',')) {
    const [rangeText = '', stepText, extra] = item.split('/');
    if (extra !== undefined) fail('more than one "/"');
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText) || Number(stepText) < 1) fail(`repetition "${stepText}" must be a positive number`);
      step = Number(stepText);
    }
    const num = (s: string): number => {
      if (!/^\d+$/.test(s)) fail(/\d\.\d/.test(s) ? 'fractions are not supported' : `${min}..${max}`);
      const n = Number(s);
      if (n < min || n > max) fail(`${min}..${max}`);
      return n;
    };
    let lo: number;
    let hi: number;
    if (rangeText === '*') {
      lo = min;
      hi = max;
    } else if (rangeText.includes('..')) {
      const [a = '', b = ''] = rangeText.split('..');
      lo = num(a);
      hi = num(b);
      if (hi < lo) fail(`range ${rangeText} runs backwards`);
    } else {
      lo = num(rangeText);
      hi = stepText !== undefined ? max : lo;
    }
    for (let v = lo; v <= hi; v += step) bits[v] = true;
  }
  return bits;
}

export function calendarDayMatches(expr: CalendarExpr, year: number, month: number, day: number, weekday: number) {
  if (expr.years && !expr.years.has(year)) return false;
  return expr.month[month] === true && expr.day[day] === true && expr.weekday[weekday] === true;
}

/** Seconds since midnight at which the timer elapses on a matching day, ascending. */
export function calendarTimesOfDay(expr: CalendarExpr): number[] {
  const out: number[] = [];
  for (const h of expr.hours)
    for (const m of expr.minutes) for (const s of expr.seconds) out.push(h * 3600 + m * 60 + s);
  return out;
}
