import { localDayNumber, localDays } from '../domain/schedule/describe.js';

/**
 * The backup timeline of the status page, as a pure function: backups found in the store (with their latest restore
 * drill) and failed runs -> per kind, per local day of the last 30: taken / verified / failed; per kind: newest
 * backup, newest verified backup, size; and the newest rows for a list.
 */

export interface BackupItem {
  kind: string;
  name: string;
  createdAt: number;
  size: number;
  /** Latest restore drill: null = never drilled. */
  verified: { ok: boolean; at: number; problems: string[] } | null;
}

export interface FailedRun {
  kind: string;
  at: number;
  error: string;
}

export interface KindSummary {
  kind: string;
  everyMs: number | null;
  /** Has a restore drill (etcd, databases); Helm captures have none. */
  verifiable: boolean;
  count: number;
  lastSuccessAt: number | null;
  /** Creation time of the newest backup whose latest drill passed. */
  lastVerifiedAt: number | null;
  lastVerify: { ok: boolean; at: number; problems: string[] } | null;
  bytes: number | null;
  lastFailure: FailedRun | null;
}

export interface TimelineRow {
  kind: string;
  at: string;
  status: 'verified' | 'unverified' | 'verify-failed' | 'failed';
  name: string | null;
  size: number | null;
  detail: string;
}

export interface Timeline {
  zone: string;
  days: Array<{ date: string; label: string }>;
  kinds: Array<{ kind: string; cells: Array<{ taken: number; verified: number; failed: number }> }>;
  rows: TimelineRow[];
}

export function summarizeKinds(
  items: BackupItem[],
  failures: FailedRun[],
  schedules: Array<{ kind: string; everyMs: number }>,
): KindSummary[] {
  const kinds = [...new Set([...schedules.map((s) => s.kind), ...items.map((i) => i.kind)])].sort(byKind);
  return kinds.map((kind) => {
    const mine = items.filter((i) => i.kind === kind).sort((a, b) => b.createdAt - a.createdAt);
    const newest = mine[0];
    const verified = mine.find((i) => i.verified?.ok);
    const drilled = mine.filter((i) => i.verified).sort((a, b) => b.verified!.at - a.verified!.at)[0];
    const failed = failures.filter((f) => f.kind === kind).sort((a, b) => b.at - a.at)[0];
    return {
      kind,
      everyMs: schedules.find((s) => s.kind === kind)?.everyMs ?? null,
      verifiable: kind !== 'helm',
      count: mine.length,
      lastSuccessAt: newest?.createdAt ?? null,
      lastVerifiedAt: verified?.createdAt ?? null,
      lastVerify: drilled?.verified ?? null,
      bytes: newest?.size ?? null,
      lastFailure: failed ?? null,
    };
  });
}

export function buildTimeline(
  items: BackupItem[],
  failures: FailedRun[],
  kinds: string[],
  now: number,
  zone: string,
  days = 30,
): Timeline {
  // The last `days` local days, today included.
  const firstDay = localDayNumber(now, zone) - (days - 1);
  const shown = localDays(now, zone, days, -(days - 1));
  const from = shown[0]!.start;
  const to = shown.at(-1)!.end;
  const dayOf = (t: number): number => (t < from || t >= to ? -1 : localDayNumber(t, zone) - firstDay);
  const cells = new Map(
    kinds.map((k) => [k, Array.from({ length: days }, () => ({ taken: 0, verified: 0, failed: 0 }))]),
  );
  const cellsOf = (kind: string) => {
    let list = cells.get(kind);
    if (!list) {
      list = Array.from({ length: days }, () => ({ taken: 0, verified: 0, failed: 0 }));
      cells.set(kind, list);
    }
    return list;
  };
  const rows: TimelineRow[] = [];
  for (const item of items) {
    const d = dayOf(item.createdAt);
    if (d < 0) continue;
    cellsOf(item.kind)[d]!.taken++;
    const v = item.verified;
    if (v) {
      const dv = dayOf(v.at);
      if (dv >= 0) cellsOf(item.kind)[dv]![v.ok ? 'verified' : 'failed']++;
    }
    rows.push({
      kind: item.kind,
      at: new Date(item.createdAt).toISOString(),
      status: !v ? 'unverified' : v.ok ? 'verified' : 'verify-failed',
      name: item.name,
      size: item.size,
      detail: !v ? 'not drilled yet' : v.ok ? 'restore drill passed' : `restore drill failed: ${v.problems.join('; ')}`,
    });
  }
  for (const f of failures) {
    const d = dayOf(f.at);
    if (d < 0) continue;
    cellsOf(f.kind)[d]!.failed++;
    rows.push({
      kind: f.kind,
      at: new Date(f.at).toISOString(),
      status: 'failed',
      name: null,
      size: null,
      detail: f.error,
    });
  }
  rows.sort((a, b) => b.at.localeCompare(a.at));
  return {
    zone,
    days: shown.map((d) => ({ date: d.date, label: d.dayMonth })),
    kinds: [...cells.keys()].sort(byKind).map((kind) => ({ kind, cells: cells.get(kind)! })),
    rows: rows.slice(0, 40),
  };
}

/** etcd first, then the rest by name. */
function byKind(a: string, b: string): number {
  return Number(b === 'etcd') - Number(a === 'etcd') || a.localeCompare(b);
}
