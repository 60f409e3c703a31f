import { readManifest, writeManifest } from '../adapters/snapshot/catalog.js';
import { decryptionFor } from '../adapters/snapshot/setup.js';
import type { ByteTransform } from '../adapters/snapshot/stream.js';
import type { BackupStore } from '../adapters/store/types.js';
import { type DrillResult, runDrill } from '../adapters/verify/drill.js';
import { localFile, prepareSnapshot } from '../adapters/verify/prepare.js';
import { Scratch } from '../adapters/verify/scratch.js';
import { type BackupManifest, withVerification } from '../domain/backup/manifest.js';
import { compareRestore, expectationOf, storedHashProblem, verificationRecord } from '../domain/backup/verify.js';
import { errorMessage } from '../errors.js';
import { VERSION } from '../version.js';

/**
 * `lifeboat verify`: check the stored bytes, restore them with etcd's own tool into a throwaway member, and compare
 * what it serves with the manifest. Every failure becomes a problem that names its check; the scratch directory and
 * the throwaway etcd are removed whatever happens (an abort included: it rethrows after cleaning up).
 */

export interface VerifyRequest {
  store: BackupStore;
  name: string;
  manifest?: BackupManifest;
  decrypt?: ByteTransform;
  signal?: AbortSignal;
  /** Parent of the scratch directory (default: the OS temp dir). Needs room for a copy of the database. */
  scratchDir?: string;
  /** Credentials for a snapshot of a cluster with auth enabled. */
  auth?: { user: string; password?: string };
}

export interface VerifyOutcome {
  ok: boolean;
  location: string;
  name: string;
  revision: number | null;
  keys: number | null;
  hashKVMatch: boolean | null;
  seconds: number;
  problems: string[];
  /** Which stage the drill reached: a failed check stops it there. */
  stage: 'read' | 'check' | 'restore' | 'compare';
  timings?: DrillResult['timings'] & { checkFileMs: number };
}

export async function verifySnapshot(req: VerifyRequest): Promise<VerifyOutcome> {
  const started = Date.now();
  const base = { location: req.store.locate(req.name), name: req.name };
  const outcome = (stage: VerifyOutcome['stage'], problems: string[], rest: Partial<VerifyOutcome> = {}) => ({
    ...base,
    ok: problems.length === 0,
    revision: null,
    keys: null,
    hashKVMatch: null,
    ...rest,
    seconds: (Date.now() - started) / 1000,
    problems,
    stage,
  });
  const scratch = new Scratch(req.scratchDir);
  try {
    // A local plaintext snapshot is restored in place, so etcd's restore can start while our own check reads the
    // same file (two cores, one page cache): the check still decides first, and a failed check cancels the drill.
    const inPlace = !req.decrypt ? localFile(req.store, req.name) : undefined;
    const cancelDrill = new AbortController();
    const drillSignal = req.signal ? AbortSignal.any([req.signal, cancelDrill.signal]) : cancelDrill.signal;
    const startDrill = (file: string) =>
      runDrill(file, scratch, { atRevision: req.manifest?.revision, signal: drillSignal, auth: req.auth });
    const early = inPlace ? settle(startDrill(inPlace)) : undefined;
    let prepared: Awaited<ReturnType<typeof prepareSnapshot>>;
    try {
      prepared = await prepareSnapshot(req.store, req.name, scratch, { decrypt: req.decrypt, signal: req.signal });
    } catch (err) {
      cancelDrill.abort();
      await early;
      req.signal?.throwIfAborted();
      const what = req.decrypt ? 'reading or decrypting the snapshot failed' : 'reading the snapshot failed';
      return outcome('read', [`${what}: ${errorMessage(err)}`]);
    }
    const checkFileMs = Date.now() - started;
    const problems = [
      ...(prepared.check.problem ? [prepared.check.problem.message] : []),
      ...storedHashProblem(req.manifest, prepared.stored.size, prepared.stored.sha256),
    ];
    if (problems.length > 0) {
      cancelDrill.abort();
      await early;
      return outcome('check', problems);
    }
    const ran = await (early ?? settle(startDrill(prepared.file)));
    if ('error' in ran) {
      req.signal?.throwIfAborted();
      return outcome('restore', [errorMessage(ran.error)]);
    }
    const drill: DrillResult = ran.value;
    const cmp = compareRestore(req.manifest && expectationOf(req.manifest), drill.observation);
    return outcome('compare', cmp.problems, {
      revision: drill.observation.revision,
      keys: drill.observation.keys,
      hashKVMatch: cmp.hashKVMatch,
      timings: { ...drill.timings, checkFileMs },
    });
  } finally {
    await scratch.cleanup();
  }
}

/** A promise that never rejects, so it can be started now and awaited (or abandoned) later. */
function settle<T>(promise: Promise<T>): Promise<{ value: T } | { error: unknown }> {
  return promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
}

/** Run the drill on one stored snapshot and record the result in its manifest. Shared with `backup etcd --every`. */
export async function verifyAndRecord(req: {
  store: BackupStore;
  name: string;
  identity?: string;
  signal?: AbortSignal;
  scratchDir?: string;
  auth?: { user: string; password?: string };
}): Promise<{
  outcome: VerifyOutcome;
  manifest: 'ok' | 'missing' | 'unreadable';
  manifestError?: string;
  recorded: boolean;
}> {
  const found = await readManifest(req.store, req.name);
  const manifest = found && 'manifest' in found ? found.manifest : undefined;
  const encrypted = manifest?.encrypted ?? req.name.endsWith('.age');
  const decrypt = encrypted ? await decryptionFor(req.identity) : undefined;
  const started = Date.now();
  let outcome = await verifySnapshot({ ...req, manifest, decrypt });
  if (found && 'error' in found) {
    // The manifest says which backup the bytes are (size, sha256, revision, cluster): a snapshot beside a manifest
    // that cannot be read may restore, but nothing shows it is that backup (recover refuses it the same way).
    outcome = { ...outcome, ok: false, problems: [`manifest unreadable: ${found.error}`, ...outcome.problems] };
  }
  if (manifest) {
    const record = verificationRecord(outcome, outcome.problems, started, outcome.seconds, VERSION);
    await writeManifest(req.store, req.name, withVerification(manifest, record));
  }
  const state = manifest ? 'ok' : found ? 'unreadable' : 'missing';
  return {
    outcome,
    manifest: state,
    manifestError: found && 'error' in found ? found.error : undefined,
    recorded: Boolean(manifest),
  };
}
