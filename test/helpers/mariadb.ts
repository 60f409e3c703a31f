import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Connection } from 'mysql2/promise';
import { type ScratchServer, startScratchServer } from '../../src/adapters/mysql/scratch-server.js';
import { Scratch } from '../../src/adapters/verify/scratch.js';
import type { Flavor, ProgramPaths } from '../../src/domain/mysql/tools.js';

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

/**
 * Oracle MySQL (9.x from Debian unstable) for the tests: the root scripts/mysql-root.sh builds into the test cache
 * (`.ci/run` and quickstart prepare it; built here on first use), with wrappers that run its programs with host
 * paths. Undefined, with the reason, when it cannot be had (then a test skips visibly).
 */
export function mysqlRoot(): { paths: ProgramPaths; env: Record<string, string> } | { missing: string } {
  const root = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'lifeboat-test', 'mysql-root');
  const bin = join(root, 'lifeboat-bin');
  if (!existsSync(join(bin, 'mysqld'))) {
    const built = spawnSync('bash', [fileURLToPath(new URL('../../scripts/mysql-root.sh', import.meta.url))], {
      encoding: 'utf8',
      timeout: 900_000,
    });
    if (built.status !== 0 || !existsSync(join(bin, 'mysqld'))) {
      return {
        missing: `no MySQL root (scripts/mysql-root.sh failed: ${(built.stderr ?? '').trim().split('\n').at(-1)})`,
      };
    }
  }
  const paths = { mysqld: join(bin, 'mysqld'), mysqldump: join(bin, 'mysqldump'), mysql: join(bin, 'mysql') };
  return {
    paths,
    env: { LIFEBOAT_MYSQLD: paths.mysqld, LIFEBOAT_MYSQLDUMP: paths.mysqldump, LIFEBOAT_MYSQL: paths.mysql },
  };
}

/** A real MySQL 9 (see mysqlRoot), like startTestMariadb. Its programs' paths are in `paths` and `env`. */
export async function startTestMysql(
  opts: { extraArgs?: string[] } = {},
): Promise<TestMariadb & { env: Record<string, string> }> {
  const root = mysqlRoot();
  if ('missing' in root) throw new Error(root.missing);
  const db = await startTestMariadb({ flavor: 'mysql', paths: root.paths, extraArgs: opts.extraArgs });
  return Object.assign(db, { env: root.env });
}

export async function startTestMariadb(
  opts: { flavor?: Flavor; paths?: ProgramPaths; extraArgs?: string[] } = {},
): Promise<TestMariadb> {
  const scratch = new Scratch();
  let server: ScratchServer;
  try {
    server = await startScratchServer(scratch, opts);
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
    // MySQL 8+: caching_sha2_password, the default a real install gives a user.
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
