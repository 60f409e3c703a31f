import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CLIENT_PROGRAM,
  type ClientTool,
  DUMP_PROGRAM,
  defaultsFileText,
  type Flavor,
  flavorName,
  lookedFor,
  PROGRAMS,
  type ProgramKey,
  type ProgramPaths,
  parseHelpOptions,
  parseToolVersion,
  SERVER_PROGRAM,
} from '../../domain/mysql/tools.js';
import { UserError } from '../../errors.js';
import { which } from '../proc/which.js';

/**
 * The MySQL/MariaDB programs on this machine: the dump tools, the command-line clients, the servers. Each is what
 * its environment variable or lifeboat.yaml's `mysqlTools` names (a path, possibly a wrapper script), else found on
 * PATH (servers also in the sbin directories packages put them in, often not on an ordinary user's PATH). A program
 * counts for an engine only when its own --version says it is that engine's: Debian's `mysqldump` and `mysqld` are
 * MariaDB's under another name.
 */

const SERVER_DIRS = ['/usr/sbin', '/usr/local/sbin', '/usr/libexec', '/usr/local/mysql/bin'];

const probed = new Map<string, ClientTool | undefined>();

/** The configured paths with the environment over them. */
export function programPaths(configured: ProgramPaths = {}): ProgramPaths {
  const paths: ProgramPaths = { ...configured };
  for (const [key, p] of Object.entries(PROGRAMS) as [ProgramKey, (typeof PROGRAMS)[ProgramKey]][]) {
    const fromEnv = process.env[p.env];
    if (fromEnv) paths[key] = fromEnv;
  }
  return paths;
}

/** A program of one engine, or undefined. A configured path that does not run is an error naming it. */
export function findProgram(
  key: ProgramKey,
  paths: ProgramPaths,
  opts: { help?: boolean } = {},
): ClientTool | undefined {
  const spec = PROGRAMS[key];
  const configured = paths[key];
  if (configured) {
    const tool = probe(configured, spec.commands[0], opts.help ?? true);
    if (!tool) {
      throw new UserError(
        `${configured} (from $${spec.env} or mysqlTools.${key}) does not run, or does not print its version`,
        `${configured} --version should print "... Ver X.Y.Z ..."`,
        2,
      );
    }
    return tool;
  }
  const searchPath = [process.env.PATH ?? '', ...SERVER_DIRS].join(':');
  for (const command of spec.commands) {
    const isServer = key === 'mysqld' || key === 'mariadbd' || key === 'mariadbInstallDb';
    const path = which(command, isServer ? searchPath : undefined);
    if (!path) continue;
    if (key === 'mariadbInstallDb') return { path, command, flavor: 'mariadb', version: '', options: new Set() };
    const tool = probe(path, command, opts.help ?? true);
    if (tool && tool.flavor === spec.flavor) return tool;
  }
  return undefined;
}

/** Every dump tool found (MySQL's and MariaDB's). */
export function dumpTools(paths: ProgramPaths): ClientTool[] {
  const tools: ClientTool[] = [];
  for (const key of [DUMP_PROGRAM.mysql, DUMP_PROGRAM.mariadb]) {
    const tool = findProgram(key, paths);
    if (tool) tools.push(tool);
  }
  if (tools.length === 0) {
    throw new UserError(
      'no dump program: neither mariadb-dump nor mysqldump was found',
      `looked for ${lookedFor('mysqldump')}; ${lookedFor('mariadbDump')} (Debian: apt install mariadb-client)`,
      1,
    );
  }
  return tools;
}

/** The command-line client that loads dumps into a server of `flavor`: that engine's own, else the other one. */
export function clientTool(flavor: Flavor, paths: ProgramPaths): ClientTool {
  const tool =
    findProgram(CLIENT_PROGRAM[flavor], paths) ??
    findProgram(CLIENT_PROGRAM[flavor === 'mysql' ? 'mariadb' : 'mysql'], paths);
  if (!tool) {
    throw new UserError(
      `no ${flavorName(flavor)} client program: cannot load a dump`,
      `looked for ${lookedFor(CLIENT_PROGRAM[flavor])} (Debian: apt install mariadb-client)`,
      1,
    );
  }
  return tool;
}

export interface ServerPrograms {
  flavor: Flavor;
  server: string;
  /** MariaDB's installer; MySQL's server initializes its own data directory. */
  installDb?: string;
  version: string;
}

/** The server (and installer) of one engine for scratch servers, or why there is none (what was looked for). */
export function serverPrograms(flavor: Flavor, paths: ProgramPaths): ServerPrograms | { missing: string } {
  const server = findProgram(SERVER_PROGRAM[flavor], paths, { help: false });
  if (!server)
    return { missing: `no ${flavorName(flavor)} server here (looked for ${lookedFor(SERVER_PROGRAM[flavor])})` };
  if (flavor === 'mysql') return { flavor, server: server.path, version: server.version };
  const installDb = findProgram('mariadbInstallDb', paths, { help: false });
  if (!installDb) return { missing: `no MariaDB installer here (looked for ${lookedFor('mariadbInstallDb')})` };
  return { flavor, server: server.path, installDb: installDb.path, version: server.version };
}

function probe(path: string, command: string, help: boolean): ClientTool | undefined {
  const key = `${path}\0${help}`;
  if (probed.has(key)) return probed.get(key);
  const run = (args: string[]) => spawnSync(path, args, { encoding: 'utf8', timeout: 20_000 });
  const version = run(['--version']);
  const parsed = parseToolVersion(`${version.stdout ?? ''}${version.stderr ?? ''}`);
  let tool: ClientTool | undefined;
  if (parsed) {
    const options = help ? parseHelpOptions(run(['--no-defaults', '--help']).stdout ?? '') : new Set<string>();
    tool = { path, command, ...parsed, options };
  }
  probed.set(key, tool);
  return tool;
}

/**
 * Run `body` with a 0600 [client] option file in a private 0700 directory holding the user and password, for
 * --defaults-extra-file, and beside it the TLS files that came as text (a Secret's), 0600 too. The password and keys
 * never appear in argv (ps) or the environment of the child; the directory is removed afterwards, also when the
 * process exits abruptly.
 */
export async function withDefaultsFile<T>(
  opts: Parameters<typeof defaultsFileText>[0],
  body: (file: string) => Promise<T>,
): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'lifeboat-mysql-'));
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  process.on('exit', cleanup);
  try {
    const file = join(dir, 'client.cnf');
    let tls = opts.tls;
    if (tls?.pem) {
      const { pem, ...paths } = tls;
      const written = Object.entries(pem).map(([part, text]) => {
        const path = join(dir, `${part}.pem`);
        writeFileSync(path, text, { mode: 0o600 });
        return [part, path];
      });
      tls = { ...paths, ...Object.fromEntries(written) };
    }
    writeFileSync(file, defaultsFileText({ ...opts, tls }), { mode: 0o600 });
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
