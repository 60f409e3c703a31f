import { mkdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { EtcdConnection } from '../../adapters/etcd/connection.js';
import { toNumber } from '../../adapters/etcd/mapping.js';
import type { RawRangeResponse } from '../../adapters/etcd/proto.js';
import type { SnapshotChunk } from '../../adapters/etcd/snapshot-stream.js';
import { BackendReplay, backendSnapshotChunks } from '../../adapters/etcdlog/backend-replay.js';
import { BrokenLogError, listChains, readChain, type StoredChain } from '../../adapters/etcdlog/store.js';
import { readCatalog } from '../../adapters/snapshot/catalog.js';
import { type ByteTransform, streamSnapshot } from '../../adapters/snapshot/stream.js';
import { LocalStore } from '../../adapters/store/local.js';
import type { BackupStore } from '../../adapters/store/types.js';
import { startRestoredMember } from '../../adapters/verify/drill.js';
import { prepareSnapshot } from '../../adapters/verify/prepare.js';
import { Scratch } from '../../adapters/verify/scratch.js';
import { parseSnapshotName } from '../../domain/backup/naming.js';
import { type ChainWindow, chainWindow } from '../../domain/etcdlog/chain.js';
import { type KeyState, Keyspace, keyspaceDigest } from '../../domain/etcdlog/keyspace.js';
import {
  type BaseSnapshot,
  lastRevisionAtOrBefore,
  type PointInTime,
  ReplayCursor,
  type RestoreSource,
  restoreSources,
} from '../../domain/etcdlog/replay.js';
import { errorMessage, UserError } from '../../errors.js';

/**
 * Point-in-time restore (ADR 010, ADR 015): the newest snapshot at or before the point, its etcd backend rewritten
 * with the log's revisions up to the point appended (no etcd in between), written out as an ordinary snapshot file.
 * Verify uses the same path and also starts an etcd on the result and compares its keyspace with the one the log
 * describes.
 */

export interface ChainInfo extends ChainWindow {
  clusterId: string;
  reason: string;
  base: string;
  gap?: StoredChain['manifest']['gap'];
  superseded: number;
}

/** Every chain with its restorable window (names and manifests only). */
export async function chainWindows(store: BackupStore): Promise<{ chains: ChainInfo[]; problems: string[] }> {
  const { chains, problems } = await listChains(store);
  return {
    problems,
    chains: chains.map((c) => ({
      ...chainWindow(
        c.manifest,
        c.layout,
        parseSnapshotName(c.manifest.base)?.createdAt ?? Date.parse(c.manifest.createdAt),
      ),
      clusterId: c.manifest.clusterId,
      reason: c.manifest.reason,
      base: c.manifest.base,
      ...(c.manifest.gap ? { gap: c.manifest.gap } : {}),
      superseded: c.layout.superseded.length,
    })),
  };
}

export interface PointRestoreRequest {
  store: BackupStore;
  /** Undefined: the newest revision any chain holds. */
  point?: PointInTime;
  /** Output snapshot file. */
  to: string;
  decrypt?: ByteTransform;
  scratchDir?: string;
  signal?: AbortSignal;
  /** Also read the restored keyspace and compare its digest with the one the log describes (verify). */
  compare?: boolean;
  onProgress?: (revisions: number, of: number) => void;
}

export interface PointRestoreResult {
  revision: number;
  file: string;
  base: string;
  baseRevision: number;
  chain: string;
  replayedRevisions: number;
  replayedEvents: number;
  /** Always 0 since the replay writes the backend itself (ADR 015); kept so that --json keeps its shape. */
  replayResent: number;
  seconds: number;
  replaySeconds: number;
  size: number;
  /** With compare: digests of the restored keyspace and of what the log says. */
  digest?: { restored: string; expected: string; keys: number };
}

export async function restoreToPoint(req: PointRestoreRequest): Promise<PointRestoreResult> {
  const started = Date.now();
  const [{ chains: stored }, catalog] = await Promise.all([listChains(req.store), readCatalog(req.store)]);
  const infos = (await chainWindows(req.store)).chains;
  const snapshots: BaseSnapshot[] = catalog.entries.flatMap((e) =>
    e.manifest
      ? [{ name: e.name, revision: e.manifest.revision, createdAt: e.createdAt, clusterId: e.manifest.clusterId }]
      : [],
  );
  if (infos.length === 0)
    throw new UserError(`no change log in ${req.store.location}`, 'run lifeboat backup etcd --follow');
  const revision = await resolvePoint(req, stored, infos);
  const sources = restoreSources(revision, snapshots, infos);
  if (sources.length === 0) {
    // A chain that would reach the point but breaks before it: that is the news, not "nothing reaches it".
    const broken = infos.find((c) => c.problem && c.fromRevision <= revision && c.toRevision < revision);
    if (broken) throw new BrokenLogError(`chain ${broken.chain} cannot reach revision ${revision}: ${broken.problem}`);
    throw new UserError(`no snapshot and chain reach revision ${revision}`, windowsHint(infos));
  }
  let lastError: unknown;
  for (const source of sources) {
    const attempt = await restoreFrom(
      req,
      source,
      stored.find((c) => c.manifest.chain === source.chain.chain)!,
      revision,
    );
    if ('result' in attempt) return { ...attempt.result, seconds: (Date.now() - started) / 1000 };
    lastError = attempt.tooNew;
  }
  throw lastError instanceof Error ? lastError : new Error(`no snapshot can restore revision ${revision}`);
}

function windowsHint(infos: ChainWindow[]): string {
  const list = infos.map((c) => `${c.fromRevision}..${c.toRevision}`).join(', ');
  return `restorable revisions: ${list}`;
}

/** A time point becomes the newest revision the follower had seen by then (ADR 010). */
async function resolvePoint(req: PointRestoreRequest, stored: StoredChain[], infos: ChainInfo[]): Promise<number> {
  const point = req.point;
  if (!point) return Math.max(...infos.map((c) => c.toRevision));
  if ('revision' in point) return point.revision;
  const candidates = infos.filter((c) => c.fromTime <= point.time).sort((a, b) => b.fromTime - a.fromTime);
  const chosen = candidates[0];
  if (!chosen) {
    throw new UserError(`nothing is restorable at ${new Date(point.time).toISOString()}`, windowsHint(infos));
  }
  const chain = stored.find((c) => c.manifest.chain === chosen.chain)!;
  let found = chosen.fromRevision;
  for await (const { decoded } of readChain(req.store, chain.layout, { decrypt: req.decrypt })) {
    const last = lastRevisionAtOrBefore(decoded.groups, point.time);
    if (last === undefined) break;
    found = last;
    if (decoded.groups.at(-1)!.observedAt > point.time) break;
  }
  return found;
}

async function restoreFrom(
  req: PointRestoreRequest,
  source: RestoreSource,
  chain: StoredChain,
  target: number,
): Promise<{ result: Omit<PointRestoreResult, 'seconds'> } | { tooNew: Error }> {
  const scratch = new Scratch(req.scratchDir);
  try {
    const prepared = await prepareSnapshot(req.store, source.base.name, scratch, {
      decrypt: req.decrypt,
      signal: req.signal,
    });
    if (prepared.check.problem) throw new Error(`${source.base.name}: ${prepared.check.problem.message}`);
    const replay = new BackendReplay(prepared.file, scratch.path('point-backend.db'));
    let finished = false;
    try {
      const start = replay.baseRevision;
      if (start > target) {
        return { tooNew: new Error(`snapshot ${source.base.name} already holds revision ${start}, after ${target}`) };
      }
      // verify: the keyspace at the base as etcd itself reads it, then the log applied to it in memory.
      const expected = req.compare ? await keyspaceOfSnapshot(prepared.file, start, req) : undefined;
      const t0 = Date.now();
      const cursor = new ReplayCursor(start, target);
      outer: for await (const { decoded } of readChain(req.store, chain.layout, {
        decrypt: req.decrypt,
        until: target,
      })) {
        req.signal?.throwIfAborted();
        for (const g of decoded.groups) {
          const step = cursor.accept(g);
          if (typeof step === 'object') throw new BrokenLogError(`chain ${chain.manifest.chain}: ${step.error}`);
          if (step === 'past') break outer;
          if (step === 'skip') continue;
          if (expected) {
            const problem = expected.apply(g);
            if (problem) throw new BrokenLogError(`chain ${chain.manifest.chain}: ${problem}`);
          }
          replay.apply(g);
          if (replay.revisions % 10_000 === 0) req.onProgress?.(replay.revisions, target - start);
        }
      }
      const problem = cursor.finish();
      if (problem) throw new BrokenLogError(`chain ${chain.manifest.chain}: ${problem}`);
      if (replay.revision !== target) throw new Error(`the replay ends at revision ${replay.revision}, not ${target}`);
      replay.finish();
      finished = true;
      const replaySeconds = (Date.now() - t0) / 1000;
      const size = await writeSnapshotFile(backendSnapshotChunks(scratch.path('point-backend.db')), req.to, req.signal);
      // verify: what etcd reads from the written file, compared with what the log says.
      const digest = expected
        ? {
            restored: keyspaceDigest((await keyspaceOfSnapshot(req.to, target, req)).entries()),
            expected: keyspaceDigest(expected.entries()),
            keys: expected.size,
          }
        : undefined;
      return {
        result: {
          revision: target,
          file: resolve(req.to),
          base: source.base.name,
          baseRevision: start,
          chain: chain.manifest.chain,
          replayedRevisions: replay.revisions,
          replayedEvents: replay.events,
          replayResent: 0,
          replaySeconds,
          size,
          ...(digest ? { digest } : {}),
        },
      };
    } finally {
      if (!finished) replay.abort();
    }
  } finally {
    await scratch.cleanup();
  }
}

/** The keyspace at `revision` of a snapshot file, as a throwaway etcd restored from it serves it. */
async function keyspaceOfSnapshot(
  file: string,
  revision: number,
  req: { scratchDir?: string; signal?: AbortSignal },
): Promise<Keyspace> {
  const scratch = new Scratch(req.scratchDir);
  try {
    const member = await startRestoredMember(file, scratch, { signal: req.signal });
    return await readKeyspace(member.clientUrl, revision);
  } finally {
    await scratch.cleanup();
  }
}

/** The scratch member's whole keyspace at `revision`, paged (a big keyspace never sits in one response). */
export async function readKeyspace(endpoint: string, revision: number): Promise<Keyspace> {
  const conn = new EtcdConnection(endpoint, {});
  const states: KeyState[] = [];
  try {
    let key = Buffer.from([0]);
    for (;;) {
      const req = { key, range_end: Buffer.from([0]), revision: String(revision), limit: '1000' };
      const res = await conn.unary<RawRangeResponse>('KV', 'Range', req, 60_000);
      for (const kv of res.kvs) {
        states.push({
          key: kv.key,
          value: kv.value,
          createRevision: toNumber(kv.create_revision),
          modRevision: toNumber(kv.mod_revision),
          version: toNumber(kv.version),
          lease: String(kv.lease),
        });
      }
      if (!res.more || res.kvs.length === 0) break;
      key = Buffer.concat([res.kvs.at(-1)!.key, Buffer.from([0])]);
    }
  } finally {
    conn.close();
  }
  return Keyspace.of(revision, states);
}

/** Streams a snapshot into `file` (temp + fsync + rename, 0600), checking its bbolt header and SHA-256 trailer. */
async function writeSnapshotFile(
  chunks: AsyncIterable<SnapshotChunk>,
  file: string,
  signal?: AbortSignal,
): Promise<number> {
  const target = resolve(file);
  const store = new LocalStore(dirname(target));
  const pending = await store.create(basename(target));
  try {
    const streamed = await streamSnapshot(chunks, pending.stream, { signal });
    if (streamed.check.problem)
      throw new Error(`the restored snapshot did not check out: ${streamed.check.problem.message}`);
    await pending.commit();
    return streamed.stored.size;
  } catch (err) {
    await pending.abort(err instanceof Error ? err : new Error(String(err)));
    throw err;
  }
}

export interface ChainVerdict {
  chain: string;
  ok: boolean;
  /** The random point restored, when the chain could be read that far. */
  revision?: number;
  keys?: number;
  digest?: string;
  problem?: string;
  seconds: number;
}

/**
 * verify for chains: restore a random revision inside each chain's window (the newest chain only unless `all`) and
 * compare a digest of the restored keyspace (keys, values, create/mod revisions, versions) with the keyspace the
 * snapshot plus the log describe. A broken link anywhere up to that point fails it with the object named.
 */
export async function verifyChains(req: {
  store: BackupStore;
  decrypt?: ByteTransform;
  scratchDir?: string;
  signal?: AbortSignal;
  all?: boolean;
  random?: () => number;
}): Promise<ChainVerdict[]> {
  const { chains } = await chainWindows(req.store);
  const chosen = req.all ? chains : chains.slice(-1);
  const random = req.random ?? Math.random;
  const verdicts: ChainVerdict[] = [];
  for (const c of chosen) {
    const started = Date.now();
    const scratch = new Scratch(req.scratchDir);
    try {
      if (c.problem) {
        verdicts.push({ chain: c.chain, ok: false, problem: c.problem, seconds: 0 });
        continue;
      }
      const revision = c.fromRevision + Math.floor(random() * (c.toRevision - c.fromRevision + 1));
      const result = await restoreToPoint({
        store: req.store,
        point: { revision },
        to: scratch.path('verify-point.db'),
        decrypt: req.decrypt,
        scratchDir: req.scratchDir,
        signal: req.signal,
        compare: true,
      });
      const d = result.digest!;
      const ok = d.restored === d.expected;
      verdicts.push({
        chain: c.chain,
        ok,
        revision,
        keys: d.keys,
        digest: d.restored,
        ...(ok ? {} : { problem: `restored keyspace differs from the log's at revision ${revision}` }),
        seconds: (Date.now() - started) / 1000,
      });
    } catch (err) {
      req.signal?.throwIfAborted();
      verdicts.push({ chain: c.chain, ok: false, problem: errorMessage(err), seconds: (Date.now() - started) / 1000 });
    } finally {
      await scratch.cleanup();
    }
  }
  return verdicts;
}

/**
 * For `recover --plan snapshot`: etcd at `at` (default: the newest point the log holds) as a snapshot file in the
 * recovery's work dir, or undefined when the store has no change log or its newest point is no newer than the
 * newest snapshot. Written by temp + rename: a file under the name is whole.
 */
export async function pointSnapshotForRecovery(req: {
  store: BackupStore;
  at?: PointInTime;
  workDir: string;
  decrypt?: ByteTransform;
  signal?: AbortSignal;
}): Promise<PointRestoreResult | undefined> {
  const { chains } = await chainWindows(req.store);
  const usable = chains.filter((c) => c.toRevision > c.fromRevision);
  if (usable.length === 0) {
    if (req.at) throw new UserError(`no change log in ${req.store.location} to restore --at from`);
    return undefined;
  }
  if (!req.at) {
    const newestLogged = Math.max(...usable.map((c) => c.toRevision));
    const catalog = await readCatalog(req.store);
    const newestSnapshot = Math.max(0, ...catalog.entries.map((e) => e.manifest?.revision ?? 0));
    if (newestLogged <= newestSnapshot) return undefined;
  }
  mkdirSync(req.workDir, { recursive: true, mode: 0o700 });
  return restoreToPoint({
    store: req.store,
    ...(req.at ? { point: req.at } : {}),
    to: join(req.workDir, 'point-in-time.db'),
    decrypt: req.decrypt,
    signal: req.signal,
  });
}
