import { isIP } from 'node:net';
import { checkServerIdentity, type TLSSocket } from 'node:tls';
import type { Connection, RowDataPacket, SslOptions } from 'mysql2/promise';
import { explainMysqlError } from '../../domain/mysql/errors.js';
import type { HeldPrivileges, ServerObjects } from '../../domain/mysql/privileges.js';
import type { MysqlTls } from '../../domain/mysql/tls.js';
import { type ServerInfo, serverInfo } from '../../domain/mysql/tools.js';
import { describeTarget, type MysqlTarget, userDatabases } from '../../domain/mysql/url.js';
import { UserError } from '../../errors.js';
import { readInputFile } from '../host/input-file.js';

/**
 * mysql2 connections for the checks around a dump or a load: can we log in, what server is it, which databases
 * exist, is a restore target empty. The dump itself is the vendor's own tool. mysql2 is loaded on demand (other
 * commands do not pay for it).
 */

export interface MysqlSession {
  conn: Connection;
  target: MysqlTarget;
  server: ServerInfo;
  close(): Promise<void>;
}

export async function openSession(
  target: MysqlTarget,
  password: string | undefined,
  opts: { timeoutMs?: number; useDatabase?: boolean } = {},
): Promise<MysqlSession> {
  const mysql = await import('mysql2/promise');
  const where = describeTarget(target);
  let conn: Connection;
  try {
    conn = await mysql.createConnection({
      user: target.user,
      password,
      ...(target.socket ? { socketPath: target.socket } : { host: target.host, port: target.port }),
      ...(opts.useDatabase && target.database ? { database: target.database } : {}),
      connectTimeout: opts.timeoutMs ?? 10_000,
      ...(target.tls ? sslOptions(target.tls, target.host) : {}),
      charset: 'utf8mb4_general_ci',
      supportBigNumbers: true,
      bigNumberStrings: true,
    });
  } catch (err) {
    throw toUserError(err, where, target.database);
  }
  // A dropped connection emits 'error' on the object; without a listener that would end the process.
  conn.on('error', () => undefined);
  if (target.tls?.mode === 'VERIFY_IDENTITY' && !target.socket && isIP(target.host)) {
    // mysql2 checks a certificate's identity against a host *name* only (for an address it checks "localhost"): for
    // an address this check stands in, as MySQL's own clients make it (IP in subjectAltName). It runs after login (the
    // password went to a server whose certificate the CA signed) and before anything is read or dumped.
    const peer = (conn as unknown as { connection: { stream: Partial<TLSSocket> } }).connection.stream;
    const wrong = peer.getPeerCertificate ? checkServerIdentity(target.host, peer.getPeerCertificate()) : undefined;
    if (wrong || !peer.getPeerCertificate) {
      conn.destroy();
      throw toUserError({ code: 'HANDSHAKE_SSL_ERROR', message: wrong?.message ?? 'no TLS certificate seen' }, where);
    }
  }
  try {
    const [rows] = await conn.query<RowDataPacket[]>('SELECT VERSION() AS v, @@version_comment AS c');
    const server = serverInfo(String(rows[0]?.v ?? ''), String(rows[0]?.c ?? ''));
    return { conn, target, server, close: () => conn.end().catch(() => conn.destroy()) };
  } catch (err) {
    conn.destroy();
    throw toUserError(err, where, target.database);
  }
}

/** mysql2's TLS options: the files are read here (or come from a Secret), never put on a command line. */
function sslOptions(tls: MysqlTls, host: string): { ssl?: SslOptions } {
  if (tls.mode === 'DISABLED' || tls.mode === 'PREFERRED') return {};
  const read = (part: 'ca' | 'cert' | 'key', what: string) => {
    const file = tls[part];
    if (!file) return tls.pem?.[part];
    return readInputFile(file, `the TLS ${what}`, { maxBytes: 1024 * 1024 }).toString('utf8');
  };
  const verify = tls.mode === 'VERIFY_CA' || tls.mode === 'VERIFY_IDENTITY';
  return {
    ssl: {
      ca: read('ca', 'CA'),
      cert: read('cert', 'client certificate'),
      key: read('key', 'client key'),
      rejectUnauthorized: verify,
      // VERIFY_CA checks the chain only; VERIFY_IDENTITY also the host name (mysql2 checks it only when asked).
      verifyIdentity: tls.mode === 'VERIFY_IDENTITY' && !isIP(host),
    },
  };
}

export function toUserError(err: unknown, where: string, database?: string): UserError {
  if (err instanceof UserError) return err;
  const e = explainMysqlError(err as { code?: string; message?: string }, where, database);
  return new UserError(e.message, e.hint, e.exitCode);
}

/** The databases a backup covers: the one in the URL (which must exist), else every user database. */
export async function databasesToDump(session: MysqlSession): Promise<string[]> {
  const all = await listDatabases(session);
  const wanted = session.target.database;
  const where = describeTarget(session.target);
  if (wanted) {
    if (!all.includes(wanted)) {
      throw new UserError(
        `unknown database "${wanted}" on ${where}`,
        `databases there: ${userDatabases(all).join(', ') || 'none'}`,
      );
    }
    return [wanted];
  }
  const dbs = userDatabases(all);
  if (dbs.length === 0) throw new UserError(`no user databases on ${where}: nothing to back up`);
  return dbs;
}

export async function listDatabases(session: MysqlSession): Promise<string[]> {
  try {
    const [rows] = await session.conn.query<RowDataPacket[]>('SHOW DATABASES');
    return rows.map((r) => String(Object.values(r)[0]));
  } catch (err) {
    throw toUserError(err, describeTarget(session.target));
  }
}

/** Base tables whose engine has no transactions (MyISAM, Aria...): --single-transaction cannot freeze them. */
export async function nonTransactionalTables(session: MysqlSession, databases: readonly string[]): Promise<string[]> {
  if (databases.length === 0) return [];
  const [rows] = await session.conn.query<RowDataPacket[]>(
    `SELECT CONCAT(TABLE_SCHEMA, '.', TABLE_NAME, ' (', ENGINE, ')') AS t FROM information_schema.TABLES
      WHERE TABLE_SCHEMA IN (?) AND TABLE_TYPE = 'BASE TABLE' AND ENGINE NOT IN ('InnoDB', 'MEMORY') ORDER BY 1`,
    [databases],
  );
  return rows.map((r) => String(r.t));
}

/** Tables and routines already in `database` (0, 0 when it does not exist). */
export async function databaseContents(
  session: MysqlSession,
  database: string,
): Promise<{ exists: boolean; tables: number; routines: number }> {
  const [schemata] = await session.conn.query<RowDataPacket[]>(
    'SELECT COUNT(*) AS n FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?',
    [database],
  );
  if (Number(schemata[0]?.n ?? 0) === 0) return { exists: false, tables: 0, routines: 0 };
  const [tables] = await session.conn.query<RowDataPacket[]>(
    'SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?',
    [database],
  );
  const [routines] = await session.conn.query<RowDataPacket[]>(
    'SELECT COUNT(*) AS n FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ?',
    [database],
  );
  return { exists: true, tables: Number(tables[0]?.n ?? 0), routines: Number(routines[0]?.n ?? 0) };
}

/** Exact row counts (COUNT(*), not the estimates in information_schema) of base tables, keyed `db.table`. */
export async function countRows(session: MysqlSession, databases: readonly string[]): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const db of databases) {
    const [tables] = await session.conn.query<RowDataPacket[]>(
      "SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE'",
      [db],
    );
    for (const row of tables) {
      const table = String(row.t);
      const [n] = await session.conn.query<RowDataPacket[]>(
        `SELECT COUNT(*) AS n FROM ${quoteIdent(db)}.${quoteIdent(table)}`,
      );
      counts.set(`${db}.${table}`, Number(n[0]?.n ?? 0));
    }
  }
  return counts;
}

export function quoteIdent(name: string): string {
  return `\`${name.replace(/`/g, '``')}\``;
}

/**
 * The grantee as information_schema spells it, `'user'@'host'`, of the account the server logged us in as. The
 * *_PRIVILEGES views list every account's grants to a user who may read the mysql schema (global SELECT): without
 * this filter, root's SHOW_ROUTINE would pass for the backup user's.
 */
const ME = `CONCAT("'", SUBSTRING_INDEX(CURRENT_USER(), '@', 1), "'@'", SUBSTRING_INDEX(CURRENT_USER(), '@', -1), "'")`;

/**
 * The backup user's own privileges, from information_schema (global, per database, and MariaDB's mysql.proc). Grants
 * held only through a role (MySQL 8 roles) are not in these views: such a user is told what to grant directly.
 */
export async function heldPrivileges(session: MysqlSession): Promise<HeldPrivileges> {
  const [global] = await session.conn.query<RowDataPacket[]>(
    `SELECT PRIVILEGE_TYPE AS p FROM information_schema.USER_PRIVILEGES WHERE GRANTEE = ${ME}`,
  );
  const [schema] = await session.conn.query<RowDataPacket[]>(
    `SELECT TABLE_SCHEMA AS d, PRIVILEGE_TYPE AS p FROM information_schema.SCHEMA_PRIVILEGES WHERE GRANTEE = ${ME}`,
  );
  const [proc] = await session.conn.query<RowDataPacket[]>(
    `SELECT COUNT(*) AS n FROM information_schema.TABLE_PRIVILEGES
      WHERE GRANTEE = ${ME} AND TABLE_SCHEMA = 'mysql' AND TABLE_NAME = 'proc' AND PRIVILEGE_TYPE = 'SELECT'`,
  );
  const byDatabase = new Map<string, Set<string>>();
  for (const r of schema) {
    // SCHEMA_PRIVILEGES names a database pattern as granted (`shop`, `shop\_%`); exact names are what matters here.
    const db = String(r.d).replace(/\\(.)/g, '$1');
    const set = byDatabase.get(db) ?? new Set<string>();
    set.add(String(r.p));
    byDatabase.set(db, set);
  }
  return {
    global: new Set(global.map((r) => String(r.p))),
    byDatabase,
    procTable: Number(proc[0]?.n ?? 0) > 0,
  };
}

/** Every object of these databases information_schema shows, named as the dump parser names them. */
export async function serverObjects(session: MysqlSession, databases: readonly string[]): Promise<ServerObjects> {
  const list = async (sql: string) =>
    (await session.conn.query<RowDataPacket[]>(sql, [databases]))[0].map((r) => String(r.n)).sort();
  return {
    tables: await list(
      "SELECT CONCAT(TABLE_SCHEMA, '.', TABLE_NAME) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA IN (?) AND TABLE_TYPE = 'BASE TABLE'",
    ),
    views: await list(
      "SELECT CONCAT(TABLE_SCHEMA, '.', TABLE_NAME) AS n FROM information_schema.VIEWS WHERE TABLE_SCHEMA IN (?)",
    ),
    triggers: await list(
      "SELECT CONCAT(TRIGGER_SCHEMA, '.', TRIGGER_NAME) AS n FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA IN (?)",
    ),
    routines: await list(
      "SELECT CONCAT(ROUTINE_SCHEMA, '.', ROUTINE_NAME, ' (', LOWER(ROUTINE_TYPE), ')') AS n FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA IN (?)",
    ),
    events: await list(
      "SELECT CONCAT(EVENT_SCHEMA, '.', EVENT_NAME) AS n FROM information_schema.EVENTS WHERE EVENT_SCHEMA IN (?)",
    ),
  };
}
