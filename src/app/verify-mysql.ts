import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { type ClientLogin, LoadFailedError, loadDump, redump } from '../adapters/mysql/load.js';
import { programPaths, serverPrograms } from '../adapters/mysql/programs.js';
import { startScratchServer } from '../adapters/mysql/scratch-server.js';
import type { ByteTransform } from '../adapters/snapshot/stream.js';
import type { BackupStore } from '../adapters/store/types.js';
import { Scratch } from '../adapters/verify/scratch.js';
import { CHECKSUM_ALGORITHM } from '../domain/mysql/checksum.js';
import { checkStoredDump, compareRestore, type Expected, type TableCheck } from '../domain/mysql/compare.js';
import type { DumpSummary } from '../domain/mysql/dump-parser.js';
import type { MysqlManifest } from '../domain/mysql/manifest.js';
import {
  flavorName,
  type ProgramPaths,
  type ServerInfo,
  scratchMismatch,
  serverInfo,
  versionWarning,
} from '../domain/mysql/tools.js';
import { errorMessage } from '../errors.js';

/**
 * The restore drill for a database dump: a scratch server of the dump's own engine and major version (MySQL 9 for a
 * MySQL 9 dump, MariaDB 10 for a MariaDB 10 dump), the dump loaded into it as a restore would load it, then
 * the restored databases dumped again and read by the same parser. Rows and checksums per table, and every view,
 * trigger, routine and event, must match the manifest (or, without one, what the dump file itself holds). The scratch
 * server and its directory are removed afterwards, on success, failure or abort. Without such a server here the drill
 * proves nothing: the outcome is "unverified" with the reason, never "ok".
 */

export interface MysqlDrillRequest {
  store: BackupStore;
  name: string;
  manifest?: MysqlManifest;
  decrypt?: ByteTransform;
  scratchDir?: string;
  signal?: AbortSignal;
  onStage?: (stage: string) => void;
  onProgress?: (bytes: number, rows: number) => void;
  /** Configured program paths (lifeboat.yaml's mysqlTools); the environment wins. */
  paths?: ProgramPaths;
}

export interface MysqlDrillOutcome {
  ok: boolean;
  /** verified: loaded and compared equal; failed: it did not; unverified: no scratch server that could prove it. */
  status: 'verified' | 'failed' | 'unverified';
  /** Why the drill could not run (status unverified). */
  reason?: string;
  location: string;
  /** Tables compared. */
  tables: number;
  rows: number;
  problems: string[];
  warnings: string[];
  seconds: number;
  scratchVersion: string | null;
  checked: TableCheck[];
}

export async function drillMysql(req: MysqlDrillRequest): Promise<MysqlDrillOutcome> {
  const started = Date.now();
  const problems: string[] = [];
  const warnings: string[] = [];
  const location = req.store.locate(req.name);
  if (!req.manifest) warnings.push('no manifest beside this dump: compared with what the dump file itself holds');
  let checked: TableCheck[] = [];
  let scratchVersion: string | null = null;
  let loaded: DumpSummary | undefined;
  const source = req.manifest?.server ?? (await sourceFromHeader(req));
  const paths = programPaths(req.paths);
  const unverified = (reason: string): MysqlDrillOutcome => ({
    ok: false,
    status: 'unverified',
    reason,
    location,
    tables: req.manifest?.tables.length ?? 0,
    rows: req.manifest?.rows ?? 0,
    problems: [],
    warnings,
    seconds: Math.round(Date.now() - started) / 1000,
    scratchVersion: null,
    checked: [],
  });
  const programs = serverPrograms(source.flavor, paths);
  if ('missing' in programs) return unverified(programs.missing);
  const unfit = scratchMismatch(source, programs);
  if (unfit) return unverified(unfit);
  const scratch = new Scratch(req.scratchDir);
  try {
    req.onStage?.(`starting a scratch ${flavorName(source.flavor)}`);
    const server = await startScratchServer(scratch, { flavor: source.flavor, paths });
    scratchVersion = server.server.raw;
    const mismatch = versionWarning(source, server.server);
    if (mismatch) warnings.push(mismatch);
    const login: ClientLogin = { user: 'root', host: 'localhost', port: server.port, socket: server.socket };
    req.onStage?.('loading the dump');
    const stored = (await req.store.list(req.name)).find((o) => o.name === req.name);
    const sizeProblem = req.manifest && stored && stored.size !== req.manifest.size;
    if (sizeProblem) {
      problems.push(
        `the stored file is not the one the manifest describes (${stored.size} bytes, the manifest says ${req.manifest!.size})`,
      );
    }
    try {
      const result = await loadDump({
        input: await req.store.read(req.name),
        decrypt: req.decrypt,
        login,
        onProgress: req.onProgress,
        signal: req.signal,
        flavor: source.flavor,
        paths,
      });
      loaded = result.summary;
      if (req.manifest && !sizeProblem && result.stored.sha256 !== req.manifest.sha256) {
        problems.push('the stored file is not the one the manifest describes (its SHA-256 differs)');
      }
    } catch (err) {
      if (req.signal?.aborted) throw err;
      const partial = err instanceof LoadFailedError ? err.partial : undefined;
      if (partial?.inputEnded && !partial.summary.complete)
        problems.push(...checkStoredDump(partial.summary, undefined));
      problems.push(`loading the dump failed: ${errorMessage(err)}`);
    }
    if (loaded) {
      // A manifest from an older algorithm: its rows still count; the checksums are the file's, taken as it loaded.
      const sameSums = req.manifest?.checksumAlgorithm === CHECKSUM_ALGORITHM;
      problems.push(...checkStoredDump(loaded, req.manifest, sameSums));
      const expected: Expected = req.manifest
        ? sameSums
          ? req.manifest
          : { ...req.manifest, tables: loaded.tables }
        : loaded;
      req.onStage?.('reading the restored databases back');
      try {
        const restored = await redump(login, server.server, expected.databases, { signal: req.signal, paths });
        const comparison = compareRestore(expected, restored);
        checked = comparison.tables;
        problems.push(...comparison.problems);
      } catch (err) {
        if (req.signal?.aborted) throw err;
        problems.push(`reading the restored databases back failed: ${errorMessage(err)}`);
      }
    }
    await server.stop();
  } finally {
    await scratch.cleanup();
  }
  const expectedTables = req.manifest?.tables ?? loaded?.tables ?? [];
  return {
    ok: problems.length === 0,
    status: problems.length === 0 ? 'verified' : 'failed',
    location,
    tables: expectedTables.length,
    rows: expectedTables.reduce((n, t) => n + t.rows, 0),
    problems,
    warnings,
    seconds: Math.round(Date.now() - started) / 1000,
    scratchVersion,
    checked,
  };
}

/**
 * Without a manifest: the engine from the dump's own header (`-- MySQL dump 10.13  Distrib 9.7.4` /
 * `-- MariaDB dump 10.19  Distrib 10.11.19-MariaDB` and `-- Server version\t9.7.4`), read from its first bytes.
 */
async function sourceFromHeader(req: MysqlDrillRequest): Promise<ServerInfo> {
  const decrypt = req.decrypt ?? ((input: AsyncIterable<Buffer>) => input);
  let head = '';
  try {
    await pipeline(
      await req.store.read(req.name),
      decrypt,
      createGunzip(),
      async (input: AsyncIterable<Buffer>) => {
        for await (const chunk of input) {
          head += chunk.toString('utf8');
          if (head.length >= 4096) return;
        }
      },
      { signal: req.signal },
    );
  } catch (err) {
    if (req.signal?.aborted) throw err;
  }
  const version = /^-- Server version\s+(\S+)/m.exec(head)?.[1] ?? '';
  const mariadb = /^-- MariaDB dump/m.test(head) || /mariadb/i.test(version);
  return serverInfo(mariadb && !/mariadb/i.test(version) ? `${version}-MariaDB` : version);
}
