import { DateTime } from 'luxon';
import { toleranceOf } from '../../../src/domain/quorum.js';
import type { CheckInput } from '../../../src/domain/schedule/check.js';
import type { CronExpr } from '../../../src/domain/schedule/cron.js';
import type { RebootPlan } from '../../../src/domain/schedule/occurrences.js';
import type { Condition } from '../../../src/domain/schedule/sweep.js';

/**
 * Brute-force oracle for the schedule checker: walks the horizon one UTC minute at a time, reads each zone's wall
 * clock through luxon (not through the checker's offset segments), runs cron the way cronie's main loop does
 * (virtual time; wildcard jobs whenever the wall clock matches; fixed-time jobs for every wall minute the clock
 * passed, once), systemd timers on first sight of a wall time, windows while the wall clock is inside one.
 * Everything must be minute-aligned (the property test only generates such inputs).
 */
const MIN = 60_000;
const wallCache = new Map<string, Map<number, number>>();

/**
 * Wall-clock minute number (local date-time as if UTC, in minutes) at UTC minute u. luxon is asked once per
 * quarter hour (every zone used here changes offset on a quarter-hour boundary) to keep a year-long scan fast.
 */
function wallMinute(zone: string, u: number): number {
  let cache = wallCache.get(zone);
  if (!cache) {
    cache = new Map();
    wallCache.set(zone, cache);
  }
  const q = Math.floor(u / 15) * 15;
  let w = cache.get(q);
  if (w === undefined) {
    const dt = DateTime.fromMillis(q * MIN, { zone });
    w = Date.UTC(dt.year, dt.month - 1, dt.day, dt.hour, dt.minute) / MIN;
    cache.set(q, w);
  }
  return w + (u - q);
}

function fields(w: number) {
  const d = new Date(w * MIN);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    weekday: d.getUTCDay(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
  };
}

function cronMatches(e: CronExpr, w: number): boolean {
  const f = fields(w);
  if (!e.minutes.includes(f.minute) || !e.hours.includes(f.hour) || !e.month[f.month]) return false;
  const dom = Boolean(e.dom[f.day]);
  const dow = Boolean(e.dow[f.weekday]);
  return e.domStar || e.dowStar ? dom && dow : dom || dow;
}

/** UTC minutes (numbers) at which a cron or calendar plan fires, from `start` to `end` (minute numbers). */
function fireMinutes(plan: RebootPlan, start: number, end: number): number[] {
  const out: number[] = [];
  if (plan.kind === 'window') return out;
  const zone = plan.timezone;
  let virtual = wallMinute(zone, start) - 1;
  for (let u = start; u < end; u++) {
    const w = wallMinute(zone, u);
    if (plan.kind === 'cron') {
      const e = plan.cron;
      if (e.wild) {
        if (cronMatches(e, w)) out.push(u);
      } else if (w > virtual) {
        for (let v = virtual + 1; v <= w; v++) {
          if (cronMatches(e, v)) {
            out.push(u);
            break;
          }
        }
      }
    } else if (w > virtual) {
      const c = plan.calendar;
      const f = fields(w);
      const ok =
        (!c.years || c.years.has(f.year)) &&
        c.month[f.month] &&
        c.day[f.day] &&
        c.weekday[f.weekday] &&
        c.hours.includes(f.hour) &&
        c.minutes.includes(f.minute) &&
        c.seconds.includes(0);
      if (ok) out.push(u);
    }
    if (w > virtual) virtual = w;
  }
  return out;
}

function windowActive(plan: Extract<RebootPlan, { kind: 'window' }>, u: number): boolean {
  const w = wallMinute(plan.window.timezone, u);
  const { start, end, days } = plan.window;
  const length = end > start ? end - start : end + 1440 - start;
  // The window instance that could contain w started on w's day or the day before.
  for (const back of [0, 1]) {
    const dayStart = Math.floor(w / 1440) * 1440 - back * 1440;
    if (!days[fields(dayStart).weekday]) continue;
    const ws = dayStart + start;
    if (w >= ws && w < ws + length) return true;
  }
  return false;
}

/** Per node, a 0/1 array over the horizon's minutes: down or not. */
export function oracleDown(input: CheckInput): Map<string, Uint8Array> {
  const from = input.from / MIN;
  const to = input.to / MIN;
  const n = to - from;
  const out = new Map<string, Uint8Array>();
  for (const node of input.nodes) out.set(node.name, new Uint8Array(n));
  for (const s of input.sources) {
    const down = out.get(s.node)!;
    const plan = s.plan;
    if (plan.kind === 'cron' && plan.cron.atReboot) {
      down.fill(1);
      continue;
    }
    if (plan.kind === 'window') {
      const extra = plan.downtimeMs / MIN;
      for (let u = from - extra - 2 * 1440; u < to; u++) {
        if (!windowActive(plan, u)) continue;
        for (let m = Math.max(u, from); m < Math.min(u + 1 + extra, to); m++) down[m - from] = 1;
      }
      continue;
    }
    const offset = (plan.kind === 'cron' ? (plan.offsetMs ?? 0) : 0) / MIN;
    const length = (plan.downtimeMs + (plan.jitterMs ?? 0)) / MIN;
    for (const u of fireMinutes(plan, from - offset - length - 2 * 1440, to)) {
      for (let m = Math.max(u + offset, from); m < Math.min(u + offset + length, to); m++) down[m - from] = 1;
    }
  }
  return out;
}

/** The sweep's conditions, recomputed minute by minute. */
export function oracleConditions(input: CheckInput): Condition[] {
  const down = oracleDown(input);
  const voting = input.nodes.filter((n) => n.roles.includes('etcd')).map((n) => n.name);
  const workers = input.nodes.filter((n) => n.roles.includes('worker')).map((n) => n.name);
  const t = toleranceOf(voting.length);
  const from = input.from / MIN;
  const n = (input.to - input.from) / MIN;
  const out: Condition[] = [];
  const open: Record<string, { start: number; nodes: Set<string> } | undefined> = {};
  const close = (code: string, at: number) => {
    const run = open[code];
    if (!run) return;
    const nodes = code === 'workers-all-down' ? workers : voting.filter((v) => run.nodes.has(v));
    out.push({ code: code as Condition['code'], start: run.start * MIN, end: at * MIN, nodes });
    open[code] = undefined;
  };
  for (let i = 0; i <= n; i++) {
    const downVoting = i < n ? voting.filter((v) => down.get(v)![i]) : [];
    const d = downVoting.length;
    const q = d === 0 || voting.length === 0 ? '' : d > t ? 'quorum-loss' : d === t ? 'zero-margin' : '';
    const wAll = i < n && workers.length > 0 && workers.every((w) => down.get(w)![i]);
    for (const code of ['quorum-loss', 'zero-margin']) {
      if (q !== code) close(code, from + i);
      else {
        open[code] ??= { start: from + i, nodes: new Set() };
        for (const v of downVoting) open[code]!.nodes.add(v);
      }
    }
    if (!wAll) close('workers-all-down', from + i);
    else open['workers-all-down'] ??= { start: from + i, nodes: new Set() };
  }
  return out.sort((a, b) => a.start - b.start || a.code.localeCompare(b.code));
}
