import type { ObjectKind } from './dump-objects.js';
import type { DumpSummary } from './dump-parser.js';
import { major, type ServerInfo } from './tools.js';

/**
 * Nothing silently missing: what a backup user must hold so the dump tool sees every object, and what the server has
 * that the dump does not. A dump tool without a privilege does not fail: it leaves the objects out (mysqldump without
 * SHOW_ROUTINE writes no routines and exits 0), so Lifeboat checks both before it stores anything. Pure.
 */

/** The privileges the backup user holds: global ones, and per database. Names as information_schema spells them. */
export interface HeldPrivileges {
  global: ReadonlySet<string>;
  byDatabase: ReadonlyMap<string, ReadonlySet<string>>;
  /** MariaDB: SELECT on mysql.proc (how it lets a user read other definers' routines). */
  procTable: boolean;
}

/** What the dump tool needs for each kind of object, per database. */
const PER_DATABASE: Array<{ privilege: string; what: string }> = [
  { privilege: 'SELECT', what: 'tables' },
  { privilege: 'SHOW VIEW', what: 'views' },
  { privilege: 'TRIGGER', what: 'triggers' },
  { privilege: 'EVENT', what: 'events' },
];

/** Missing privileges, each as `PRIVILEGE (what it hides) on db1, db2`. Empty when all is there. */
export function missingPrivileges(server: ServerInfo, held: HeldPrivileges, databases: readonly string[]): string[] {
  const has = (privilege: string, db: string) =>
    held.global.has(privilege) || held.byDatabase.get(db)?.has(privilege) === true;
  const missing: string[] = [];
  for (const { privilege, what } of PER_DATABASE) {
    const lacking = databases.filter((db) => !has(privilege, db));
    if (lacking.length > 0) missing.push(`${privilege} (${what}) on ${lacking.join(', ')}`);
  }
  // Routines of other definers: MySQL shows them (SHOW CREATE FUNCTION ...) to global SELECT, and from 8.0.20 on also
  // to SHOW_ROUTINE, the narrower grant a backup user should get; MariaDB to SELECT on mysql.proc (global SELECT
  // includes it). EXECUTE or ALTER ROUTINE on a database is not enough: information_schema then lists a routine, but
  // mysqldump is refused its body.
  if (server.flavor === 'mysql') {
    const newer = major(server.version) > 8 || versionAtLeast(server.version, [8, 0, 20]);
    const ok = held.global.has('SELECT') || (newer && held.global.has('SHOW_ROUTINE'));
    if (!ok) missing.push(`${newer ? 'SHOW_ROUTINE' : 'global SELECT'} (routines of other definers)`);
  } else if (!held.global.has('SELECT') && !held.procTable) {
    missing.push('SELECT on mysql.proc (routines of other definers)');
  }
  return missing;
}

/** What information_schema lists, in the dump summary's names (`db.name`, routines `db.name (procedure)`). */
export interface ServerObjects {
  tables: string[];
  views: string[];
  triggers: string[];
  routines: string[];
  events: string[];
}

const KINDS: Array<{ kind: ObjectKind | 'tables'; word: string; privilege: string }> = [
  { kind: 'tables', word: 'table', privilege: 'SELECT' },
  { kind: 'views', word: 'view', privilege: 'SHOW VIEW' },
  { kind: 'triggers', word: 'trigger', privilege: 'TRIGGER' },
  { kind: 'routines', word: 'routine', privilege: 'SHOW_ROUTINE' },
  { kind: 'events', word: 'event', privilege: 'EVENT' },
];

/** Objects the server has that the dump does not hold, each naming the privilege that hides it. */
export function missingFromDump(server: ServerObjects, dump: DumpSummary): string[] {
  const problems: string[] = [];
  const dumped: Record<string, Set<string>> = {
    tables: new Set(dump.tables.map((t) => `${t.database}.${t.table}`)),
    views: new Set(dump.views),
    triggers: new Set(dump.triggers),
    routines: new Set(dump.routines),
    events: new Set(dump.events),
  };
  for (const { kind, word, privilege } of KINDS) {
    const lost = server[kind].filter((name) => !dumped[kind]!.has(name));
    if (lost.length === 0) continue;
    const shown = lost.slice(0, 5).join(', ') + (lost.length > 5 ? ` and ${lost.length - 5} more` : '');
    problems.push(
      `the dump lacks ${lost.length} ${word}${lost.length === 1 ? '' : 's'} the server has (${shown}): does the backup user hold ${privilege}?`,
    );
  }
  return problems;
}

function versionAtLeast(version: string, want: [number, number, number]): boolean {
  const parts = version.split('.').map((p) => Number.parseInt(p, 10) || 0);
  for (let i = 0; i < 3; i++) {
    if ((parts[i] ?? 0) !== want[i]) return (parts[i] ?? 0) > want[i]!;
  }
  return true;
}
