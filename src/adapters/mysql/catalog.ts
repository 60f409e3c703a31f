import { existsSync, statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import {
  dumpBackupName,
  MYSQL_PREFIX,
  type MysqlManifest,
  mysqlManifestName,
  newestDump,
  parseMysqlManifest,
  renderMysqlManifest,
  withDrill,
} from '../../domain/mysql/manifest.js';
import { UserError } from '../../errors.js';
import type { LoadedConfig } from '../config-file.js';
import { type BackupKind, readSidecar } from '../snapshot/catalog.js';
import { openDestination } from '../snapshot/setup.js';
import type { BackupStore } from '../store/types.js';

/** Finding a dump (a path, an object name, or the newest) and reading/writing its manifest. */

export type ManifestRead = { manifest: MysqlManifest } | { error: string } | undefined;

export function readMysqlManifest(store: BackupStore, dump: string): Promise<ManifestRead> {
  return readSidecar(store, mysqlManifestName(dump), parseMysqlManifest);
}

/** MySQL dumps as `backup list` and `prune` see them: retention applies to each source (database) on its own. */
export const MYSQL_DUMPS: BackupKind<MysqlManifest> = {
  prefix: MYSQL_PREFIX,
  parseName: dumpBackupName,
  readManifest: (store, dump) => readMysqlManifest(store, dump),
};

/** `dump` as this store names it (a dump opened by its path lives in a store rooted at its directory). */
export function writeMysqlManifest(store: BackupStore, dump: string, manifest: MysqlManifest): Promise<void> {
  return store.putSmall(mysqlManifestName(dump), renderMysqlManifest(manifest));
}

/** Record a restore drill's result in the dump's manifest (one atomic put); see withDrill. */
export function recordVerification(
  store: BackupStore,
  dump: string,
  manifest: MysqlManifest,
  o: {
    ok: boolean;
    status: 'verified' | 'failed' | 'unverified';
    reason?: string;
    seconds: number;
    tables: number;
    rows: number;
    scratchVersion: string | null;
    problems: string[];
    warnings: string[];
  },
  toolVersion: string,
): Promise<void> {
  const { ok, status, reason, seconds, tables, rows, scratchVersion, problems, warnings } = o;
  const drill = {
    ok,
    status,
    ...(reason ? { reason } : {}),
    at: new Date().toISOString(),
    seconds,
    tables,
    rows,
    scratchVersion,
    problems,
    warnings,
    toolVersion,
  };
  return writeMysqlManifest(store, dump, withDrill(manifest, drill));
}

/**
 * FILE (a path on this machine, else an object name in the store) or --latest (the newest dump in the store,
 * optionally of one source). Bad input is exit 2.
 */
export async function resolveDump(
  file: string | undefined,
  opts: { latest?: boolean; to?: string; source?: string },
  loaded: LoadedConfig | undefined,
): Promise<{ store: BackupStore; name: string }> {
  if (file && opts.latest) throw new UserError('give a dump FILE or --latest, not both');
  if (file) {
    const path = resolve(file);
    if (existsSync(path) && statSync(path).isFile()) {
      return { store: await openDestination(dirname(path)), name: basename(path) };
    }
    if (!opts.to && !loaded?.config.backups?.to) throw new UserError(`cannot read ${file}: no such file`);
    const store = await openDestination(opts.to, loaded);
    if ((await store.list(file)).some((o) => o.name === file)) return { store, name: file };
    throw new UserError(`no dump "${file}": not a file here, and not an object in ${store.location}`);
  }
  if (!opts.latest) throw new UserError('which dump? give a FILE (path or object name) or --latest');
  const store = await openDestination(opts.to, loaded);
  const names = (await store.list(MYSQL_PREFIX)).map((o) => o.name);
  const newest = newestDump(names, opts.source);
  if (!newest) {
    const of = opts.source ? ` of "${opts.source}"` : '';
    throw new UserError(
      `no database dumps${of} in ${store.location}`,
      'take one with: lifeboat backup mysql --url ...',
    );
  }
  return { store, name: newest };
}
