import type { Connection } from 'mysql2/promise';
import { type ScratchServer, startScratchServer } from '../../src/adapters/mysql/scratch-server.js';
import { Scratch } from '../../src/adapters/verify/scratch.js';

/**
 * A real MariaDB (Debian's mariadbd) for integration tests: the product's own scratch server (temp datadir, unix
 * socket, free 127.0.0.1 port), plus a `backup` user with a password full of option-file trouble (quotes, #, spaces,
 * a backslash) so every test also proves the password reaches the stock clients intact. One per test file; each
 * case makes its own databases. `stop()` stops mariadbd (deadline, then SIGKILL) and removes everything.
 */
export interface TestMariadb {
  port: number;
  socket: string;
  server: ScratchServer;
  /** The backup user's password. */
  password: string;
  /** mysql://backup@127.0.0.1:PORT[/db] */
  url(database?: string, user?: string): string;
  /** A root connection over the socket (multiple statements allowed). Closed by stop(). */
  root(): Promise<Connection>;
  /** Run SQL as root; returns the rows of the last statement. */
  sql<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  stop(): Promise<void>;
}

export const BACKUP_PASSWORD = `p"a#ss w'o\\rd`;

export async function startTestMariadb(): Promise<TestMariadb> {
  const scratch = new Scratch();
  let server: ScratchServer;
  try {
    server = await startScratchServer(scratch);
  } catch (err) {
    await scratch.cleanup();
    throw err;
  }
  const mysql = await import('mysql2/promise');
  const connections: Connection[] = [];
  const root = async () => {
    const conn = await mysql.createConnection({
      user: 'root',
      socketPath: server.socket,
      multipleStatements: true,
      charset: 'utf8mb4_general_ci',
      supportBigNumbers: true,
      bigNumberStrings: true,
    });
    conn.on('error', () => undefined);
    connections.push(conn);
    return conn;
  };
  const admin = await root();
  const db: TestMariadb = {
    port: server.port,
    socket: server.socket,
    server,
    password: BACKUP_PASSWORD,
    url: (database, user = 'backup') => `mysql://${user}@127.0.0.1:${server.port}${database ? `/${database}` : ''}`,
    root,
    async sql<T>(text: string, params?: unknown[]) {
      const [rows] = await admin.query(text, params);
      const list = Array.isArray(rows) ? rows : [];
      // With several statements mysql2 returns one result per statement: keep the last.
      const last = list.length > 0 && Array.isArray(list[list.length - 1]) ? list[list.length - 1] : list;
      return last as T[];
    },
    async stop() {
      for (const c of connections) c.destroy();
      await server.stop().catch(() => undefined);
      await scratch.cleanup();
    },
  };
  try {
    await db.sql(
      `CREATE USER 'backup'@'127.0.0.1' IDENTIFIED BY ?; GRANT ALL PRIVILEGES ON *.* TO 'backup'@'127.0.0.1'`,
      [BACKUP_PASSWORD],
    );
  } catch (err) {
    await db.stop();
    throw err;
  }
  return db;
}
