/**
 * Grandfather-father-son retention (as restic and borg do it), as a pure function. Three promises hold whatever the
 * policy says, so retention can never empty a store: the newest backup and the newest verified backup are never
 * deleted, and nothing is deleted when the policy names no rule. (A policy whose every rule is 0 is refused as a
 * config error before it gets here: see `keepsNothing`.)
 */
export interface RetentionPolicy {
  keepLast?: number;
  hourly?: number;
  daily?: number;
  weekly?: number;
  monthly?: number;
}

export interface RetainedItem {
  id: string;
  /** Epoch milliseconds. */
  createdAt: number;
  verified: boolean;
}

export type KeepReason =
  | 'newest'
  | 'last'
  | 'hourly'
  | 'daily'
  | 'weekly'
  | 'monthly'
  | 'newest-verified'
  | 'future'
  | 'no-policy'
  /** A snapshot the change log's kept window replays from (etcdlog/retention.ts). */
  | 'log-base';

export interface RetentionDecision {
  keep: Array<{ id: string; reasons: KeepReason[] }>;
  remove: string[];
}

type Bucketed = Exclude<KeepReason, 'newest' | 'last' | 'newest-verified' | 'future' | 'no-policy' | 'log-base'>;

const BUCKET: Record<Bucketed, (ms: number) => string> = {
  hourly: (ms) => new Date(ms).toISOString().slice(0, 13),
  daily: (ms) => new Date(ms).toISOString().slice(0, 10),
  weekly: isoWeek,
  monthly: (ms) => new Date(ms).toISOString().slice(0, 7),
};

export function applyRetention(items: RetainedItem[], policy: RetentionPolicy, now: number): RetentionDecision {
  const newestFirst = [...items].sort((a, b) => b.createdAt - a.createdAt || a.id.localeCompare(b.id));
  const reasons = new Map<string, KeepReason[]>(newestFirst.map((i) => [i.id, []]));
  const keep = (id: string, why: KeepReason) => reasons.get(id)!.push(why);
  const hasRule = Object.values(policy).some((n) => n !== undefined);

  if (!hasRule) for (const i of newestFirst) keep(i.id, 'no-policy');
  // A backup from the future means a clock is wrong; deleting on a wrong clock is how data gets lost.
  for (const i of newestFirst) if (i.createdAt > now) keep(i.id, 'future');
  // The rules count only backups from the past, so a wrong clock cannot push real backups out of keepLast.
  const past = newestFirst.filter((i) => i.createdAt <= now);
  for (const i of past.slice(0, policy.keepLast ?? 0)) keep(i.id, 'last');
  for (const rule of ['hourly', 'daily', 'weekly', 'monthly'] as const) {
    const limit = policy[rule] ?? 0;
    const seen = new Set<string>();
    for (const i of past) {
      if (seen.size >= limit) break;
      const bucket = BUCKET[rule](i.createdAt);
      if (seen.has(bucket)) continue;
      seen.add(bucket); // the newest item of each bucket represents it
      keep(i.id, rule);
    }
  }
  // The newest backup survives even when no drill has passed yet (the first days of a new install, or a drill that
  // keeps failing for a reason that has nothing to do with the backups): deleting it would leave nothing at all.
  const newest = past[0] ?? newestFirst[0];
  if (newest && reasons.get(newest.id)!.length === 0) keep(newest.id, 'newest');
  const newestVerified = newestFirst.find((i) => i.verified);
  if (newestVerified) keep(newestVerified.id, 'newest-verified');

  return {
    keep: newestFirst.filter((i) => reasons.get(i.id)!.length).map((i) => ({ id: i.id, reasons: reasons.get(i.id)! })),
    remove: newestFirst.filter((i) => reasons.get(i.id)!.length === 0).map((i) => i.id),
  };
}

/**
 * A policy that names rules and all of them 0 (`keepLast: 0`, `{ daily: 0 }`): it asks to keep nothing, which is
 * never what anyone means, so the config refuses it (an empty policy keeps everything and is fine).
 */
export function keepsNothing(policy: RetentionPolicy): boolean {
  const rules = Object.values(policy).filter((n): n is number => n !== undefined);
  return rules.length > 0 && rules.every((n) => n === 0);
}

/** ISO-8601 week label (e.g. 2026-W48), in UTC: weeks start on Monday, week 1 holds the year's first Thursday. */
export function isoWeek(ms: number): string {
  const d = new Date(ms);
  const day = (d.getUTCDay() + 6) % 7; // Monday = 0
  const thursday = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() - day + 3);
  const year = new Date(thursday).getUTCFullYear();
  const week = 1 + Math.floor((thursday - Date.UTC(year, 0, 1)) / (7 * 86_400_000));
  return `${year}-W${String(week).padStart(2, '0')}`;
}
