import type { DumpSummary, TableStats } from './dump-parser.js';

/** What a dump promised (its manifest, else what the dump itself holds) and what a restore shows. Pure. */
export type Expected = Pick<DumpSummary, 'databases' | 'tables' | 'views' | 'triggers' | 'routines' | 'events'>;

export interface TableCheck {
  database: string;
  table: string;
  expectedRows: number;
  rows: number | null;
  checksumMatch: boolean | null;
  ok: boolean;
}

export interface Comparison {
  tables: TableCheck[];
  problems: string[];
}

const key = (t: { database: string; table: string }) => `${t.database}.${t.table}`;

/**
 * The stored dump as it streamed past vs its manifest: the file itself must hold what the backup recorded. Checksums
 * are compared only when `checksums` (the manifest used the same algorithm as this version).
 */
export function checkStoredDump(loaded: DumpSummary, manifest: Expected | undefined, checksums = true): string[] {
  const problems: string[] = [];
  if (!loaded.complete) {
    problems.push('the dump has no "-- Dump completed" line at its end: it was cut short and is not a whole backup');
  }
  if (!manifest) return problems;
  const inFile = new Map(loaded.tables.map((t) => [key(t), t]));
  for (const t of manifest.tables) {
    const found = inFile.get(key(t));
    if (!found) problems.push(`${key(t)}: in the manifest but not in the dump file`);
    else if (found.rows !== t.rows || (checksums && found.checksum !== t.checksum)) {
      problems.push(`${key(t)}: the dump file holds ${found.rows} rows, the manifest recorded ${t.rows}`);
    }
  }
  return problems;
}

/** A restore (re-read the same way as the dump) vs what was expected: rows, checksums, and every object. */
export function compareRestore(expected: Expected, restored: DumpSummary): Comparison {
  const problems: string[] = [];
  const got = new Map(restored.tables.map((t) => [key(t), t]));
  const tables: TableCheck[] = expected.tables.map((t) => {
    const r = got.get(key(t));
    if (!r) {
      problems.push(`${key(t)}: missing after the restore`);
      return { ...pick(t), expectedRows: t.rows, rows: null, checksumMatch: null, ok: false };
    }
    const checksumMatch = r.checksum === t.checksum;
    if (r.rows !== t.rows) problems.push(`${key(t)}: ${r.rows} rows restored, ${t.rows} in the dump`);
    else if (!checksumMatch) problems.push(`${key(t)}: ${r.rows} rows restored but their contents differ (checksum)`);
    return { ...pick(t), expectedRows: t.rows, rows: r.rows, checksumMatch, ok: r.rows === t.rows && checksumMatch };
  });
  const expectedKeys = new Set(expected.tables.map(key));
  const dbs = new Set(expected.databases);
  for (const t of restored.tables) {
    if (dbs.has(t.database) && !expectedKeys.has(key(t))) problems.push(`${key(t)}: restored but not in the dump`);
  }
  const kinds = [
    ['view', expected.views, restored.views],
    ['trigger', expected.triggers, restored.triggers],
    ['routine', expected.routines, restored.routines],
    ['event', expected.events, restored.events],
  ] as const;
  for (const [kind, want, have] of kinds) {
    const present = new Set(have);
    for (const name of want) if (!present.has(name)) problems.push(`${kind} ${name}: missing after the restore`);
  }
  return { tables, problems };
}

/** Row counts read back from a restored server (SELECT COUNT(*)) vs what the dump held. */
export function compareCounts(expected: readonly TableStats[], counts: ReadonlyMap<string, number>): string[] {
  const problems: string[] = [];
  for (const t of expected) {
    const n = counts.get(key(t));
    if (n === undefined) problems.push(`${key(t)}: missing after the restore`);
    else if (n !== t.rows) problems.push(`${key(t)}: ${n} rows after the restore, ${t.rows} in the dump`);
  }
  return problems;
}

function pick(t: TableStats): { database: string; table: string } {
  return { database: t.database, table: t.table };
}
