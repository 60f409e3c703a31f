import { type DecodedSegment, GENESIS_HASH, type LogObjectKind } from './segment.js';

/**
 * Chains: a base snapshot and the log objects after it, in a store under `etcd-log/CHAIN/`. Which objects make up a
 * chain, in which order, and whether one is missing, is decided here from object names alone; whether each object is
 * the one the chain expects (hash links) is decided while it is read (checkLink). ADR 010.
 */

export const LOG_PREFIX = 'etcd-log/';
export const CHAIN_MANIFEST = 'chain.json';
const OBJECT = /^etcd-log\/([A-Za-z0-9._-]+)\/(segment|chunk)-(\d{16})-(\d{16})\.lblog(\.age)?$/;
const CHAIN_FILE = /^etcd-log\/([A-Za-z0-9._-]+)\/chain\.json$/;

export interface LogObjectName {
  name: string;
  chain: string;
  kind: LogObjectKind;
  first: number;
  last: number;
  encrypted: boolean;
  size: number;
  /** Epoch ms the store last wrote it (the follower writes it within a tick of its newest revision). */
  modifiedAt: number;
}

export function logObjectName(
  chain: string,
  kind: LogObjectKind,
  first: number,
  last: number,
  encrypted: boolean,
): string {
  const pad = (n: number) => String(n).padStart(16, '0');
  return `${LOG_PREFIX}${chain}/${kind}-${pad(first)}-${pad(last)}.lblog${encrypted ? '.age' : ''}`;
}

export function chainManifestName(chain: string): string {
  return `${LOG_PREFIX}${chain}/${CHAIN_MANIFEST}`;
}

export function parseLogObjectName(info: {
  name: string;
  size: number;
  modifiedAt: number;
}): LogObjectName | undefined {
  const m = OBJECT.exec(info.name);
  if (!m) return undefined;
  return {
    name: info.name,
    chain: m[1]!,
    kind: m[2] as LogObjectKind,
    first: Number(m[3]),
    last: Number(m[4]),
    encrypted: m[5] !== undefined,
    size: info.size,
    modifiedAt: info.modifiedAt,
  };
}

export function chainOfManifestName(name: string): string | undefined {
  return CHAIN_FILE.exec(name)?.[1];
}

/** Why a chain began: the first one, or a new one after the follower lost history (ErrCompacted, a broken chain). */
export type ChainReason = 'started' | 'compacted' | 'broken';

/** `etcd-log/CHAIN/chain.json`, written before the chain's first object. */
export interface ChainManifest {
  format: 1;
  chain: string;
  clusterId: string;
  /** Object name of the full snapshot the chain starts from. */
  base: string;
  /** The base snapshot's manifest revision; the log starts at the revision after it. */
  baseRevision: number;
  createdAt: string;
  reason: ChainReason;
  /** The gap this chain closes, when it began because history was lost. */
  gap?: { previousChain: string; lastRevision: number; lostFrom: number; message: string };
  encrypted: boolean;
  /**
   * Set by retention once it deleted the chain's first segments: the chain now starts after revision `through`,
   * replayed from snapshot `base` (created `at`, epoch ms); `prev` is the hash the first remaining object links to
   * (null when retention could not read it: an age-encrypted chain; then that object's own link is taken as given).
   */
  pruned?: { through: number; prev: string | null; base: string; at: number };
}

/** Where a chain's objects start: after its base revision, or after what retention cut. */
export function chainStart(m: ChainManifest): { revision: number; prev: string | null } {
  return m.pruned
    ? { revision: m.pruned.through, prev: m.pruned.prev }
    : { revision: m.baseRevision, prev: GENESIS_HASH };
}

export interface ChainLayout {
  chain: string;
  /** The objects start after this revision (the base revision, or where retention cut the chain). */
  baseRevision: number;
  /** The hash the first object links to (GENESIS_HASH unless retention cut the chain; null: not known). */
  startHash: string | null;
  /** The objects to read, in revision order: sealed segments, then the open segment's chunks. */
  objects: LogObjectName[];
  /**
   * Chunks a sealed segment already covers (a seal that stopped before deleting them), and objects before the
   * chain's start (a prune that stopped before deleting them): not read, safe to delete.
   */
  superseded: LogObjectName[];
  /** The last revision the log holds (baseRevision when it holds none). */
  lastRevision: number;
  /** First thing wrong with the names, in one line; objects then stops before it. */
  problem?: string;
}

/** Orders a chain's objects and checks that their revisions follow on without a gap or an overlap. */
export function chainLayout(
  chain: string,
  baseRevision: number,
  names: LogObjectName[],
  startHash: string | null = GENESIS_HASH,
): ChainLayout {
  const mine = names.filter((n) => n.chain === chain);
  const cut = mine.filter((n) => n.last <= baseRevision);
  const sealed = mine.filter((n) => n.kind === 'segment' && n.last > baseRevision).sort((a, b) => a.first - b.first);
  const chunks = mine
    .filter((n) => n.kind === 'chunk' && n.last > baseRevision)
    .sort((a, b) => a.first - b.first || a.last - b.last);
  const objects: LogObjectName[] = [];
  let last = baseRevision;
  const follow = (o: LogObjectName): string | undefined => {
    if (o.first > last + 1) return `revisions ${last + 1}..${o.first - 1} are missing (a log object was deleted?)`;
    if (o.first <= last) return `${shortName(o)} overlaps revisions already covered (up to ${last})`;
    if (o.last < o.first) return `${shortName(o)} has a bad revision range`;
    return undefined;
  };
  for (const s of sealed) {
    const problem = follow(s);
    if (problem) return { chain, baseRevision, startHash, objects, superseded: cut, lastRevision: last, problem };
    objects.push(s);
    last = s.last;
  }
  const superseded = [...cut, ...chunks.filter((c) => c.last <= last)];
  for (const c of chunks.filter((c) => c.last > last)) {
    const problem = follow(c);
    if (problem) return { chain, baseRevision, startHash, objects, superseded, lastRevision: last, problem };
    objects.push(c);
    last = c.last;
  }
  return { chain, baseRevision, startHash, objects, superseded, lastRevision: last };
}

function shortName(o: LogObjectName): string {
  return o.name.slice(o.name.lastIndexOf('/') + 1);
}

/**
 * Is `decoded` the object the chain expects at this place? `prev` is the hash of the object before it (GENESIS_HASH
 * for the first). Returns one line naming the object and what is wrong, or undefined.
 */
export function checkLink(o: LogObjectName, decoded: DecodedSegment | { error: string }, prev: string) {
  const where = shortName(o);
  if ('error' in decoded) return `${where}: ${decoded.error}`;
  const h = decoded.header;
  if (h.chain !== o.chain) return `${where}: belongs to chain ${h.chain}, not ${o.chain}`;
  if (h.kind !== o.kind || h.first !== o.first || h.last !== o.last) {
    return `${where}: its header says ${h.kind} ${h.first}..${h.last} (renamed?)`;
  }
  if (h.prev !== prev) {
    const expected = prev === GENESIS_HASH ? 'the start of the chain' : `hash ${prev.slice(0, 12)}`;
    return `${where}: does not follow the object before it (expected ${expected}; one was replaced or altered)`;
  }
  return undefined;
}

/** Restorable revisions of a chain: from its base snapshot to its newest durable revision. */
export interface ChainWindow {
  chain: string;
  fromRevision: number;
  toRevision: number;
  /** Epoch ms: the base snapshot's creation and the newest object's write. */
  fromTime: number;
  toTime: number;
  objects: number;
  bytes: number;
  problem?: string;
}

export function chainWindow(manifest: ChainManifest, layout: ChainLayout, baseCreatedAt: number): ChainWindow {
  const newest = layout.objects.at(-1);
  return {
    chain: manifest.chain,
    fromRevision: layout.baseRevision,
    toRevision: layout.lastRevision,
    fromTime: manifest.pruned?.at ?? baseCreatedAt,
    toTime: newest ? newest.modifiedAt : baseCreatedAt,
    objects: layout.objects.length,
    bytes: layout.objects.reduce((n, o) => n + o.size, 0),
    ...(layout.problem ? { problem: layout.problem } : {}),
  };
}
