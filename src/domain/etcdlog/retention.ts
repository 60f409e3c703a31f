import { parseDuration } from '../duration.js';
import type { LogObjectName } from './chain.js';
import type { BaseSnapshot } from './replay.js';

/**
 * Retention of the change log (ADR 010), on top of the snapshots' GFS retention. Promises, whatever the input:
 * - every point of the last `windowMs` that a chain can restore stays restorable: the objects holding it, the
 *   objects before it back to a replay base, and that base snapshot are kept (a snapshot GFS would delete is kept
 *   as `log-base` when a kept window replays from it);
 * - the newest point of each cluster stays restorable, however old it is (a stopped follower's log is not aged out);
 * - nothing GFS keeps is deleted, and a chain with a problem (a missing or misnamed object) loses nothing.
 * A chain loses sealed segments only from its start: then its manifest records where it now starts (`pruned`), so
 * its layout and hash links still check out. A chain no window needs goes whole, manifest last. A chain with no
 * objects is left alone (a follower may have just begun it).
 */

/** How far back point-in-time restore reaches unless backups.etcd.followKeep says otherwise. */
export const DEFAULT_LOG_WINDOW_MS = 7 * 86_400_000;

/** The window from the config (`backups.etcd.followKeep`), else the default. */
export function logWindowOf(backups: { etcd?: { followKeep?: string } } | undefined): number {
  const text = backups?.etcd?.followKeep;
  return (text ? parseDuration(text) : undefined) ?? DEFAULT_LOG_WINDOW_MS;
}

export interface LogRetentionInput {
  now: number;
  windowMs: number;
  /** Every snapshot in the store with a manifest; `kept`: the GFS decision. */
  snapshots: Array<BaseSnapshot & { kept: boolean }>;
  chains: Array<{
    chain: string;
    clusterId: string;
    /** The revision the chain's objects start after (its base revision, or where an earlier prune cut it). */
    start: number;
    /** The layout's objects, in revision order. */
    objects: LogObjectName[];
    problem?: string;
  }>;
}

export interface ChainPrune {
  chain: string;
  /** Log objects to delete, oldest first. */
  remove: LogObjectName[];
  /** Delete the chain's manifest too (after its objects): no window needs any of it. */
  deleteChain: boolean;
  /** The chain now starts after this revision, replayed from `base` (write it to the manifest before deleting). */
  cut?: { through: number; base: string; baseCreatedAt: number };
}

export interface LogPrunePlan {
  /** Snapshots GFS would delete that a kept window replays from. */
  keepSnapshots: Array<{ name: string; chain: string }>;
  chains: ChainPrune[];
}

export function planLogRetention(input: LogRetentionInput): LogPrunePlan {
  const horizon = input.now - input.windowMs;
  const newestOf = new Map<string, { chain: string; last: number }>();
  // The chain holding a cluster's newest restorable point: it has objects and a snapshot to replay them from.
  for (const c of input.chains) {
    const last = c.objects.at(-1)?.last;
    if (last === undefined) continue;
    if (!input.snapshots.some((s) => s.clusterId === c.clusterId && s.revision >= c.start && s.revision <= last)) {
      continue;
    }
    const seen = newestOf.get(c.clusterId);
    if (!seen || last > seen.last) newestOf.set(c.clusterId, { chain: c.chain, last });
  }
  const boundaryOf = new Map<string, LogObjectName>();
  for (const c of input.chains) {
    for (const o of c.objects) {
      const seen = boundaryOf.get(c.clusterId);
      if (o.modifiedAt < horizon && (!seen || o.last > seen.last)) boundaryOf.set(c.clusterId, o);
    }
  }
  const keepSnapshots = new Map<string, string>();
  const chains: ChainPrune[] = [];
  for (const c of input.chains) {
    if (c.objects.length === 0) {
      // A follower may have just begun it: leave its manifest, and keep the snapshot it will replay from.
      const base = newestBase(input.snapshots, c, c.start + 1);
      if (base && !base.kept) keepSnapshots.set(base.name, c.chain);
      continue;
    }
    const newest = newestOf.get(c.clusterId)?.chain === c.chain;
    let from = c.objects.findIndex((o) => o.modifiedAt >= horizon);
    // The revision current when the window opens is in the cluster's newest object written before it.
    const boundary = c.objects.indexOf(boundaryOf.get(c.clusterId)!);
    if (boundary >= 0 && (from < 0 || boundary < from)) from = boundary;
    if (from < 0 && newest) from = c.objects.length - 1;
    if (from < 0) {
      if (!c.problem) chains.push({ chain: c.chain, remove: [...c.objects], deleteChain: true });
      continue;
    }
    const needFrom = c.objects[from]!.first;
    const base = newestBase(input.snapshots, c, needFrom);
    if (!base) {
      // No snapshot before the window (its base is gone): the window's points restore only from snapshots inside
      // it, so keep every one of them, and every object.
      const last = c.objects.at(-1)!.last;
      for (const s of input.snapshots) {
        if (s.clusterId === c.clusterId && s.revision >= c.start && s.revision <= last && !s.kept) {
          keepSnapshots.set(s.name, c.chain);
        }
      }
      continue;
    }
    if (!base.kept) keepSnapshots.set(base.name, c.chain);
    if (c.problem) continue;
    // Sealed segments only: the open segment's chunks are the follower's to seal and delete.
    const remove: LogObjectName[] = [];
    for (const o of c.objects) {
      if (o.kind !== 'segment' || o.last > base.revision) break;
      remove.push(o);
    }
    if (remove.length === 0) continue;
    chains.push({
      chain: c.chain,
      remove,
      deleteChain: false,
      cut: { through: remove.at(-1)!.last, base: base.name, baseCreatedAt: base.createdAt },
    });
  }
  return { keepSnapshots: [...keepSnapshots].map(([name, chain]) => ({ name, chain })), chains };
}

/** The newest snapshot a replay of `chain` up from revision `needFrom` can start from (inside the chain, before it). */
function newestBase<S extends BaseSnapshot>(
  snapshots: S[],
  chain: { clusterId: string; start: number },
  needFrom: number,
): S | undefined {
  return snapshots
    .filter((s) => s.clusterId === chain.clusterId && s.revision >= chain.start && s.revision < needFrom)
    .sort((a, b) => b.revision - a.revision || b.createdAt - a.createdAt)[0];
}
