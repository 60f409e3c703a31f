import { mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { LoadedConfig } from '../../adapters/config-file.js';
import { readManifest } from '../../adapters/snapshot/catalog.js';
import { readDestinationCatalogs } from '../../adapters/snapshot/destinations.js';
import { decryptionFor } from '../../adapters/snapshot/setup.js';
import type { ByteTransform } from '../../adapters/snapshot/stream.js';
import type { BackupStore } from '../../adapters/store/types.js';
import { prepareSnapshot } from '../../adapters/verify/prepare.js';
import { snapshotStatus } from '../../adapters/verify/restore.js';
import type { CatalogEntry } from '../../domain/backup/catalog.js';
import type { BackupManifest } from '../../domain/backup/manifest.js';
import { storedHashProblem } from '../../domain/backup/verify.js';
import type { SnapshotInfo } from '../../domain/recover/types.js';
import { errorMessage } from '../../errors.js';

/**
 * The one way recovery reaches backups: through the same stores and catalog as verify and prune. It searches every
 * destination in `backups.to` (directories, NFS mounts, S3), fetches and decrypts the newest snapshot whose restore
 * drill passed, and checks it exactly as `lifeboat verify` does before anything is planned on it: etcd's SHA-256
 * trailer and bbolt length, the stored bytes' size and sha256 against the manifest, the plaintext's too, and the
 * revision etcd's own tool reads in it. A snapshot that fails a check is never offered; the next one is tried.
 */

export interface SnapshotSearch {
  /** Destinations as written in backups.to (relative directories are relative to the config file). */
  destinations: string[];
  loaded?: LoadedConfig;
  /** --identity FILE (else $LIFEBOAT_AGE_IDENTITY) for age-encrypted snapshots. */
  identity?: string;
  /** Where a snapshot that is not a plain local file is fetched to; it must outlive the recovery (the journal names it). */
  workDir: string;
}

export interface CheckedSnapshot {
  info: SnapshotInfo;
  manifest?: BackupManifest;
}

export interface SnapshotFound {
  found?: CheckedSnapshot;
  /** Why nothing was found, or why newer candidates were passed over (one line per candidate or store). */
  tried: string[];
}

/** Newest verified snapshot over every configured store, fetched to a local plaintext file and checked. */
export async function newestVerifiedSnapshot(search: SnapshotSearch): Promise<SnapshotFound> {
  const tried: string[] = [];
  const candidates: Array<{ store: BackupStore; entry: CatalogEntry }> = [];
  const cwd = search.loaded ? dirname(search.loaded.path) : process.cwd();
  for (const d of await readDestinationCatalogs(search.destinations, search.loaded, cwd)) {
    if (!d.catalog) {
      tried.push(`${d.spec}: ${d.error}`);
      continue;
    }
    const verified = d.catalog.entries.filter((e) => e.verified === true);
    if (verified.length === 0) tried.push(`${d.store.location}: no snapshot with a passed restore drill`);
    for (const entry of verified) candidates.push({ store: d.store, entry });
  }
  candidates.sort((a, b) => b.entry.createdAt - a.entry.createdAt);
  let decrypt: ByteTransform | undefined;
  for (const { store, entry } of candidates) {
    const where = store.locate(entry.name);
    if (entry.encrypted && !decrypt) {
      try {
        decrypt = await decryptionFor(search.identity);
      } catch (err) {
        tried.push(`${where}: ${errorMessage(err)}`);
        continue;
      }
    }
    try {
      const checked = await checkSnapshot(store, entry.name, entry.manifest, {
        decrypt: entry.encrypted ? decrypt : undefined,
        workDir: search.workDir,
      });
      const others = candidates.length - 1;
      const passedOver = tried.length ? `; passed over: ${tried.join('; ')}` : '';
      checked.info.picked =
        `${where}: the newest snapshot whose restore drill passed` +
        ` (${others ? `of ${candidates.length} in ${search.destinations.length} store(s)` : 'the only one'})` +
        `, ${CHECKED}${passedOver}`;
      return { found: checked, tried };
    } catch (err) {
      tried.push(`${where}: ${errorMessage(err)}`);
    }
  }
  return { tried };
}

const CHECKED = 'checked: SHA-256 trailer, length, size and sha256 against its manifest, revision';

/**
 * `--snapshot FILE`: the same checks on a file given by hand (its manifest beside it when there is one; an
 * `.age` file is decrypted into the work dir).
 */
export async function snapshotFromFile(
  path: string,
  opts: { identity?: string; workDir: string },
): Promise<CheckedSnapshot> {
  const file = resolve(path);
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(file);
  } catch {
    throw new Error(`no such file: ${file}`);
  }
  if (!st.isFile()) throw new Error(`not a regular file: ${file}`);
  const { LocalStore } = await import('../../adapters/store/local.js');
  const store = new LocalStore(dirname(file));
  const name = basename(file);
  const found = await readManifest(store, name);
  if (found && 'error' in found) throw new Error(found.error);
  const encrypted = name.endsWith('.age') || found?.manifest.encrypted === true;
  const decrypt = encrypted ? await decryptionFor(opts.identity) : undefined;
  const checked = await checkSnapshot(store, name, found?.manifest, { decrypt, workDir: opts.workDir });
  checked.info.picked = `${file}, given with --snapshot; ${found ? CHECKED : 'no manifest beside it: checked its SHA-256 trailer and length only'}`;
  return checked;
}

/**
 * One stored snapshot as a local plaintext file, checked as verify checks it. A local plaintext file is used in
 * place; anything else is written to a temp file in the work dir and renamed only once every check has passed.
 * Throws one line naming the failed check.
 */
export async function checkSnapshot(
  store: BackupStore,
  name: string,
  manifest: BackupManifest | undefined,
  opts: { decrypt?: ByteTransform; workDir: string },
): Promise<CheckedSnapshot> {
  mkdirSync(opts.workDir, { recursive: true, mode: 0o700 });
  const final = join(opts.workDir, basename(name).replace(/\.age$/, ''));
  const temp = join(opts.workDir, `.${basename(final)}.tmp-${process.pid}`);
  let prepared: Awaited<ReturnType<typeof prepareSnapshot>>;
  try {
    prepared = await prepareSnapshot(store, name, { path: () => temp }, { decrypt: opts.decrypt });
  } catch (err) {
    rmSync(temp, { force: true });
    throw new Error(`${opts.decrypt ? 'reading or decrypting' : 'reading'} failed: ${errorMessage(err)}`);
  }
  const fetched = prepared.file === temp;
  const fail = (problem: string): never => {
    if (fetched) rmSync(temp, { force: true });
    throw new Error(problem);
  };
  if (prepared.check.problem) fail(prepared.check.problem.message);
  const stored = storedHashProblem(manifest, prepared.stored.size, prepared.stored.sha256);
  if (stored.length) fail(stored.join('; '));
  if (manifest && manifest.plaintextSha256 !== prepared.check.sha256) {
    fail('sha256 of the decrypted snapshot differs from the manifest');
  }
  let status: { revision: number; keys: number };
  try {
    status = await snapshotStatus(prepared.file);
  } catch (err) {
    return fail(errorMessage(err));
  }
  // etcd's tool reads the revision off the newest key: a snapshot of an etcd that never held a key says 0 where the
  // store (and the manifest) says 1. Not damage when the manifest counted no key either.
  const neverHeldAKey = status.revision === 0 && manifest?.keys === 0;
  if (manifest && status.revision < manifest.revision && !neverHeldAKey) {
    fail(`revision: the file holds revision ${status.revision}, the manifest says ${manifest.revision}`);
  }
  if (fetched) renameSync(temp, final);
  const file = fetched ? final : prepared.file;
  return {
    info: {
      file,
      revision: status.revision,
      createdAt: manifest?.createdAt ?? new Date(statSync(file).mtimeMs).toISOString(),
      keys: status.keys,
      verified: manifest?.verified ? manifest.verified.ok : null,
      size: prepared.check.size,
      source: store.locate(name),
      clusterId: manifest?.clusterId ?? null,
    },
    ...(manifest ? { manifest } : {}),
  };
}
