import { dirname, resolve } from 'node:path';
import type { LoadedConfig } from '../../adapters/config-file.js';
import { backupMysql, type MysqlBackupResult } from '../../adapters/mysql/dump.js';
import { resolvePassword } from '../../adapters/mysql/password.js';
import { encryptionFor, openDestination } from '../../adapters/snapshot/setup.js';
import { parseDuration } from '../../domain/duration.js';
import { type DatabaseConfig, DEFAULT_DATABASE_EVERY } from '../../domain/mysql/config.js';
import { parseMysqlUrl } from '../../domain/mysql/url.js';
import { UserError } from '../../errors.js';

/**
 * The databases configured in lifeboat.yaml as jobs for the scheduler (`lifeboat serve`): each has a name, an
 * interval, and `run()` which takes one dump into the primary backup destination (`backups.to[0]`), encrypted when
 * `backups.encryption` is set. A job throws on failure (UserError: one line, with the exit code a CLI would use).
 *
 *   for (const job of mysqlBackupJobs(loaded)) scheduler.every(job.everyMs, (signal) => job.run({ signal }));
 */
export interface MysqlBackupJob {
  name: string;
  everyMs: number;
  run(opts?: { signal?: AbortSignal; onProgress?: MysqlProgress }): Promise<MysqlBackupResult>;
}

export type MysqlProgress = (p: { bytes: number; rows: number; table?: string }) => void;

export function mysqlBackupJobs(loaded: LoadedConfig): MysqlBackupJob[] {
  return (loaded.config.databases ?? []).map((entry) => ({
    name: entry.name,
    everyMs: parseDuration(entry.every ?? DEFAULT_DATABASE_EVERY)!,
    run: (opts = {}) => backupConfiguredDatabase(loaded, entry, opts),
  }));
}

/** One configured database, now. `to` and `recipients` override the config (the CLI's --to and --recipient). */
export async function backupConfiguredDatabase(
  loaded: LoadedConfig,
  entry: DatabaseConfig,
  opts: { signal?: AbortSignal; onProgress?: MysqlProgress; to?: string; recipients?: string[] } = {},
): Promise<MysqlBackupResult> {
  const parsed = parseMysqlUrl(entry.url);
  if ('error' in parsed) throw new UserError(`databases.${entry.name}.url: ${parsed.error}`, parsed.hint);
  const backups = loaded.config.backups;
  const recipients = opts.recipients?.length ? opts.recipients : (backups?.encryption?.recipients ?? []);
  const [store, encryption, password] = await Promise.all([
    openDestination(opts.to, loaded),
    encryptionFor(recipients),
    resolvePassword({
      passwordFile: entry.passwordFile && resolve(dirname(loaded.path), entry.passwordFile),
      passwordSecret: entry.passwordSecret,
    }),
  ]);
  return backupMysql({
    target: parsed.target,
    password,
    source: entry.name,
    store,
    encryption,
    onProgress: opts.onProgress,
    signal: opts.signal,
  });
}
