import { toleranceOf } from '../quorum.js';
import type { Interval } from './types.js';

/**
 * The simulation, over downtime intervals rather than minutes:
 * - quorum: a sweep line over the voting members' start/end events (sorted once) keeps the number of members
 *   down; O(E log E) in their intervals, independent of the horizon's length in minutes;
 * - workers: "every worker down at once" is the intersection of the workers' downtime lists, computed list by list
 *   and abandoned as soon as it is empty (so 5,000 workers are rarely all expanded: see `runCheck`).
 */
export type ConditionCode = 'quorum-loss' | 'zero-margin' | 'workers-all-down';

/** A maximal interval during which a condition holds, and the nodes down during it. */
export interface Condition extends Interval {
  code: ConditionCode;
  nodes: string[];
}

export interface VotingNode {
  name: string;
  /** Sorted, disjoint downtime intervals. */
  down: Interval[];
}

const END = 0;
const START = 1;

/** Maximal intervals of quorum-loss (down > tolerance) and zero-margin (down = tolerance > 0), clipped to [from, to). */
export function quorumSweep(voting: VotingNode[], from: number, to: number): Condition[] {
  const tolerance = toleranceOf(voting.length);
  let count = 0;
  for (const n of voting) count += 2 * n.down.length;
  // Packed events: (time - from) * 2 + kind; exact for horizons of millennia, and a typed-array sort is fast.
  const keys = new Float64Array(count);
  let k = 0;
  for (const n of voting) {
    for (const iv of n.down) {
      const start = Math.max(iv.start, from) - from;
      const end = Math.min(iv.end, to) - from;
      if (end <= start) continue;
      keys[k++] = start * 2 + START;
      keys[k++] = end * 2 + END;
    }
  }
  const events = keys.subarray(0, k).sort();
  const runs: { code: ConditionCode; start: number; end: number }[] = [];
  let down = 0;
  let current: ConditionCode | undefined;
  let since = 0;
  let i = 0;
  while (i < events.length) {
    const rel = Math.floor(events[i]! / 2);
    for (; i < events.length && Math.floor(events[i]! / 2) === rel; i++)
      down += events[i]! - rel * 2 === START ? 1 : -1;
    const cls: ConditionCode | undefined =
      down === 0 ? undefined : down > tolerance ? 'quorum-loss' : down === tolerance ? 'zero-margin' : undefined;
    if (cls !== current) {
      const t = from + rel;
      if (current) runs.push({ code: current, start: since, end: t });
      current = cls;
      since = t;
    }
  }
  if (current) runs.push({ code: current, start: since, end: to });
  return runs.map((r) => ({ ...r, nodes: voting.filter((n) => overlaps(n.down, r)).map((n) => n.name) }));
}

/**
 * Intervals (within [from, to)) during which every list has a downtime: the intersection, fed one list at a time.
 * `lists` is pulled lazily; it stops pulling once the intersection is empty.
 */
export function commonDowntime(lists: Iterable<Interval[]>, from: number, to: number): Interval[] {
  let acc: Interval[] | undefined;
  for (const list of lists) {
    acc = intersect(acc ?? [{ start: from, end: to }], list);
    if (acc.length === 0) return acc;
  }
  return acc ?? [];
}

function intersect(a: Interval[], b: Interval[]): Interval[] {
  const out: Interval[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i]!;
    const y = b[j]!;
    const start = Math.max(x.start, y.start);
    const end = Math.min(x.end, y.end);
    if (start < end) out.push({ start, end });
    if (x.end < y.end) i++;
    else j++;
  }
  return out;
}

/** Does any interval of a sorted, disjoint list overlap [iv.start, iv.end)? */
export function overlaps(list: Interval[], iv: Interval): boolean {
  let lo = 0;
  let hi = list.length;
  // First interval ending after iv.start.
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]!.end <= iv.start) lo = mid + 1;
    else hi = mid;
  }
  const candidate = list[lo];
  return candidate !== undefined && candidate.start < iv.end;
}
