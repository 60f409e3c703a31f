import type { LifeboatConfig } from '../domain/config.js';
import { type CheckInput, runCheck } from '../domain/schedule/check.js';
import { commonZone, formatSpan, isoInstant, localDays } from '../domain/schedule/describe.js';
import { configInventory } from '../domain/schedule/inventory.js';
import { planDowntime, planTimezone, unionOfSorted } from '../domain/schedule/occurrences.js';
import { DAY, type Interval } from '../domain/schedule/types.js';
import { listNames } from '../domain/text.js';
import { ONE_MORE_FAILURE } from '../domain/words.js';
import { reportJson } from '../render/check.js';

/**
 * What `serve` knows about planned reboots: the `check` report (same horizon and JSON as `lifeboat check`) and a
 * 14-day calendar: for each local day, every node's planned downtime and the danger windows (quorum loss in red,
 * zero margin and "every worker down" in amber) as fractions of the day, ready to draw. Pure: time is a parameter.
 */

export interface CalendarBar {
  /** Fractions of the local day, 0..1. */
  s: number;
  e: number;
  start: string;
  end: string;
}

export interface CalendarDay {
  date: string;
  /** The local day's first and next day's first instant (23 or 25 hours apart on DST days). */
  start: string;
  end: string;
  label: string;
  weekend: boolean;
  reboots: Array<CalendarBar & { node: string; etcd: boolean }>;
  danger: Array<CalendarBar & { code: string; severity: 'error' | 'warning'; nodes: string[] }>;
}

export interface DangerWindow {
  code: string;
  severity: 'error' | 'warning';
  nodes: string[];
  start: string;
  end: string;
  text: string;
}

export interface Calendar {
  zone: string;
  from: string;
  to: string;
  nodes: Array<{ name: string; etcd: boolean; worker: boolean; reboots: number }>;
  days: CalendarDay[];
  windows: DangerWindow[];
}

/** `lifeboat check --json` (render/check.ts reportJson), the fields the page and alerts read. */
export interface CheckDocument {
  ok: boolean;
  horizon: { from: string; to: string; days: number };
  etcdMembers: string[];
  workers: number;
  findings: Array<{
    severity: 'error' | 'warning' | 'info';
    code: string;
    nodes: string[];
    first: { start: string; end: string } | null;
    occurrences: number;
    message: string;
    description?: string;
    timezone?: string;
  }>;
}

export interface ScheduleReport {
  check: CheckDocument;
  calendar: Calendar;
}

const WORDS: Record<string, (nodes: string) => string> = {
  'quorum-loss': (n) => `${n} down together: etcd loses quorum`,
  'zero-margin': (n) => `${n} down: margin 0, ${ONE_MORE_FAILURE}`,
  'workers-all-down': () => 'every worker down at once: pods have nowhere to run',
};

export function scheduleReport(
  config: LifeboatConfig,
  label: string,
  now: number,
  opts: { days?: number; checkDays?: number; zone?: string } = {},
): ScheduleReport {
  const inventory = configInventory(config, label);
  const full = runCheck({ ...inventory, from: now, to: now + (opts.checkDays ?? 366) * DAY });
  const check = reportJson(full) as CheckDocument;
  const voting = new Set(full.voting);
  const zone =
    opts.zone ?? commonZone(inventory.sources.filter((s) => voting.has(s.node)).map((s) => planTimezone(s.plan)));

  const localDayList = localDays(now, zone, opts.days ?? 14);
  const from = localDayList[0]!.start;
  const to = localDayList.at(-1)!.end;
  const input: CheckInput = { ...inventory, from, to };
  const near = runCheck(input);
  const down = new Map<string, Interval[]>();
  for (const n of inventory.nodes) {
    const lists = inventory.sources.filter((s) => s.node === n.name).map((s) => planDowntime(s.plan, from, to));
    down.set(n.name, lists.length ? unionOfSorted(lists) : []);
  }
  const conditions = near.conditions.filter((c) => c.code in WORDS);

  const days: CalendarDay[] = [];
  for (const local of localDayList) {
    const a = local.start;
    const b = local.end;
    const bar = (iv: Interval): CalendarBar | undefined => {
      const s = Math.max(iv.start, a);
      const e = Math.min(iv.end, b);
      if (e <= s) return undefined;
      return { s: (s - a) / (b - a), e: (e - a) / (b - a), start: iso(iv.start, zone), end: iso(iv.end, zone) };
    };
    const day: CalendarDay = {
      date: local.date,
      start: iso(a, zone),
      end: iso(b, zone),
      label: local.label,
      weekend: local.weekday >= 6,
      reboots: [],
      danger: [],
    };
    for (const n of inventory.nodes) {
      for (const iv of down.get(n.name)!) {
        const b2 = bar(iv);
        if (b2) day.reboots.push({ ...b2, node: n.name, etcd: voting.has(n.name) });
      }
    }
    for (const c of conditions) {
      const b2 = bar(c);
      if (b2) day.danger.push({ ...b2, code: c.code, severity: severityOf(c.code), nodes: c.nodes });
    }
    days.push(day);
  }
  const windows = conditions.map((c) => ({
    code: c.code,
    severity: severityOf(c.code),
    nodes: c.nodes,
    start: iso(c.start, zone),
    end: iso(c.end, zone),
    text: `${span(c, zone)}: ${WORDS[c.code]!(listNames(c.nodes))}`,
  }));
  return {
    check,
    calendar: {
      zone,
      from: iso(from, zone),
      to: iso(to, zone),
      nodes: inventory.nodes.map((n) => ({
        name: n.name,
        etcd: voting.has(n.name),
        worker: n.roles.includes('worker'),
        reboots: inventory.sources.filter((s) => s.node === n.name).length,
      })),
      days,
      windows,
    },
  };
}

function severityOf(code: string): 'error' | 'warning' {
  return code === 'quorum-loss' ? 'error' : 'warning';
}

const iso = isoInstant;

/** `Mon 2 Mar 04:00–04:10 Europe/Berlin` */
function span(iv: Interval, zone: string): string {
  return formatSpan(iv.start, iv.end, zone);
}
