import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ClientTool, defaultsFileText, parseHelpOptions, parseToolVersion } from '../../domain/mysql/tools.js';
import { UserError } from '../../errors.js';
import { which } from '../proc/which.js';

/**
 * The MySQL/MariaDB programs on this machine: the dump tools, the command-line client, the server. Client programs
 * are looked up on PATH only (as a shell would); the server and its installer also in the sbin directories packages
 * put them in, since those are often not on an ordinary user's PATH.
 */

export const DUMP_COMMANDS = ['mariadb-dump', 'mysqldump'];
export const CLIENT_COMMANDS = ['mariadb', 'mysql'];
const SERVER_DIRS = ['/usr/sbin', '/usr/local/sbin', '/usr/libexec', '/usr/local/mysql/bin'];

const probed = new Map<string, ClientTool | undefined>();

/** Every installed tool of these names (the same program twice through a symlink counts once). */
export function findTools(commands: readonly string[]): ClientTool[] {
  const tools: ClientTool[] = [];
  const seen = new Set<string>();
  for (const command of commands) {
    const path = which(command);
    if (!path) continue;
    const tool = probe(path, command);
    if (!tool) continue;
    const identity = `${tool.flavor} ${tool.version} ${[...tool.options].length}`;
    if (seen.has(identity)) continue;
    seen.add(identity);
    tools.push(tool);
  }
  return tools;
}

/** The dump tools, or a one-line error naming what to install. */
export function dumpTools(): ClientTool[] {
  const tools = findTools(DUMP_COMMANDS);
  if (tools.length === 0) {
    throw new UserError(
      'no dump program: neither mariadb-dump nor mysqldump is on PATH',
      'install the client package (Debian: apt install mariadb-client; MySQL: mysql-client)',
      1,
    );
  }
  return tools;
}

/** The command-line client that loads dumps. MariaDB's first: it understands both vendors' dumps. */
export function clientTool(): ClientTool {
  const tool = findTools(CLIENT_COMMANDS)[0];
  if (!tool) {
    throw new UserError(
      'no mariadb or mysql client program on PATH: cannot load a dump',
      'install the client package (Debian: apt install mariadb-client)',
      1,
    );
  }
  return tool;
}

/** The server and installer for scratch servers; LIFEBOAT_MARIADBD / LIFEBOAT_MARIADB_INSTALL_DB override. */
export function serverPrograms(): { server: string; installDb: string } {
  const path = [process.env.PATH ?? '', ...SERVER_DIRS].join(':');
  const server = process.env.LIFEBOAT_MARIADBD ?? which('mariadbd', path) ?? which('mysqld', path);
  const installDb =
    process.env.LIFEBOAT_MARIADB_INSTALL_DB ?? which('mariadb-install-db', path) ?? which('mysql_install_db', path);
  if (!server || !installDb) {
    throw new UserError(
      'a restore drill needs a MariaDB server on this machine: mariadbd and mariadb-install-db were not found',
      'install it (Debian: apt install mariadb-server); it is only started on a throwaway directory',
      1,
    );
  }
  return { server, installDb };
}

function probe(path: string, command: string): ClientTool | undefined {
  if (probed.has(path)) return probed.get(path);
  const run = (args: string[]) => spawnSync(path, args, { encoding: 'utf8', timeout: 10_000 });
  const version = run(['--version']);
  const parsed = parseToolVersion(`${version.stdout ?? ''}${version.stderr ?? ''}`);
  let tool: ClientTool | undefined;
  if (parsed) {
    const help = run(['--no-defaults', '--help']);
    tool = { path, command, ...parsed, options: parseHelpOptions(help.stdout ?? '') };
  }
  probed.set(path, tool);
  return tool;
}

/**
 * Run `body` with a 0600 [client] option file in a private 0700 directory holding the user and password, for
 * --defaults-extra-file. The password never appears in argv (ps) or the environment of the child; the directory is
 * removed afterwards, also when the process exits abruptly.
 */
export async function withDefaultsFile<T>(
  opts: { user: string; password?: string; host?: string; port?: number; socket?: string },
  body: (file: string) => Promise<T>,
): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'lifeboat-mysql-'));
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  process.on('exit', cleanup);
  try {
    const file = join(dir, 'client.cnf');
    writeFileSync(file, defaultsFileText(opts), { mode: 0o600 });
    return await body(file);
  } finally {
    cleanup();
    process.off('exit', cleanup);
  }
}

/** The environment for client programs: without MYSQL_PWD (the option file carries the password). */
export function clientEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.MYSQL_PWD;
  return env;
}
