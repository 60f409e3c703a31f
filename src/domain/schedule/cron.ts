import { ScheduleSyntaxError } from './types.js';

/**
 * Five-field cron with Vixie cron / cronie semantics:
 * - lists `1,15`, ranges `1-5`, steps `*\/10` and `8-18/2`; a single number with a step (`5/15`) means `5-max/15`
 *   as cronie reads it; month (jan-dec) and day-of-week (sun-sat) names, anywhere a number may stand;
 * - day-of-week 0-7, where both 0 and 7 are Sunday;
 * - when day-of-month and day-of-week are both restricted (neither field starts with `*`), a day matches when
 *   EITHER matches; otherwise both must (cronie's DOM_STAR/DOW_STAR rule: `*\/2` counts as starred);
 * - `@yearly @annually @monthly @weekly @daily @midnight @hourly`, and `@reboot` (no time: runs at every boot);
 * - a job is "wildcard" when its minute or hour field starts with `*` (cronie's MIN_STAR/HR_STAR): that decides
 *   its behaviour around DST changes (see docs/adr/002-cron-dst-semantics.md).
 */
export interface CronExpr {
  source: string;
  /** The five fields as written (after expanding an @-keyword). */
  fields: [string, string, string, string, string];
  minutes: number[];
  hours: number[];
  /** Indexed 1..31. */
  dom: boolean[];
  /** Indexed 1..12. */
  month: boolean[];
  /** Indexed 0..6 (Sunday 0). */
  dow: boolean[];
  domStar: boolean;
  dowStar: boolean;
  wild: boolean;
  /** `@reboot`: no calendar times at all. */
  atReboot: boolean;
}

const SPECIALS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

interface FieldDef {
  name: string;
  min: number;
  max: number;
  names?: string[];
  /** Value of names[0]. */
  nameBase?: number;
}

const FIELD_DEFS: FieldDef[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTHS, nameBase: 1 },
  { name: 'day-of-week', min: 0, max: 7, names: DAYS, nameBase: 0 },
];

const memo = new Map<string, CronExpr>();

/** Parse (memoised: the config check and the inventory read the same lines; results are never mutated). */
export function parseCron(text: string): CronExpr {
  let expr = memo.get(text);
  if (!expr) {
    expr = parseUncached(text);
    if (memo.size >= 20_000) memo.clear();
    memo.set(text, expr);
  }
  return expr;
}

function parseUncached(text: string): CronExpr {
  const source = text.trim();
  if (source.startsWith('@')) {
    const keyword = source.toLowerCase();
    if (keyword === '@reboot') {
      return {
        source,
        fields: ['@reboot', '', '', '', ''],
        minutes: [],
        hours: [],
        dom: [],
        month: [],
        dow: [],
        domStar: true,
        dowStar: true,
        wild: false,
        atReboot: true,
      };
    }
    const expanded = SPECIALS[keyword];
    if (!expanded) {
      throw new ScheduleSyntaxError(
        'cron',
        source,
        `unknown keyword; use ${Object.keys(SPECIALS).join(' ')} @reboot`,
        1,
      );
    }
    return { ...parseFields(expanded), source };
  }
  return parseFields(source);
}

function parseFields(source: string): CronExpr {
  const parts = source.split(/\s+/).filter(Boolean);
  if (parts.length !== 5) {
    const what = parts.length < 5 ? 'too few fields' : 'too many fields';
    throw new ScheduleSyntaxError('cron', source, `${what}: need 5 — minute hour day-of-month month day-of-week`, 1);
  }
  const columns: number[] = [];
  let col = 0;
  for (const part of parts) {
    col = source.indexOf(part, col);
    columns.push(col + 1);
    col += part.length;
  }
  const sets = parts.map((part, i) => parseField(part, FIELD_DEFS[i]!, columns[i]!));
  const dowBits = sets[4]!;
  if (dowBits[7]) dowBits[0] = true;
  const listOf = (bits: boolean[]) => bits.flatMap((on, v) => (on ? [v] : []));
  return {
    source,
    fields: parts as CronExpr['fields'],
    minutes: listOf(sets[0]!),
    hours: listOf(sets[1]!),
    dom: sets[2]!,
    month: sets[3]!,
    dow: dowBits.slice(0, 7),
    domStar: parts[2]!.startsWith('*'),
    dowStar: parts[4]!.startsWith('*'),
    wild: parts[0]!.startsWith('*') || parts[1]!.startsWith('*'),
    atReboot: false,
  };
}

function parseField(text: string, def: FieldDef, column: number): boolean[] {
  const bits: boolean[] = new Array(def.max + 1).fill(false);
  const fail = (reason: string): never => {
    throw new ScheduleSyntaxError(def.name, text, reason, column);
  };
  const rangeText = `${def.min}-${def.max}${def.names ? ` or ${def.names[0]}-${def.names[def.names.length - 1]}` : ''}`;
  for (const item of text.split(',')) {
    if (item === '') fail(`empty list item; allowed ${rangeText}`);
    const [rangePart = '', stepPart, extra] = item.split('/');
    if (extra !== undefined) fail('more than one "/"');
    let step = 1;
    if (stepPart !== undefined) {
      if (!/^\d+$/.test(stepPart)) fail(`step "${stepPart}" is not a number`);
      step = Number(stepPart);
      if (step < 1) fail('step must be at least 1');
    }
    let lo: number;
    let hi: number;
    if (rangePart === '*') {
      lo = def.min;
      hi = def.max;
    } else {
      const dash = rangePart.indexOf('-');
      if (dash >= 0) {
        lo = value(rangePart.slice(0, dash), def, fail, rangeText);
        hi = value(rangePart.slice(dash + 1), def, fail, rangeText);
        if (hi < lo) fail(`range ${rangePart} runs backwards`);
      } else {
        lo = value(rangePart, def, fail, rangeText);
        hi = stepPart !== undefined ? def.max : lo;
      }
    }
    for (let v = lo; v <= hi; v += step) bits[v] = true;
  }
  return bits;
}

function value(text: string, def: FieldDef, fail: (reason: string) => never, rangeText: string): number {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    if (n < def.min || n > def.max) fail(rangeText);
    return n;
  }
  if (def.names) {
    const idx = def.names.indexOf(text.toLowerCase());
    if (idx >= 0) return idx + (def.nameBase ?? 0);
    if (/^[a-z]+$/i.test(text)) return fail(`unknown name "${text}"; allowed ${rangeText}`);
  }
  return fail(text === '' ? `missing number; allowed ${rangeText}` : rangeText);
}

/** Does the job run on this civil day? (month AND day rule; weekday 0 = Sunday.) */
export function cronDayMatches(expr: CronExpr, month: number, day: number, weekday: number): boolean {
  if (!expr.month[month]) return false;
  const domOk = expr.dom[day] === true;
  const dowOk = expr.dow[weekday] === true;
  return expr.domStar || expr.dowStar ? domOk && dowOk : domOk || dowOk;
}

/** Times of day (minutes since midnight, ascending) at which the job runs on a matching day. */
export function cronTimesOfDay(expr: CronExpr): number[] {
  const out: number[] = [];
  for (const h of expr.hours) for (const m of expr.minutes) out.push(h * 60 + m);
  return out;
}
