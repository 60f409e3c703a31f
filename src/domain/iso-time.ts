/**
 * ISO-8601 instants without luxon: luxon (and through it Intl and ICU, ~40 ms of start-up) is loaded only for the
 * rare forms this does not read. Pure.
 */

/** YYYY-MM-DD[THH:MM[:SS[.fff]][Z|±HH:MM|±HHMM]], as luxon's fromISO reads it. */
const COMMON_ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,30}))?)?(?:([Zz])|([+-])(\d{2}):?(\d{2}))?)?$/;

/**
 * Epoch ms of a common ISO-8601 form; NaN when it names a date or time that does not exist (2026-02-30, 25:00);
 * undefined for any other form, an offset beyond ±23:59 or a year before 100, which luxon is left to judge.
 */
export function parseCommonIso(text: string): number | undefined {
  const m = COMMON_ISO.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h = '0', mi = '0', s = '0', fraction, zulu, sign, offH = '0', offM = '0'] = m;
  if (Number(offH) > 23 || Number(offM) > 59) return undefined;
  const [year, month, day, hour, minute, second] = [Number(y), Number(mo), Number(d), Number(h), Number(mi), Number(s)];
  if (year < 100) return undefined; // luxon has its own reading of years 0..99 (24:00 stays on the same day)
  // luxon's rounding of fractional seconds: whole milliseconds, truncated.
  const millis = fraction === undefined ? 0 : Math.floor(Number.parseFloat(`0.${fraction}`) * 1000);
  const monthLength = [31, isLeapYear(year) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1] ?? 0;
  if (day < 1 || day > monthLength) return Number.NaN; // also month 00 or 13
  const endOfDay = hour === 24 && minute === 0 && second === 0 && millis === 0; // 24:00 is next midnight, as in luxon
  if ((hour > 23 && !endOfDay) || minute > 59 || second > 59) return Number.NaN;
  const wall = Date.UTC(year, month - 1, day, hour, minute, second, millis);
  const offsetMinutes = Number(offH) * 60 + Number(offM);
  const offset = zulu !== undefined || sign === undefined ? 0 : (sign === '-' ? -1 : 1) * offsetMinutes * 60_000;
  return wall - offset;
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}
