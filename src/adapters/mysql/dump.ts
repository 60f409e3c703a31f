import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { CHECKSUM_ALGORITHM } from '../../domain/mysql/checksum.js';
import { DumpParser, type DumpSummary } from '../../domain/mysql/dump-parser.js';
import { explainToolFailure, StderrKeeper } from '../../domain/mysql/errors.js';
import {
  dumpName,
  MYSQL_MANIFEST_FORMAT,
  type MysqlManifest,
  mysqlManifestName,
  renderMysqlManifest,
} from '../../domain/mysql/manifest.js';
import { missingFromDump, missingPrivileges, type ServerObjects } from '../../domain/mysql/privileges.js';
import { chooseTool, consistencyWarnings, dumpArgs, type ProgramPaths } from '../../domain/mysql/tools.js';
import { describeTarget, type MysqlTarget } from '../../domain/mysql/url.js';
import { errorMessage, UserError } from '../../errors.js';
import { VERSION } from '../../version.js';
import { stopProcess } from '../proc/process.js';
import type { Encryption } from '../snapshot/setup.js';
import type { BackupStore } from '../store/types.js';
import { databasesToDump, heldPrivileges, nonTransactionalTables, openSession, serverObjects } from './connect.js';
import { gzipBlocks } from './gzip.js';
import { clientEnv, dumpTools, programPaths, withDefaultsFile } from './programs.js';

/**
 * One database backup: check the login and the databases with mysql2, run the vendor's dump tool with the password
 * in a 0600 option file, and stream its output through the parser (row counts and checksums, ADR 005), gzip and
 * optionally age into a PendingObject. The object is committed only when the dump exited 0, wrote its end marker and
 * every byte reached the store; otherwise it is aborted and nothing appears under the backup's name. The manifest is
 * written after the commit.
 */

export interface MysqlBackupRequest {
  target: MysqlTarget;
  password?: string;
  /** Name of the source in object names and the manifest (a configured name, or the database / host). */
  source: string;
  store: BackupStore;
  encryption?: Encryption;
  onProgress?: (p: { bytes: number; rows: number; table?: string }) => void;
  signal?: AbortSignal;
  now?: () => number;
  /** Configured program paths (lifeboat.yaml's mysqlTools); the environment wins. */
  paths?: ProgramPaths;
  /** Dump a MySQL server with mariadb-dump anyway (the drill, in a MySQL scratch server, then decides). */
  allowOtherTool?: boolean;
}

export interface MysqlBackupResult {
  manifest: MysqlManifest;
  warnings: string[];
}

/** A stream (the dump tool's own output) that did not produce a whole dump: nothing was stored. */
export class DumpFailedError extends UserError {}

export async function backupMysql(req: MysqlBackupRequest): Promise<MysqlBackupResult> {
  const now = req.now ?? Date.now;
  const started = now();
  const session = await openSession(req.target, req.password);
  let databases: string[];
  let unsafe: string[];
  let objects: ServerObjects;
  try {
    databases = await databasesToDump(session);
    const lacking = missingPrivileges(session.server, await heldPrivileges(session), databases);
    if (lacking.length > 0) {
      throw new UserError(
        `the backup user ${describeTarget(req.target)} lacks ${lacking.join('; ')}: the dump would silently miss what they hide`,
        `grant them, e.g. GRANT SHOW_ROUTINE ON *.* TO ...; GRANT SELECT, SHOW VIEW, TRIGGER, EVENT ON db.* TO ...`,
        2,
      );
    }
    unsafe = await nonTransactionalTables(session, databases);
    objects = await serverObjects(session, databases);
  } finally {
    await session.close();
  }
  const choice = chooseTool(session.server, dumpTools(programPaths(req.paths)), { allowOther: req.allowOtherTool });
  if (!choice) throw new UserError('no dump program found', undefined, 1);
  if ('refused' in choice) throw new UserError(choice.refused, choice.hint, 2);
  const { tool } = choice;
  const warnings = [...choice.warnings, ...consistencyWarnings(unsafe)];
  const createdAt = now();
  const name = dumpName(createdAt, req.source, Boolean(req.encryption));
  const { target } = req;
  const streamed = await withDefaultsFile(
    {
      user: target.user,
      password: req.password,
      host: target.host,
      port: target.port,
      socket: target.socket,
      tls: target.tls,
      flavor: tool.flavor,
    },
    (file) =>
      dumpInto(req, name, tool.path, dumpArgs(tool, { defaultsFile: file, socket: target.socket }, databases), (s) =>
        missingFromDump(objects, s),
      ),
  );
  const { summary } = streamed;
  const manifest: MysqlManifest = {
    format: MYSQL_MANIFEST_FORMAT,
    name,
    location: req.store.locate(name),
    source: req.source,
    url: target.display,
    server: { ...session.server },
    dumpTool: { command: tool.command, version: tool.version, flavor: tool.flavor },
    databases,
    tables: summary.tables.map((t) => ({ ...t })),
    views: summary.views,
    triggers: summary.triggers,
    routines: summary.routines,
    events: summary.events,
    rows: summary.rows,
    checksumAlgorithm: CHECKSUM_ALGORITHM,
    consistency: 'counted from the dump stream (single-transaction snapshot); ADR 005',
    compression: 'gzip',
    size: streamed.size,
    sha256: streamed.sha256,
    plaintextSize: summary.bytes,
    encrypted: Boolean(req.encryption),
    ...(req.encryption ? { recipients: req.encryption.recipients } : {}),
    createdAt: new Date(createdAt).toISOString(),
    seconds: Math.round(now() - started) / 1000,
    toolVersion: VERSION,
    ...(warnings.length ? { warnings } : {}),
    verified: null,
  };
  await req.store.putSmall(mysqlManifestName(name), renderMysqlManifest(manifest));
  return { manifest, warnings };
}

async function dumpInto(
  req: MysqlBackupRequest,
  name: string,
  command: string,
  args: string[],
  /** Problems with what the dump holds (objects the server has and the dump lacks): nothing is stored then. */
  check: (summary: DumpSummary) => string[],
): Promise<{ summary: DumpSummary; size: number; sha256: string }> {
  const pending = await req.store.create(name);
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: clientEnv() });
  const kept = new StderrKeeper();
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => kept.push(d));
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => {
    child.once('error', (err) => {
      kept.push(`${err.message}\n`);
      resolve({ code: -1, signal: null });
    });
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  const parser = new DumpParser();
  const hash = createHash('sha256');
  let size = 0;
  async function* parse(input: AsyncIterable<Buffer>) {
    for await (const chunk of input) {
      try {
        parser.feed(chunk);
      } catch (err) {
        throw new DumpFailedError(`unreadable dump output (${errorMessage(err)}); nothing was stored`, undefined, 1);
      }
      req.onProgress?.({ bytes: parser.bytesSoFar, rows: parser.rowsSoFar, table: parser.currentTable });
      yield chunk;
    }
  }
  async function* measure(input: AsyncIterable<Uint8Array>) {
    for await (const chunk of input) {
      hash.update(chunk);
      size += chunk.length;
      yield chunk;
    }
  }
  const encrypt = req.encryption?.encrypt ?? ((input: AsyncIterable<Buffer>) => input);
  try {
    try {
      await pipeline(child.stdout, parse, gzipBlocks(), encrypt, measure, pending.stream, { signal: req.signal });
    } catch (err) {
      if (child.exitCode === null && child.pid !== undefined) await stopProcess(child.pid, 3000);
      const status = await exited;
      if (status.code !== 0 && status.code !== null && !req.signal?.aborted)
        throw failure(command, status, kept.text());
      throw err;
    }
    const status = await exited;
    if (status.code !== 0) throw failure(command, status, kept.text());
    const summary = parser.end();
    if (!summary.complete) {
      throw new DumpFailedError(
        `the dump ended without its "-- Dump completed" line; nothing was stored`,
        undefined,
        1,
      );
    }
    const problems = check(summary);
    if (problems.length > 0) throw new DumpFailedError(`${problems.join('; ')}; nothing was stored`, undefined, 2);
    await pending.commit();
    return { summary, size, sha256: hash.digest('hex') };
  } catch (err) {
    await pending.abort(err instanceof Error ? err : new Error(String(err)));
    throw err;
  }
}

function failure(command: string, status: { code: number | null; signal: string | null }, stderr: string): Error {
  const e = explainToolFailure(command.split('/').pop() ?? command, status.code, status.signal, stderr);
  return new DumpFailedError(`${e.message}; nothing was stored`, e.hint, e.exitCode);
}
