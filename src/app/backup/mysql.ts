import { dirname, resolve } from 'node:path';
import type { LoadedConfig } from '../../adapters/config-file.js';
import { resolvePassword, resolveTarget } from '../../adapters/mysql/credentials.js';
import { backupMysql, type MysqlBackupResult } from '../../adapters/mysql/dump.js';
import { encryptionFor, openDestination } from '../../adapters/snapshot/setup.js';
import { parseDuration } from '../../domain/duration.js';
import { type DatabaseConfig, DEFAULT_DATABASE_EVERY } from '../../domain/mysql/config.js';

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
  opts: {
    signal?: AbortSignal;
    onProgress?: MysqlProgress;
    to?: string;
    recipients?: string[];
    allowOtherTool?: boolean;
  } = {},
): Promise<MysqlBackupResult> {
  const backups = loaded.config.backups;
  const recipients = opts.recipients?.length ? opts.recipients : (backups?.encryption?.recipients ?? []);
  const baseDir = dirname(loaded.path);
  const [target, store, encryption, password] = await Promise.all([
    resolveTarget(entry.url, { tls: entry.tls, baseDir, label: `databases.${entry.name}` }),
    openDestination(opts.to, loaded),
    encryptionFor(recipients),
    resolvePassword({
      passwordFile: entry.passwordFile && resolve(baseDir, entry.passwordFile),
      passwordSecret: entry.passwordSecret,
    }),
  ]);
  return backupMysql({
    target,
    password,
    source: entry.name,
    store,
    encryption,
    onProgress: opts.onProgress,
    signal: opts.signal,
    paths: loaded.config.mysqlTools,
    allowOtherTool: opts.allowOtherTool,
  });
}
