import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { countRows, databaseContents, openSession, toUserError } from '../../adapters/mysql/connect.js';
import { loadDump } from '../../adapters/mysql/load.js';
import type { ByteTransform } from '../../adapters/snapshot/stream.js';
import type { BackupStore } from '../../adapters/store/types.js';
import { compareCounts } from '../../domain/mysql/compare.js';
import { DumpParser, type DumpSummary, type TableStats } from '../../domain/mysql/dump-parser.js';
import type { MysqlManifest } from '../../domain/mysql/manifest.js';
import type { ProgramPaths } from '../../domain/mysql/tools.js';
import { describeTarget, type MysqlTarget } from '../../domain/mysql/url.js';
import { UserError } from '../../errors.js';

/**
 * Load a dump into a real server. Refuses a database that already holds tables or routines unless `force` (the dump
 * drops and recreates its own tables, and anything else in there would be left mixed with restored data). With a
 * database in the URL, a single-database dump is loaded under that name. Afterwards every table's row count is read
 * back and compared with the dump.
 */

export interface MysqlRestoreRequest {
  store: BackupStore;
  name: string;
  manifest?: MysqlManifest;
  decrypt?: ByteTransform;
  target: MysqlTarget;
  password?: string;
  force: boolean;
  /** Configured program paths (lifeboat.yaml's mysqlTools); the environment wins. */
  paths?: ProgramPaths;
  onProgress?: (bytes: number, total: number | undefined, rows: number) => void;
  signal?: AbortSignal;
}

export interface MysqlRestoreOutcome {
  ok: boolean;
  location: string;
  target: string;
  databases: string[];
  tables: number;
  rows: number;
  problems: string[];
  seconds: number;
}

export async function restoreMysql(req: MysqlRestoreRequest): Promise<MysqlRestoreOutcome> {
  const started = Date.now();
  const held: Pick<DumpSummary, 'databases' | 'tables'> = req.manifest ?? (await scan(req));
  const { rename, targets } = plan(held.databases, req.target);
  const where = describeTarget(req.target);
  const session = await openSession({ ...req.target, database: undefined }, req.password);
  try {
    for (const db of targets) {
      const found = await databaseContents(session, db).catch((err) => {
        throw toUserError(err, where, db);
      });
      if ((found.tables > 0 || found.routines > 0) && !req.force) {
        throw new UserError(
          `database "${db}" on ${where} is not empty (${found.tables} tables, ${found.routines} routines): refusing to restore over it`,
          'restore into an empty or new database, or pass --force to load over it; the dump replaces its own tables',
        );
      }
    }
    const total = req.manifest?.plaintextSize;
    const loaded = await loadDump({
      input: await req.store.read(req.name),
      decrypt: req.decrypt,
      login: {
        user: req.target.user,
        password: req.password,
        host: req.target.host,
        port: req.target.port,
        socket: req.target.socket,
        tls: req.target.tls,
      },
      rename,
      onProgress: (bytes, rows) => req.onProgress?.(bytes, total, rows),
      signal: req.signal,
      flavor: session.server.flavor,
      paths: req.paths,
    });
    const expected: TableStats[] = held.tables.map((t) =>
      rename && t.database === rename.from ? { ...t, database: rename.to } : t,
    );
    const problems = compareCounts(expected, await countRows(session, targets));
    if (!loaded.summary.complete)
      problems.unshift('the dump was cut short (no "-- Dump completed" line): the restore is partial');
    if (req.manifest && loaded.stored.sha256 !== req.manifest.sha256) {
      problems.unshift('the stored file is not the one its manifest describes (SHA-256 differs)');
    }
    return {
      ok: problems.length === 0,
      location: req.store.locate(req.name),
      target: req.target.display,
      databases: targets,
      tables: expected.length,
      rows: expected.reduce((n, t) => n + t.rows, 0),
      problems,
      seconds: Math.round(Date.now() - started) / 1000,
    };
  } finally {
    await session.close();
  }
}

/** Which databases the load creates, and whether a single-database dump is renamed to the URL's database. */
function plan(databases: string[], target: MysqlTarget): { rename?: { from: string; to: string }; targets: string[] } {
  const wanted = target.database;
  if (!wanted) return { targets: databases };
  if (databases.length === 1) {
    const only = databases[0]!;
    return only === wanted ? { targets: [wanted] } : { rename: { from: only, to: wanted }, targets: [wanted] };
  }
  throw new UserError(
    `the dump holds ${databases.length} databases (${databases.join(', ')}); a database in --url names one target`,
    'give --url without a database to restore them all under their own names',
  );
}

/** Without a manifest: read the dump once (decompress and parse only) to learn what it holds. */
async function scan(req: MysqlRestoreRequest): Promise<DumpSummary> {
  const parser = new DumpParser();
  const decrypt = req.decrypt ?? ((input: AsyncIterable<Buffer>) => input);
  await pipeline(
    await req.store.read(req.name),
    decrypt,
    createGunzip(),
    async (input: AsyncIterable<Buffer>) => {
      for await (const chunk of input) parser.feed(chunk);
    },
    { signal: req.signal },
  );
  const summary = parser.end();
  if (!summary.complete)
    throw new UserError(`${req.store.locate(req.name)} is cut short (no "-- Dump completed" line)`);
  return summary;
}
