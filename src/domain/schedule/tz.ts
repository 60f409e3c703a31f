import { createRequire } from 'node:module';
import type * as Luxon from 'luxon';
import { DAY, HOUR, type Interval } from './types.js';
import { type ZoneRules, zoneOffsetAt, zoneOffsetChanges } from './tzif.js';

/**
 * A time zone's UTC offsets over a span of time, as segments of constant offset. Turning a wall-clock time into
 * instants is then arithmetic: no date library call per occurrence (5,000 nodes x a year stays fast).
 *
 * "Wall" milliseconds are a local date-time written as if it were UTC (Date.UTC(y, m, d, h, min)).
 */
export interface Segment {
  /** First instant with this offset (-Infinity for the first segment). */
  start: number;
  /** First instant after it (Infinity for the last). */
  end: number;
  /** Offset in ms: wall = instant + offset. */
  offset: number;
}

export type WallResolution =
  | { kind: 'normal'; at: number }
  /** The wall time never happens (spring forward); `after` is the first instant after the jump. */
  | { kind: 'gap'; after: number }
  /** The wall time happens twice (autumn back). */
  | { kind: 'repeat'; first: number; second: number };

const SAMPLE = 6 * HOUR;

/**
 * Where zone rules come from. The CLI installs the system's tz files (adapters/zoneinfo.ts); without a source, or
 * for a zone it does not know, luxon and Intl answer. Intl costs ~20 ms of ICU start-up on first use, and luxon
 * (which asks Intl for the system locale) as much again, so both are left alone unless needed.
 */
export type ZoneRulesLookup = (zone: string) => ZoneRules | undefined;

let lookupRules: ZoneRulesLookup | undefined;

/** Clocks by zone and span (zoneClock); built from one source, so emptied when the source changes. */
const clocks = new Map<string, ZoneClock>();

/** Installs a zone rules source (undefined: Intl only) and returns the previous one. */
export function useZoneRules(lookup: ZoneRulesLookup | undefined): ZoneRulesLookup | undefined {
  const previous = lookupRules;
  lookupRules = lookup;
  clocks.clear();
  return previous;
}

function rulesOf(zone: string): ZoneRules | undefined {
  return lookupRules?.(zone);
}

const require = createRequire(import.meta.url);
let luxonModule: typeof Luxon | undefined;

/** luxon, loaded on first use only: the fallback for zones the rules source does not know. */
function luxon(): typeof Luxon {
  luxonModule ??= require('luxon') as typeof Luxon;
  return luxonModule;
}

export function isKnownTimeZone(name: string): boolean {
  if (rulesOf(name)) return true;
  return luxon().IANAZone.isValidZone(name);
}

/** UTC offset (ms) in force in a zone at an instant: wall = instant + offset. The zone must be known. */
export function offsetAtInstant(zone: string, instant: number): number {
  const rules = rulesOf(zone);
  if (rules) return zoneOffsetAt(rules, instant);
  const { DateTime } = luxon();
  // DateTime, not IANAZone: it also reads luxon's own names such as "utc" and "UTC+3", as describe.ts used to.
  const dt = DateTime.fromMillis(instant, { zone });
  if (!dt.isValid) throw new Error(`unknown time zone "${zone}"`);
  return dt.offset * 60_000;
}

export class ZoneClock {
  /** Constant-offset stretches, in time order, covering all instants. */
  readonly segments: readonly Readonly<Segment>[];

  constructor(
    readonly zone: string,
    from: number,
    to: number,
  ) {
    const rules = rulesOf(zone);
    if (rules) {
      this.segments = segmentsFromRules(rules, from - 2 * DAY, to + 2 * DAY);
      return;
    }
    const { IANAZone } = luxon();
    if (!IANAZone.isValidZone(zone)) throw new Error(`unknown time zone "${zone}"`);
    this.segments = sampleSegments(IANAZone.create(zone), from - 2 * DAY, to + 2 * DAY);
  }

  /** Offset (ms) in force at an instant. */
  offsetAt(instant: number): number {
    return this.segments[this.segmentIndexOfInstant(instant)]!.offset;
  }

  wallAt(instant: number): number {
    return instant + this.offsetAt(instant);
  }

  /** The one instant showing this wall-clock time, or NaN when it shows none or two (then ask `resolve`). */
  instantOf(wall: number): number {
    const segs = this.segments;
    if (segs.length === 1) return wall - segs[0]!.offset;
    const i = this.lastSegmentStartingBefore(wall);
    const seg = segs[i]!;
    const prev = segs[i - 1];
    if (wall - seg.offset >= seg.end) return Number.NaN;
    if (prev !== undefined && wall - prev.offset < prev.end) return Number.NaN;
    return wall - seg.offset;
  }

  /** Which instants show this wall-clock time. */
  resolve(wall: number): WallResolution {
    const segs = this.segments;
    const i = this.lastSegmentStartingBefore(wall);
    const seg = segs[i]!;
    const inSeg = wall - seg.offset < seg.end;
    const prev = segs[i - 1];
    const inPrev = prev !== undefined && wall - prev.offset < prev.end && wall - prev.offset >= prev.start;
    if (inSeg && inPrev) return { kind: 'repeat', first: wall - prev.offset, second: wall - seg.offset };
    if (inSeg) return { kind: 'normal', at: wall - seg.offset };
    return { kind: 'gap', after: seg.end };
  }

  /** The instants whose wall clock reads a time in [wallStart, wallEnd): one interval, or two around a repeat. */
  wallRange(wallStart: number, wallEnd: number): Interval[] {
    const out: Interval[] = [];
    for (const seg of this.segments) {
      const start = Math.max(seg.start, wallStart - seg.offset);
      const end = Math.min(seg.end, wallEnd - seg.offset);
      if (end <= start) continue;
      const last = out[out.length - 1];
      if (last && start <= last.end) last.end = Math.max(last.end, end);
      else out.push({ start, end });
    }
    return out;
  }

  private segmentIndexOfInstant(instant: number): number {
    const segs = this.segments;
    let lo = 0;
    let hi = segs.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (segs[mid]!.start <= instant) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Last segment whose wall-clock start is <= wall (wall starts increase: offsets change by less than a segment). */
  private lastSegmentStartingBefore(wall: number): number {
    const segs = this.segments;
    let lo = 0;
    let hi = segs.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (segs[mid]!.start + segs[mid]!.offset <= wall) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}

/** Segments straight from the zone's transitions: exact, and no Intl. */
function segmentsFromRules(rules: ZoneRules, from: number, to: number): Segment[] {
  const segments: Segment[] = [{ start: -Infinity, end: Infinity, offset: zoneOffsetAt(rules, from) }];
  for (const change of zoneOffsetChanges(rules, from, to)) {
    const last = segments[segments.length - 1]!;
    if (change.offset === last.offset) continue; // a change exactly at `from` is already the first segment's
    last.end = change.at;
    segments.push({ start: change.at, end: Infinity, offset: change.offset });
  }
  return segments;
}

/**
 * Segments found by asking Intl (through luxon) every 6 hours and binary-searching each change: the fallback for
 * zones the rules source does not know. Assumes no zone changes offset twice within 6 hours.
 */
function sampleSegments(zone: Luxon.IANAZone, from: number, to: number): Segment[] {
  const offsetOf = (t: number) => zone.offset(t) * 60_000;
  const segments: Segment[] = [{ start: -Infinity, end: Infinity, offset: offsetOf(from) }];
  if (zone.isUniversal) return segments;
  let prevT = from;
  let prevOffset = segments[0]!.offset;
  for (let t = from + SAMPLE; t < to + SAMPLE; t += SAMPLE) {
    const offset = offsetOf(t);
    if (offset === prevOffset) {
      prevT = t;
      continue;
    }
    // Binary search for the first second with the new offset (transitions fall on whole seconds).
    let lo = Math.floor(prevT / 1000);
    let hi = Math.ceil(t / 1000);
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (offsetOf(mid * 1000) === prevOffset) lo = mid;
      else hi = mid;
    }
    const at = hi * 1000;
    segments[segments.length - 1]!.end = at;
    segments.push({ start: at, end: Infinity, offset });
    prevT = t;
    prevOffset = offset;
  }
  return segments;
}

/** A shared clock for a zone covering [from, to] (memoised: building one costs a few hundred offset lookups). */
export function zoneClock(zone: string, from: number, to: number): ZoneClock {
  const key = `${zone}|${from}|${to}`;
  let clock = clocks.get(key);
  if (!clock) {
    if (clocks.size > 64) clocks.clear();
    clock = new ZoneClock(zone, from, to);
    clocks.set(key, clock);
  }
  return clock;
}
