import { quorumOf } from '../quorum.js';
import { listNames } from '../text.js';
import { ONE_MORE_FAILURE, QUORUM_LOST_CONSEQUENCE } from '../words.js';
import { commonZone, describeRecurrence } from './describe.js';
import { type Condition, overlaps } from './sweep.js';
import type { Interval } from './types.js';

export type Severity = 'error' | 'warning' | 'info';

/** Where a reboot comes from: `lifeboat.yaml nodes[0].reboot[1]`, `crontabs/cp1:3`, `cp1-reboot.timer:5`. */
export interface SourceRef {
  node: string;
  origin: string;
  /** The rule as written: `cron "0 4 * * 1" Asia/Tokyo, downtime 10m` or the crontab line itself. */
  text: string;
}

export interface CheckFinding {
  severity: Severity;
  code: string;
  nodes: string[];
  /** First occurrence within the horizon; null for findings about structure rather than time. */
  first: Interval | null;
  occurrences: number;
  message: string;
  /** "every Monday 04:00–04:10 Asia/Tokyo" for timed findings. */
  description?: string;
  /** The zone times are described in. */
  timezone?: string;
  sources: SourceRef[];
  /** Every occurrence (timed findings). */
  intervals?: Interval[];
}

/** What grouping needs to know about the inventory. */
export interface FindingContext {
  voting: string[];
  workers: string[];
  days: number;
  /** Zones of the node's reboot rules. */
  zonesOf(node: string): string[];
  /** The node's rules with their downtime intervals. */
  sourcesOf(node: string): { ref: SourceRef; down: Interval[] }[];
}

const MAX_SOURCES = 20;

const SEVERITY: Record<Condition['code'], Severity> = {
  'quorum-loss': 'error',
  'zero-margin': 'warning',
  'workers-all-down': 'warning',
};

/** Conditions from the sweep grouped by (code, nodes): first occurrence, count, description, message. */
export function groupConditions(conditions: Condition[], ctx: FindingContext): CheckFinding[] {
  const groups = new Map<string, Condition[]>();
  for (const c of conditions) {
    const key = `${c.code}|${c.nodes.join(',')}`;
    const list = groups.get(key);
    if (list) list.push(c);
    else groups.set(key, [c]);
  }
  const findings: CheckFinding[] = [];
  for (const runs of groups.values()) {
    const { code, nodes } = runs[0]!;
    const zone = commonZone(nodes.flatMap((n) => ctx.zonesOf(n)));
    const intervals = runs.map((r) => ({ start: r.start, end: r.end }));
    const description = describeRecurrence(intervals, zone);
    // The rules responsible (at most MAX_SOURCES for "all workers", which may be thousands of nodes).
    const sources: SourceRef[] = [];
    for (const n of nodes) {
      if (code === 'workers-all-down' && sources.length >= MAX_SOURCES) break;
      for (const s of ctx.sourcesOf(n)) if (intervals.some((iv) => overlaps(s.down, iv))) sources.push(s.ref);
    }
    findings.push({
      severity: SEVERITY[code],
      code,
      nodes,
      first: intervals[0]!,
      occurrences: runs.length,
      message: timedMessage(code, nodes, description, runs.length, ctx),
      description,
      timezone: zone,
      sources,
      intervals,
    });
  }
  return findings;
}

function timedMessage(code: Condition['code'], nodes: string[], when: string, count: number, ctx: FindingContext) {
  const n = ctx.voting.length;
  const q = quorumOf(n);
  const times = count === 1 ? ` (once in the next ${ctx.days} days)` : `, ${count} times in the next ${ctx.days} days`;
  const k = nodes.length;
  const verb = k === 1 ? 'is' : 'are';
  const members = `(${k} of ${n} etcd member${n === 1 ? '' : 's'})`;
  if (code === 'quorum-loss') {
    const together = k > 1 ? ' together' : '';
    return (
      `${nameList(nodes)} ${members} ${verb} down${together} ${when}${times}. etcd needs ${q} of ${n} members ` +
      `to accept writes: meanwhile ${QUORUM_LOST_CONSEQUENCE}, until enough members are back.`
    );
  }
  if (code === 'zero-margin') {
    return (
      `${nameList(nodes)} ${members} ${verb} down ${when}${times}: the ${n - k} left are exactly the quorum of ${q}, ` +
      `so in those minutes ${ONE_MORE_FAILURE}.`
    );
  }
  const w = ctx.workers.length;
  if (w === 1) return `the only worker, ${nodes[0]}, is down ${when}${times}: pods have nowhere to run.`;
  return `all ${w} workers (${nameList(nodes)}) are down together ${when}${times}: pods have nowhere to run.`;
}

/** Nodes in a finding's sentence: at most six named (a 20-node schedule stays one readable line). */
export function nameList(names: string[]): string {
  return names.length === 0 ? 'nobody' : listNames(names, 6);
}

const CODE_ORDER = [
  'quorum-loss',
  'boot-loop',
  'same-window',
  'workers-all-down',
  'few-members',
  'even-members',
  'no-etcd-members',
  'power-off',
  'unrecognised-line',
  'no-reboot-lines',
  'zero-margin',
];
const SEVERITY_ORDER: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

/** Worst first: errors, then warnings, then notes; within a severity by kind, then by first occurrence. */
export function sortFindings(findings: CheckFinding[]): CheckFinding[] {
  const rank = (code: string) => {
    const i = CODE_ORDER.indexOf(code);
    return i < 0 ? CODE_ORDER.length : i;
  };
  return [...findings].sort(
    (a, b) =>
      SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] ||
      rank(a.code) - rank(b.code) ||
      (a.first?.start ?? 0) - (b.first?.start ?? 0),
  );
}
