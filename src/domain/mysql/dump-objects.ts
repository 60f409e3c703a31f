/**
 * The schema objects a dump creates besides tables, recognised from the line that names them (both mariadb-dump and
 * MySQL's mysqldump write these shapes). Names are `db.name`; a qualified name keeps its own database. Pure.
 */
export type ObjectKind = 'views' | 'triggers' | 'routines' | 'events';

/** An identifier, optionally qualified: groups (qualifier with its dot | undefined, name). */
const IDENT = '((?:`(?:[^`]|``)+`|[\\w$]+)\\.)?(`(?:[^`]|``)+`|[\\w$]+)';
/** The final view definition (`/*!50001 VIEW`), not the placeholder (`/*!50001 CREATE VIEW ... SELECT 1 AS`). */
const VIEW = new RegExp(`^/\\*!50001 VIEW ${IDENT} AS`);
const TRIGGER = new RegExp(`\\bTRIGGER\\s+${IDENT}\\s+(?:BEFORE|AFTER)\\b`, 'i');
const ROUTINE = new RegExp(`^CREATE\\b.*?\\b(PROCEDURE|FUNCTION)\\s+${IDENT}\\s*\\(`);
const EVENT = new RegExp(`\\bEVENT\\s+${IDENT}\\s+ON\\s+SCHEDULE\\b`);

export function objectOf(line: string, database: string): { kind: ObjectKind; name: string } | undefined {
  const name = (m: RegExpExecArray, at: number) =>
    `${m[at] ? unquote(m[at]!.slice(0, -1)) : database}.${unquote(m[at + 1]!)}`;
  let m = VIEW.exec(line);
  if (m) return { kind: 'views', name: name(m, 1) };
  if (!line.includes('CREATE') && !/^\/\*!50\d{3} (TRIGGER|EVENT)/.test(line)) return undefined;
  m = TRIGGER.exec(line);
  if (m) return { kind: 'triggers', name: name(m, 1) };
  m = ROUTINE.exec(line);
  if (m) return { kind: 'routines', name: `${name(m, 2)} (${m[1]!.toLowerCase()})` };
  m = EVENT.exec(line);
  return m ? { kind: 'events', name: name(m, 1) } : undefined;
}

/** `name` from `` `na``me` `` or a bare word. */
export function unquote(identifier: string): string {
  return identifier.startsWith('`') ? identifier.slice(1, -1).replace(/``/g, '`') : identifier;
}
