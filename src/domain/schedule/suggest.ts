import { type CheckInput, type CheckResult, type RebootSource, runCheck } from './check.js';
import { cronTimesOfDay, parseCron } from './cron.js';
import { planText } from './inventory.js';
import type { RebootPlan } from './occurrences.js';
import { MINUTE } from './types.js';

/**
 * `check --suggest`: give every control-plane / etcd node its own time slot of the day, at least
 * downtime + settle apart, keeping each rule's days (its cadence: daily, weekly on Monday, 1st of the month...) and
 * the pattern of its times within the day. Slots start at the earliest time the user already uses, then try later
 * hours (which also steps around DST gaps); the first candidate that passes check with no quorum-loss and no
 * shared window wins, and is checked once more against the whole inventory.
 */
export interface Suggestion {
  node: string;
  /** Cron lines (5 fields) replacing the node's current rules. */
  cron: string[];
  timezone: string;
  downtimeMs: number;
  /** Origins of the rules replaced. */
  replaces: string[];
  /** The rules as they were. */
  was: string[];
  changed: boolean;
}

export interface SuggestResult {
  ok: boolean;
  gapMs: number;
  suggestions: Suggestion[];
  /** The check of the inventory with the suggestion applied. */
  check?: CheckResult;
  reason?: string;
}

interface Template {
  source: RebootSource;
  times: number[];
  dayFields: [string, string, string];
  timezone: string;
  plan: RebootPlan;
}

export function suggestSchedule(input: CheckInput, settleMs: number): SuggestResult {
  const slotNames = input.nodes
    .filter((n) => n.roles.includes('etcd') || n.roles.includes('control-plane'))
    .map((n) => n.name)
    .filter((name) => input.sources.some((s) => s.node === name));
  if (slotNames.length === 0) {
    return { ok: false, gapMs: 0, suggestions: [], reason: 'no control-plane or etcd node has a reboot schedule' };
  }
  const templates = new Map(
    slotNames.map((name) => [name, input.sources.filter((s) => s.node === name).map(templateOf)]),
  );
  const reach = Math.max(...[...templates.values()].flat().map((t) => reachOf(t.plan)));
  const gapMs = Math.ceil((reach + settleMs) / (5 * MINUTE)) * 5 * MINUTE;
  const gap = gapMs / MINUTE;
  if (gap * slotNames.length > 1440) {
    return { ok: false, gapMs, suggestions: [], reason: 'the reboots are too long to give each member its own slot' };
  }
  const minOf = (name: string) => Math.min(...templates.get(name)!.flatMap((t) => t.times));
  const firstBase = Math.min(...slotNames.map(minOf));
  const others = input.sources.filter((s) => !slotNames.includes(s.node));
  let fallback: SuggestResult | undefined;
  for (let step = 0; step < 48; step++) {
    const base = (firstBase + step * 30) % 1440;
    const proposal = propose(slotNames, templates, base, gap, minOf);
    if (!proposal) continue;
    // Quick check on the slot nodes alone (workers cannot cause quorum loss), then the whole inventory once.
    const quick = runCheck({ ...input, sources: proposal.sources, notes: [] });
    if (!quick.ok) continue;
    const sharedWindow = quick.findings.some((f) => f.code === 'same-window');
    if (sharedWindow && fallback) continue;
    const full = runCheck({ ...input, sources: [...proposal.sources, ...others], notes: [] });
    const result: SuggestResult = { ok: full.ok, gapMs, suggestions: proposal.suggestions, check: full };
    if (!sharedWindow) return result;
    fallback = result;
  }
  return fallback ?? { ok: false, gapMs, suggestions: [], reason: 'no slot assignment passes check' };
}

function propose(
  names: string[],
  templates: Map<string, Template[]>,
  base: number,
  gap: number,
  minOf: (name: string) => number,
): { sources: RebootSource[]; suggestions: Suggestion[] } | undefined {
  const sources: RebootSource[] = [];
  const suggestions: Suggestion[] = [];
  for (const [k, name] of names.entries()) {
    const delta = base + k * gap - minOf(name);
    const lines: string[] = [];
    const list = templates.get(name)!;
    for (const t of list) {
      const times = t.times.map((m) => m + delta);
      if (times.some((m) => m < 0 || m >= 1440)) return undefined;
      for (const line of cronLines(times, t.dayFields)) {
        const cron = parseCron(line);
        const plan: RebootPlan = {
          kind: 'cron',
          cron,
          timezone: t.timezone,
          downtimeMs: t.plan.downtimeMs,
          offsetMs: t.plan.kind === 'cron' ? t.plan.offsetMs : undefined,
          jitterMs: t.plan.kind === 'window' ? undefined : t.plan.jitterMs,
        };
        lines.push(line);
        sources.push({ node: name, origin: `suggested for ${name}`, text: planText(plan), plan });
      }
    }
    const was = list.map((t) => t.source.text);
    suggestions.push({
      node: name,
      cron: lines,
      timezone: list[0]!.timezone,
      downtimeMs: list[0]!.plan.downtimeMs,
      replaces: list.map((t) => t.source.origin),
      was,
      changed:
        lines.length !== list.length ||
        !list.every((t, i) => t.plan.kind === 'cron' && t.plan.cron.fields.join(' ') === lines[i]),
    });
  }
  return { sources, suggestions };
}

function reachOf(plan: RebootPlan): number {
  if (plan.kind === 'window') return plan.downtimeMs;
  return plan.downtimeMs + (plan.kind === 'cron' ? (plan.offsetMs ?? 0) : 0) + (plan.jitterMs ?? 0);
}

function templateOf(source: RebootSource): Template {
  const plan = source.plan;
  if (plan.kind === 'cron') {
    if (plan.cron.atReboot) {
      // A reboot at every boot has no cadence to keep: weekly, Sunday, at 04:00.
      return { source, plan, times: [240], dayFields: ['*', '*', '0'], timezone: plan.timezone };
    }
    const [, , dom, mon, dow] = plan.cron.fields;
    return { source, plan, times: cronTimesOfDay(plan.cron), dayFields: [dom, mon, dow], timezone: plan.timezone };
  }
  if (plan.kind === 'calendar') {
    const c = plan.calendar;
    const times = [...new Set(c.hours.flatMap((h) => c.minutes.map((m) => h * 60 + m)))].sort((a, b) => a - b);
    const fields: [string, string, string] = [
      bitsField(c.day, 1, 31),
      bitsField(c.month, 1, 12),
      bitsField(c.weekday, 0, 6),
    ];
    return { source, plan, times, dayFields: fields, timezone: plan.timezone };
  }
  const w = plan.window;
  return { source, plan, times: [w.start], dayFields: ['*', '*', bitsField(w.days, 0, 6)], timezone: w.timezone };
}

/** Times of day -> cron lines, one per distinct minute: `15 4,16 * * 1`. */
function cronLines(times: number[], [dom, mon, dow]: [string, string, string]): string[] {
  const byMinute = new Map<number, number[]>();
  for (const t of [...new Set(times)].sort((a, b) => a - b)) {
    const list = byMinute.get(t % 60) ?? [];
    list.push(Math.floor(t / 60));
    byMinute.set(t % 60, list);
  }
  return [...byMinute.entries()].map(([minute, hours]) => `${minute} ${compress(hours)} ${dom} ${mon} ${dow}`);
}

function bitsField(bits: boolean[], min: number, max: number): string {
  const values: number[] = [];
  for (let v = min; v <= max; v++) if (bits[v]) values.push(v);
  return values.length === max - min + 1 ? '*' : compress(values);
}

/** [1,2,3,5] -> "1-3,5" */
function compress(values: number[]): string {
  const parts: string[] = [];
  let i = 0;
  while (i < values.length) {
    let j = i;
    while (j + 1 < values.length && values[j + 1] === values[j]! + 1) j++;
    parts.push(j - i >= 2 ? `${values[i]}-${values[j]}` : values.slice(i, j + 1).join(','));
    i = j + 1;
  }
  return parts.join(',');
}
