import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Flavor, ProgramPaths, ServerInfo } from '../../domain/mysql/tools.js';
import { UserError } from '../../errors.js';
import { freePort } from '../proc/ports.js';
import { isAlive, stopProcess } from '../proc/process.js';
import { runToEnd } from '../proc/run.js';
import { waitFor } from '../proc/wait.js';
import type { Scratch } from '../verify/scratch.js';
import { openSession } from './connect.js';
import { programPaths, serverPrograms } from './programs.js';

/**
 * A throwaway MariaDB or MySQL for restore drills (and tests): `mariadb-install-db` (MySQL: `mysqld
 * --initialize-insecure`) into a fresh data directory, then the server on a unix socket in that directory and a free 127.0.0.1 port. Grant tables are real (no
 * --skip-grant-tables: a dump's DEFINER clauses and GRANT-dependent objects load as they would in production), with a
 * passwordless root reachable only through the socket in a 0700 directory and loopback. Durability is switched off
 * (nosync, no doublewrite, no binlog): the data is thrown away anyway, and it makes start-up and loading several
 * times faster. The event scheduler is OFF (events load but never fire) so no restored event changes data between the load and the comparison.
 */

export interface ScratchServer {
  socket: string;
  port: number;
  dataDir: string;
  pid: number;
  server: ServerInfo;
  logFile: string;
  stop(): Promise<void>;
}

/** MariaDB only: MySQL 8.4+ treats nosync as unsupported and sizes its redo log with another option. */
const FAST_MARIADB = ['--innodb-flush-method=nosync', '--innodb-doublewrite=0', '--innodb-log-file-size=64M'];
const FAST_MYSQL = ['--innodb-doublewrite=OFF'];

/** No server of the wanted engine here: the drill cannot prove anything (the dump stays unverified). */
export class ScratchUnavailableError extends UserError {
  constructor(readonly reason: string) {
    super(reason, 'set $LIFEBOAT_MYSQLD / $LIFEBOAT_MARIADBD or mysqlTools in the config to a server binary', 1);
  }
}
/** sun_path is 108 bytes on Linux; leave room. */
const SOCKET_MAX = 100;

export interface ScratchOptions {
  timeoutMs?: number;
  /** The engine (default MariaDB). */
  flavor?: Flavor;
  paths?: ProgramPaths;
  /** Extra server options (tests: TLS, require_secure_transport). */
  extraArgs?: string[];
}

export async function startScratchServer(scratch: Scratch, opts: ScratchOptions = {}): Promise<ScratchServer> {
  const flavor = opts.flavor ?? 'mariadb';
  const programs = serverPrograms(flavor, opts.paths ?? programPaths());
  if ('missing' in programs) throw new ScratchUnavailableError(programs.missing);
  const { server } = programs;
  const name = flavor === 'mysql' ? 'MySQL' : 'MariaDB';
  const dataDir = scratch.path('data');
  const logFile = scratch.path('server.log');
  const tmp = scratch.path('tmp');
  mkdirSync(tmp, { recursive: true, mode: 0o700 });
  const asRoot = process.getuid?.() === 0 ? ['--user=root'] : [];
  const fast = flavor === 'mysql' ? FAST_MYSQL : FAST_MARIADB;
  if (programs.installDb) {
    await run(
      programs.installDb,
      [
        '--no-defaults',
        `--datadir=${dataDir}`,
        '--auth-root-authentication-method=normal',
        '--skip-test-db',
        '--skip-name-resolve',
        ...asRoot,
        ...fast,
      ],
      scratch.path('install-db.log'),
      opts.timeoutMs ?? 120_000,
    );
  } else {
    // MySQL: root@localhost without a password, reachable only through the 0700 socket directory and loopback.
    await run(
      server,
      [
        '--no-defaults',
        '--initialize-insecure',
        `--datadir=${dataDir}`,
        `--log-error=${scratch.path('install-db.log')}`,
        ...asRoot,
        ...fast,
      ],
      scratch.path('install-db.log'),
      opts.timeoutMs ?? 180_000,
    );
  }
  const engineArgs = flavor === 'mysql' ? ['--mysqlx=OFF', '--secure-file-priv=NULL'] : [];
  let socketDir: string | undefined;
  let socket = scratch.path('mysqld.sock');
  if (socket.length > SOCKET_MAX) {
    socketDir = mkdtempSync(join(tmpdir(), 'lbm-'));
    socket = join(socketDir, 'mysqld.sock');
  }
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const args = [
      '--no-defaults',
      `--datadir=${dataDir}`,
      `--socket=${socket}`,
      `--port=${port}`,
      '--bind-address=127.0.0.1',
      `--pid-file=${scratch.path('server.pid')}`,
      `--log-error=${logFile}`,
      `--tmpdir=${tmp}`,
      '--skip-log-bin',
      '--skip-name-resolve',
      '--event-scheduler=OFF',
      '--max-allowed-packet=1G',
      '--innodb-buffer-pool-size=256M',
      '--innodb-flush-log-at-trx-commit=0',
      '--innodb-fast-shutdown=2',
      '--innodb-buffer-pool-dump-at-shutdown=0',
      '--innodb-buffer-pool-load-at-startup=0',
      ...engineArgs,
      ...asRoot,
      ...fast,
      ...(opts.extraArgs ?? []),
    ];
    const child = spawn(server, args, { stdio: 'ignore', detached: false });
    child.once('error', () => undefined);
    if (child.pid === undefined) throw new UserError(`could not start ${server}`, undefined, 1);
    const pid = child.pid;
    scratch.track(pid);
    try {
      const info = await waitFor(
        `the scratch ${name} to accept connections`,
        async () => {
          if (!isAlive(pid)) throw new ExitedError(server, lastLogLine(logFile));
          if (!existsSync(socket)) return undefined;
          const session = await openSession({ user: 'root', host: 'localhost', port, socket, display: '' }, undefined, {
            timeoutMs: 2000,
          });
          await session.close();
          return session.server;
        },
        { timeoutMs: opts.timeoutMs ?? 60_000, intervalMs: 100 },
      ).catch((err) => {
        // waitFor keeps probing through errors; a dead server is final, so surface its own words.
        if (!isAlive(pid)) throw new ExitedError(server, lastLogLine(logFile));
        throw err;
      });
      const stop = async () => {
        await stopProcess(pid, 10_000, dataDir);
        scratch.untrack(pid);
        if (socketDir) rmSync(socketDir, { recursive: true, force: true });
      };
      return { socket, port, dataDir, pid, server: info, logFile, stop };
    } catch (err) {
      await stopProcess(pid, 5000, dataDir);
      scratch.untrack(pid);
      lastError = err;
      if (!(err instanceof ExitedError && /address already in use|bind on tcp/i.test(err.message))) break;
    }
  }
  if (socketDir) rmSync(socketDir, { recursive: true, force: true });
  const why = lastError instanceof Error ? lastError.message : String(lastError);
  throw new UserError(`the scratch ${name} did not start: ${why}`, `its log: ${logFile}`, 1);
}

class ExitedError extends Error {
  constructor(program: string, logLine: string) {
    super(`${program.split('/').pop()} exited${logLine ? `: ${logLine}` : ''}`);
  }
}

function lastLogLine(file: string): string {
  try {
    const lines = readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => /\[ERROR\]/.test(l));
    return (lines.at(-1) ?? '').replace(/^.*\[ERROR\]\s*/, '').trim();
  } catch {
    return '';
  }
}

/** Run a program to completion with a deadline; its output goes to `log`. */
async function run(command: string, args: string[], log: string, timeoutMs: number): Promise<void> {
  const fd = openSync(log, 'a');
  const result = await runToEnd(command, args, { timeoutMs, stdio: ['ignore', fd, fd] }).finally(() => closeSync(fd));
  if (result.error) throw new UserError(`cannot run ${command}: ${result.error}`, undefined, 1);
  if (result.code === 0) return;
  let tail = '';
  try {
    // The server's own [ERROR] line, not the installer's closing advice ("report it at https://mariadb.org/jira").
    const lines = readFileSync(log, 'utf8').trim().split('\n').filter(Boolean);
    tail = (lines.filter((l) => /\[ERROR\]/.test(l)).at(-1) ?? lines.at(-1) ?? '').replace(/^.*\[ERROR\]\s*/, '');
  } catch {}
  const { signal, code } = result;
  const how = signal ? `was killed (${signal}${signal === 'SIGKILL' ? ', deadline' : ''})` : `exited ${code}`;
  throw new UserError(`${command} ${how}${tail ? `: ${tail}` : ''}`, `log: ${log}`, 1);
}
