import { checkStoredDump, compareRestore, type Expected, type TableCheck } from '../../domain/mysql/compare.js';
import type { DumpSummary } from '../../domain/mysql/dump-parser.js';
import type { MysqlManifest } from '../../domain/mysql/manifest.js';
import { versionWarning } from '../../domain/mysql/tools.js';
import { errorMessage } from '../../errors.js';
import type { ByteTransform } from '../snapshot/stream.js';
import type { BackupStore } from '../store/types.js';
import { Scratch } from '../verify/scratch.js';
import { type ClientLogin, LoadFailedError, loadDump, redump } from './load.js';
import { startScratchServer } from './scratch-server.js';

/**
 * The restore drill for a database dump: a scratch MariaDB, the dump loaded into it as a restore would load it, then
 * the restored databases dumped again and read by the same parser. Rows and checksums per table, and every view,
 * trigger, routine and event, must match the manifest (or, without one, what the dump file itself holds). The scratch
 * server and its directory are removed afterwards, on success, failure or abort.
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
}

export interface MysqlDrillOutcome {
  ok: boolean;
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
  const scratch = new Scratch(req.scratchDir);
  try {
    req.onStage?.('starting a scratch MariaDB');
    const server = await startScratchServer(scratch);
    scratchVersion = server.server.raw;
    const mismatch = versionWarning(req.manifest?.server, server.server);
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
      problems.push(...checkStoredDump(loaded, req.manifest));
      const expected: Expected = req.manifest ?? loaded;
      req.onStage?.('reading the restored databases back');
      try {
        const restored = await redump(login, server.server, expected.databases, req.signal);
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
