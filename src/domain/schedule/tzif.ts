/**
 * Time zone rules read from compiled tz database files (TZif, RFC 8536), without Intl: the first Intl.DateTimeFormat
 * with a time zone costs ~20 ms of ICU start-up, a tenth of the whole CLI's budget.
 *
 * Offsets are in milliseconds with wall = instant + offset (UTC+9 is +32_400_000), the opposite sign of POSIX TZ
 * strings, where "JST-9" means nine hours east of Greenwich.
 */

const SECOND = 1000;
const HOUR_SECONDS = 3600;
const DAY_MS = 86_400_000;

export interface ZoneRules {
  /** Instants (ms) of the file's transitions, ascending. Not every one changes the offset (some only rename). */
  readonly transitions: readonly number[];
  /** Offset in force from transitions[i] until the next transition. */
  readonly offsets: readonly number[];
  /** Offset before the first transition: local time type 0 (RFC 8536 section 3.2). */
  readonly initialOffset: number;
  /** The footer's rule, for instants from the last transition on (or all instants when there are none). */
  readonly footer: PosixTz | undefined;
}

/** A POSIX TZ string such as "CET-1CEST,M3.5.0,M10.5.0/3", with offsets in this module's sign convention. */
export interface PosixTz {
  readonly std: { readonly name: string; readonly offset: number };
  readonly dst?: {
    readonly name: string;
    readonly offset: number;
    /** When daylight time starts, in standard local time. */
    readonly start: PosixTransition;
    /** When it ends, in daylight local time. */
    readonly end: PosixTransition;
  };
}

export interface PosixTransition {
  readonly date: PosixDate;
  /** Seconds after local midnight of that date; may be negative or beyond 24 h (RFC 8536 section 3.3.1). */
  readonly time: number;
}

export type PosixDate =
  /** Jn: day 1..365, February 29 never counted (J60 is always March 1). */
  | { readonly kind: 'julian'; readonly day: number }
  /** n: day 0..365, February 29 counted in leap years. */
  | { readonly kind: 'day-of-year'; readonly day: number }
  /** Mm.w.d: weekday d (0 = Sunday) of week w (1..5, 5 = the last) of month m. */
  | { readonly kind: 'month-week-day'; readonly month: number; readonly week: number; readonly weekday: number };

export interface OffsetChange {
  /** First instant with the new offset. */
  at: number;
  offset: number;
}

// ---------------------------------------------------------------------------------------------------------------
// TZif

const HEADER_SIZE = 44;

interface TzifHeader {
  version: number;
  isutcnt: number;
  isstdcnt: number;
  leapcnt: number;
  timecnt: number;
  typecnt: number;
  charcnt: number;
}

/** Parses a TZif file, version 1 to 4. For version 2 and later only the 64-bit data block and the footer are used. */
export function parseTzif(bytes: Uint8Array): ZoneRules {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const first = readHeader(view, 0);
  if (first.version === 0) return { ...readDataBlock(view, first, HEADER_SIZE, 4), footer: undefined };

  const secondHeaderAt = HEADER_SIZE + dataBlockSize(first, 4);
  const second = readHeader(view, secondHeaderAt);
  const blockAt = secondHeaderAt + HEADER_SIZE;
  const data = readDataBlock(view, second, blockAt, 8);
  return { ...data, footer: readFooter(bytes, blockAt + dataBlockSize(second, 8)) };
}

function readHeader(view: DataView, at: number): TzifHeader {
  if (view.byteLength < at + HEADER_SIZE) throw new Error(at === 0 ? 'not a TZif file: too short' : 'TZif: truncated');
  const magic = String.fromCharCode(
    view.getUint8(at),
    view.getUint8(at + 1),
    view.getUint8(at + 2),
    view.getUint8(at + 3),
  );
  if (magic !== 'TZif') throw new Error(at === 0 ? 'not a TZif file: bad magic' : 'TZif: no second header');
  const versionByte = view.getUint8(at + 4);
  const version = versionByte === 0 ? 0 : versionByte - 0x30;
  if (version < 0 || version > 9 || version === 1) throw new Error(`TZif: unknown version byte ${versionByte}`);
  const count = (i: number) => view.getUint32(at + 20 + 4 * i);
  return {
    version,
    isutcnt: count(0),
    isstdcnt: count(1),
    leapcnt: count(2),
    timecnt: count(3),
    typecnt: count(4),
    charcnt: count(5),
  };
}

function dataBlockSize(h: TzifHeader, timeSize: number): number {
  return (
    h.timecnt * timeSize + h.timecnt + h.typecnt * 6 + h.charcnt + h.leapcnt * (timeSize + 4) + h.isstdcnt + h.isutcnt
  );
}

function readDataBlock(view: DataView, h: TzifHeader, at: number, timeSize: 4 | 8): Omit<ZoneRules, 'footer'> {
  if (h.typecnt === 0) throw new Error('TZif: no local time types');
  if (view.byteLength < at + dataBlockSize(h, timeSize)) throw new Error('TZif: truncated');
  const typesAt = at + h.timecnt * timeSize;
  const typeRecordsAt = typesAt + h.timecnt;
  const utoffOfType = (type: number) => {
    if (type >= h.typecnt) throw new Error(`TZif: transition to undefined local time type ${type}`);
    return view.getInt32(typeRecordsAt + 6 * type) * SECOND;
  };
  const transitions: number[] = [];
  const offsets: number[] = [];
  for (let i = 0; i < h.timecnt; i++) {
    // 64-bit times as two 32-bit halves: exact below 2^53 s (zic's -2^59 sentinel included), and no BigInt, which
    // made reading a file several times slower.
    const seconds =
      timeSize === 8 ? view.getInt32(at + 8 * i) * 2 ** 32 + view.getUint32(at + 8 * i + 4) : view.getInt32(at + 4 * i);
    const instant = seconds * SECOND;
    if (i > 0 && instant <= transitions[i - 1]!) throw new Error('TZif: transitions out of order');
    transitions.push(instant);
    offsets.push(utoffOfType(view.getUint8(typesAt + i)));
  }
  // Leap-second records (the "right/" zones) are ignored: their transition times count leap seconds, so offsets
  // there are late by up to 27 s. Schedules use the POSIX-time zones, which have none.
  return { transitions, offsets, initialOffset: utoffOfType(0) };
}

function readFooter(bytes: Uint8Array, at: number): PosixTz | undefined {
  if (at >= bytes.length) return undefined;
  if (bytes[at] !== 0x0a) throw new Error('TZif: footer does not start with a newline');
  const end = bytes.indexOf(0x0a, at + 1);
  if (end < 0) throw new Error('TZif: footer does not end with a newline');
  const text = String.fromCharCode(...bytes.subarray(at + 1, end));
  // An empty footer means: no rule beyond the last transition, whose offset then holds.
  return text === '' ? undefined : parsePosixTz(text);
}

// ---------------------------------------------------------------------------------------------------------------
// POSIX TZ strings (POSIX.1-2017 section 8.3, with RFC 8536's extensions: hours up to 167 and signed rule times)

/** Default rule when a DST name comes without one; tzcode uses the US rule too. */
const DEFAULT_RULE = ',M3.2.0,M11.1.0';

export function parsePosixTz(text: string): PosixTz {
  const reader = new PosixTzReader(text);
  const stdName = reader.name();
  const stdOffset = westToEast(reader.hms('offset'));
  if (reader.done()) return { std: { name: stdName, offset: stdOffset * SECOND } };
  const dstName = reader.name();
  const dstOffset =
    reader.peek() === ',' || reader.done() ? stdOffset + HOUR_SECONDS : westToEast(reader.hms('offset'));
  const rules = reader.done() ? new PosixTzReader(DEFAULT_RULE) : reader;
  rules.expect(',');
  const start = rules.transition();
  rules.expect(',');
  const end = rules.transition();
  if (!rules.done()) rules.fail('trailing text');
  if (rules !== reader && !reader.done()) reader.fail('trailing text');
  return {
    std: { name: stdName, offset: stdOffset * SECOND },
    dst: { name: dstName, offset: dstOffset * SECOND, start, end },
  };
}

/** POSIX offsets count hours west of Greenwich ("EST5"); ours count east. 0 - x keeps "GMT0" at 0, not -0. */
function westToEast(seconds: number): number {
  return 0 - seconds;
}

class PosixTzReader {
  private pos = 0;

  constructor(private readonly text: string) {}

  done(): boolean {
    return this.pos >= this.text.length;
  }

  peek(): string | undefined {
    return this.text[this.pos];
  }

  fail(why: string): never {
    throw new Error(`invalid TZ string "${this.text}": ${why} at ${this.pos}`);
  }

  expect(char: string): void {
    if (this.text[this.pos] !== char) this.fail(`expected "${char}"`);
    this.pos++;
  }

  /** "CET", or a quoted "<+0330>" (letters, digits, + and -). At least three characters either way. */
  name(): string {
    const quoted = this.peek() === '<';
    const pattern = quoted ? /<([A-Za-z0-9+-]{3,})>/y : /[A-Za-z]{3,}/y;
    pattern.lastIndex = this.pos;
    const m = pattern.exec(this.text);
    if (!m) this.fail('expected a zone abbreviation');
    this.pos = pattern.lastIndex;
    return quoted ? m[1]! : m[0];
  }

  /** [+-]hh[:mm[:ss]] in seconds, hours 0..167. */
  hms(what: string): number {
    const pattern = /([+-]?)(\d{1,3})(?::(\d{2}))?(?::(\d{2}))?/y;
    pattern.lastIndex = this.pos;
    const m = pattern.exec(this.text);
    if (!m) this.fail(`expected an ${what}`);
    const [, sign, h, min = '0', s = '0'] = m;
    const hours = Number(h);
    if (hours > 167 || Number(min) > 59 || Number(s) > 59) this.fail(`${what} out of range`);
    this.pos = pattern.lastIndex;
    const seconds = hours * HOUR_SECONDS + Number(min) * 60 + Number(s);
    return sign === '-' ? 0 - seconds : seconds; // 0 - x: "-0" is 0, not -0
  }

  /** date[/time], time defaulting to 02:00:00. */
  transition(): PosixTransition {
    const date = this.date();
    if (this.peek() !== '/') return { date, time: 2 * HOUR_SECONDS };
    this.pos++;
    return { date, time: this.hms('transition time') };
  }

  private date(): PosixDate {
    const pattern = /M(\d{1,2})\.(\d)\.(\d)|J(\d{1,3})|(\d{1,3})/y;
    pattern.lastIndex = this.pos;
    const m = pattern.exec(this.text);
    if (!m) this.fail('expected a rule date (Mm.w.d, Jn or n)');
    let date: PosixDate;
    if (m[1] !== undefined) {
      date = { kind: 'month-week-day', month: Number(m[1]), week: Number(m[2]), weekday: Number(m[3]) };
      if (date.month < 1 || date.month > 12 || date.week < 1 || date.week > 5 || date.weekday > 6) {
        this.fail('month, week or weekday out of range');
      }
    } else if (m[4] !== undefined) {
      date = { kind: 'julian', day: Number(m[4]) };
      if (date.day < 1 || date.day > 365) this.fail('Julian day out of range (1..365)');
    } else {
      date = { kind: 'day-of-year', day: Number(m[5]) };
      if (date.day > 365) this.fail('day of year out of range (0..365)');
    }
    this.pos = pattern.lastIndex;
    return date;
  }
}

/** Wall-clock ms of local midnight of a rule's date in a year. */
function ruleDay(date: PosixDate, year: number): number {
  const jan1 = utcDate(year, 0, 1);
  switch (date.kind) {
    case 'julian': {
      const leapDay = isLeapYear(year) && date.day >= 60 ? 1 : 0;
      return jan1 + (date.day - 1 + leapDay) * DAY_MS;
    }
    case 'day-of-year':
      return jan1 + date.day * DAY_MS;
    case 'month-week-day': {
      const first = utcDate(year, date.month - 1, 1);
      const firstWeekday = new Date(first).getUTCDay();
      let day = 1 + ((date.weekday - firstWeekday + 7) % 7) + 7 * (date.week - 1);
      const length = daysInMonth(year, date.month);
      while (day > length) day -= 7;
      return first + (day - 1) * DAY_MS;
    }
  }
}

function utcDate(year: number, monthIndex: number, day: number): number {
  const d = new Date(0);
  d.setUTCFullYear(year, monthIndex, day);
  return d.getTime();
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function daysInMonth(year: number, month: number): number {
  return month === 2 ? (isLeapYear(year) ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;
}

function utcYear(instant: number): number {
  return new Date(instant).getUTCFullYear();
}

/** Instants at which a POSIX rule switches offset in one year: to daylight time, then back (or the reverse). */
function yearChanges(dst: NonNullable<PosixTz['dst']>, stdOffset: number, year: number): OffsetChange[] {
  const start = ruleDay(dst.start.date, year) + dst.start.time * SECOND - stdOffset;
  const end = ruleDay(dst.end.date, year) + dst.end.time * SECOND - dst.offset;
  return start <= end
    ? [
        { at: start, offset: dst.offset },
        { at: end, offset: stdOffset },
      ]
    : [
        { at: end, offset: stdOffset },
        { at: start, offset: dst.offset },
      ];
}

const changesByYear = new WeakMap<PosixTz, Map<number, OffsetChange[]>>();

/**
 * The rule's switches over years [fromYear, toYear], in time order. When two fall on one instant (a zone on daylight
 * time all year, "EST5EDT,0/0,J365/25", ends one year's daylight time as the next one's starts) the later year's wins.
 */
function ruleChanges(tz: PosixTz, fromYear: number, toYear: number): OffsetChange[] {
  const dst = tz.dst;
  if (!dst) return [];
  let cache = changesByYear.get(tz);
  if (!cache) {
    cache = new Map();
    changesByYear.set(tz, cache);
  }
  const all: OffsetChange[] = [];
  for (let year = fromYear; year <= toYear; year++) {
    let changes = cache.get(year);
    if (!changes) {
      changes = yearChanges(dst, tz.std.offset, year);
      cache.set(year, changes);
    }
    all.push(...changes);
  }
  // Rule times may reach a week into the next year, so one year's changes can follow the next year's first.
  all.sort((a, b) => a.at - b.at);
  return all.filter((c, i) => all[i + 1]?.at !== c.at);
}

/** Offset a POSIX TZ rule gives at an instant. */
export function posixOffsetAt(tz: PosixTz, instant: number): number {
  if (!tz.dst) return tz.std.offset;
  const year = utcYear(instant);
  let offset = tz.std.offset;
  for (const c of ruleChanges(tz, year - 2, year + 1)) {
    if (c.at > instant) break;
    offset = c.offset;
  }
  return offset;
}

/** Instants in [from, to) at which a POSIX TZ rule's offset changes, with the offset from then on. */
export function posixOffsetChanges(tz: PosixTz, from: number, to: number): OffsetChange[] {
  if (!tz.dst || !(from < to)) return [];
  let offset = posixOffsetAt(tz, from - 1);
  const out: OffsetChange[] = [];
  for (const c of ruleChanges(tz, utcYear(from) - 1, utcYear(to) + 1)) {
    if (c.at < from || c.offset === offset) continue;
    if (c.at >= to) break;
    out.push(c);
    offset = c.offset;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Zone rules: the transition table, then the footer

/** Index of the last transition at or before the instant, -1 when there is none. */
function transitionIndex(rules: ZoneRules, instant: number): number {
  const t = rules.transitions;
  let lo = -1;
  let hi = t.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (t[mid]! <= instant) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * UTC offset (ms) in force at an instant: wall = instant + offset. From the last transition on the footer decides,
 * as in glibc (whose reading cron and systemd get); tzcode and ICU differ only for files whose footer disagrees with
 * their last transition, until the footer's next switch.
 */
export function zoneOffsetAt(rules: ZoneRules, instant: number): number {
  const i = transitionIndex(rules, instant);
  const last = rules.transitions.length - 1;
  if (rules.footer && i === last) return posixOffsetAt(rules.footer, instant);
  return i < 0 ? rules.initialOffset : rules.offsets[i]!;
}

/**
 * Instants in [from, to) at which the offset changes, each with the offset from then on: consecutive entries bound
 * the constant-offset stretches of the zone. Transitions that change only a zone's name are left out.
 */
export function zoneOffsetChanges(rules: ZoneRules, from: number, to: number): OffsetChange[] {
  const out: OffsetChange[] = [];
  if (!(from < to)) return out;
  let offset = zoneOffsetAt(rules, from - 1);
  const push = (c: OffsetChange) => {
    if (c.offset === offset) return;
    out.push(c);
    offset = c.offset;
  };
  const t = rules.transitions;
  for (let i = Math.max(0, transitionIndex(rules, from - 1) + 1); i < t.length && t[i]! < to; i++) {
    push({ at: t[i]!, offset: zoneOffsetAt(rules, t[i]!) });
  }
  if (rules.footer) {
    const lastTransition = t.length > 0 ? t[t.length - 1]! : -Infinity;
    for (const c of posixOffsetChanges(rules.footer, Math.max(from, lastTransition + 1), to)) push(c);
  }
  return out;
}
