import { parseCommonIso } from '../iso-time.js';
import type { ChainWindow } from './chain.js';
import type { RevisionGroup } from './segment.js';

/**
 * The replay rule (ADR 010, ADR 015): the newest full snapshot of revision S <= T, then every logged revision
 * S+1..T in order, each exactly as the log holds it; a missing revision is a gap, never skipped. Which snapshot and
 * chain, which revision a time means, and where the replay stops are decided here; the backend is written by
 * src/adapters/etcdlog/backend-replay.ts.
 */

export type PointInTime = { revision: number } | { time: number };

/** `--at`: a revision (digits) or an ISO-8601 instant with a zone. */
export function parsePoint(text: string): PointInTime | { error: string } {
  const t = text.trim();
  if (/^\d+$/.test(t)) {
    const revision = Number(t);
    return Number.isSafeInteger(revision) && revision > 0 ? { revision } : { error: `revision ${t} is out of range` };
  }
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/.test(t)) {
    return { error: `"${t}" is neither a revision nor an ISO time with a zone (example: 2026-12-02T14:02:00Z)` };
  }
  // Date.parse would read 2026-02-30 as 2 March: a time that does not exist is an error.
  const time = parseCommonIso(t) ?? Number.NaN;
  return Number.isNaN(time) ? { error: `"${t}" is not a valid time` } : { time };
}

/** Decides, group by group in revision order, what a replay from `from` up to `to` does with each. */
export class ReplayCursor {
  private expected: number;

  constructor(
    readonly from: number,
    readonly to: number,
  ) {
    this.expected = from + 1;
  }

  /** Revisions still to apply. */
  get remaining(): number {
    return Math.max(0, this.to - this.expected + 1);
  }

  get done(): boolean {
    return this.expected > this.to;
  }

  /** 'skip': the snapshot has it already; 'apply': replay it now; an error when the log skips a revision. */
  accept(group: RevisionGroup): 'skip' | 'apply' | 'past' | { error: string } {
    if (group.revision <= this.from) return 'skip';
    if (group.revision > this.to) return 'past';
    if (group.revision !== this.expected) {
      return { error: `the log jumps from revision ${this.expected - 1} to ${group.revision}` };
    }
    this.expected++;
    return 'apply';
  }

  /** After the last group: one line when the log ended before the target. */
  finish(): string | undefined {
    return this.done ? undefined : `the log ends at revision ${this.expected - 1}, before ${this.to}`;
  }
}

/** The newest revision observed at or before `time` in `groups` (in order), or undefined when none is. */
export function lastRevisionAtOrBefore(groups: Iterable<RevisionGroup>, time: number): number | undefined {
  let found: number | undefined;
  for (const g of groups) {
    if (g.observedAt > time) break;
    found = g.revision;
  }
  return found;
}

export interface BaseSnapshot {
  name: string;
  /** The manifest's revision: the snapshot holds every revision up to it (maybe a few more). */
  revision: number;
  createdAt: number;
  clusterId: string;
}

export interface RestoreSource {
  base: BaseSnapshot;
  chain: ChainWindow;
}

/**
 * Every (snapshot, chain) pair that can restore `revision`, best first: the newest snapshot at or before it whose
 * revisions after it a chain holds up to `revision` without a break. Any snapshot of the cluster can start a replay,
 * not just the chain's own base: a scheduled one taken later leaves less to replay. A snapshot may hold a few more
 * revisions than its manifest says; the restorer finds out after restoring and falls back to the next candidate.
 */
export function restoreSources(
  revision: number,
  snapshots: BaseSnapshot[],
  chains: Array<ChainWindow & { clusterId: string }>,
): RestoreSource[] {
  const out: RestoreSource[] = [];
  for (const base of snapshots) {
    if (base.revision > revision) continue;
    const chain = chains
      .filter((c) => c.clusterId === base.clusterId && c.fromRevision <= base.revision && c.toRevision >= revision)
      .sort((a, b) => b.toRevision - a.toRevision)[0];
    if (chain) out.push({ base, chain });
  }
  return out.sort((a, b) => b.base.revision - a.base.revision || b.base.createdAt - a.base.createdAt);
}

/** The restorable revision windows, newest first, for `--at` without a point: the newest revision of all. */
export function newestPoint(chains: ChainWindow[]): number | undefined {
  const usable = chains.filter((c) => !c.problem || c.toRevision > c.fromRevision);
  return usable.length ? Math.max(...usable.map((c) => c.toRevision)) : undefined;
}

/** When the follower makes its open segment durable and when it seals it. */
export interface LogPolicy {
  /** Open-segment durability cadence: the RPO. */
  durableEveryMs: number;
  /** The open segment is held in memory until sealed (ADR 010's amendment): this bounds the follower's memory. */
  sealBytes: number;
  sealAfterMs: number;
}

export const DEFAULT_LOG_POLICY: LogPolicy = {
  durableEveryMs: 1000,
  sealBytes: 4 * 1024 * 1024,
  sealAfterMs: 5 * 60_000,
};

/** Seal the open segment now? It has grown past the size bound or been open past the time bound. */
export function sealDue(open: { bytes: number; since: number }, now: number, policy: LogPolicy): boolean {
  return open.bytes > 0 && (open.bytes >= policy.sealBytes || now - open.since >= policy.sealAfterMs);
}

/** How far the log is behind the cluster: revisions not yet durable, and for how long the oldest of them waited. */
export function followLag(
  leaderRevision: number,
  durable: { revision: number; at: number },
  oldestPendingAt: number | undefined,
  now: number,
): { revisions: number; seconds: number } {
  const revisions = Math.max(0, leaderRevision - durable.revision);
  const since = oldestPendingAt ?? (revisions > 0 ? durable.at : now);
  return { revisions, seconds: revisions > 0 ? Math.max(0, (now - since) / 1000) : 0 };
}
