/**
 * Which client program dumps or loads which server, with which flags. Pure: the adapters find the programs and ask
 * them for `--version` and `--help`; this file decides.
 */

import type { MysqlTls } from './tls.js';

export type Flavor = 'mariadb' | 'mysql';

export interface ServerInfo {
  flavor: Flavor;
  /** "10.11.19" or "8.0.36". */
  version: string;
  /** What the server said, e.g. "10.11.19-MariaDB-0+deb12u1". */
  raw: string;
}

export interface ClientTool {
  /** Absolute path. */
  path: string;
  /** mariadb-dump, mysqldump, mariadb, mysql. */
  command: string;
  flavor: Flavor;
  version: string;
  /** Long options the program lists in --help (without dashes). */
  options: ReadonlySet<string>;
}

export function serverInfo(versionText: string, versionComment = ''): ServerInfo {
  const flavor: Flavor = /mariadb/i.test(versionText) || /mariadb/i.test(versionComment) ? 'mariadb' : 'mysql';
  // MariaDB 10.x used to say "5.5.5-10.11.19-MariaDB" over the wire; VERSION() says "10.11.19-MariaDB-...".
  const cleaned = versionText.replace(/^5\.5\.5-/, '');
  const version = /^(\d+\.\d+(?:\.\d+)?)/.exec(cleaned)?.[1] ?? cleaned;
  return { flavor, version, raw: versionText };
}

/**
 * `mariadb-dump  Ver 10.19 Distrib 10.11.19-MariaDB, for debian-linux-gnu (x86_64)`,
 * `mysqldump  Ver 8.0.36 for Linux on x86_64 (MySQL Community Server - GPL)`,
 * `mysqldump  Ver 10.13 Distrib 5.7.44, for Linux (x86_64)`.
 */
export function parseToolVersion(text: string): { flavor: Flavor; version: string } | undefined {
  const distrib = /Distrib\s+(\d+\.\d+(?:\.\d+)?)([^,\s]*)/.exec(text);
  if (distrib) return { flavor: /mariadb/i.test(distrib[2]!) ? 'mariadb' : 'mysql', version: distrib[1]! };
  const ver = /\bVer\s+(\d+\.\d+(?:\.\d+)?)(\S*)/.exec(text);
  if (ver) return { flavor: /mariadb/i.test(text) ? 'mariadb' : 'mysql', version: ver[1]! };
  return undefined;
}

/** Long options listed by `--help`. */
export function parseHelpOptions(help: string): Set<string> {
  const options = new Set<string>();
  for (const m of help.matchAll(/^\s+(?:-\w,?\s+)?--([a-z0-9][a-z0-9_-]*)/gim)) options.add(m[1]!.replace(/_/g, '-'));
  return options;
}

/**
 * The programs Lifeboat runs, each configurable (`mysqlTools` in lifeboat.yaml, or the environment variable, which
 * wins). A "program" may be a wrapper script (a MySQL built into another root, a container's client): Lifeboat only
 * runs it with arguments and reads its output. docs/adr/014-mysql-programs.md.
 */
export const PROGRAMS = {
  mysqldump: { env: 'LIFEBOAT_MYSQLDUMP', commands: ['mysqldump'], flavor: 'mysql' },
  mysql: { env: 'LIFEBOAT_MYSQL', commands: ['mysql'], flavor: 'mysql' },
  mysqld: { env: 'LIFEBOAT_MYSQLD', commands: ['mysqld'], flavor: 'mysql' },
  mariadbDump: { env: 'LIFEBOAT_MARIADB_DUMP', commands: ['mariadb-dump', 'mysqldump'], flavor: 'mariadb' },
  mariadb: { env: 'LIFEBOAT_MARIADB', commands: ['mariadb', 'mysql'], flavor: 'mariadb' },
  mariadbd: { env: 'LIFEBOAT_MARIADBD', commands: ['mariadbd', 'mysqld'], flavor: 'mariadb' },
  mariadbInstallDb: {
    env: 'LIFEBOAT_MARIADB_INSTALL_DB',
    commands: ['mariadb-install-db', 'mysql_install_db'],
    flavor: 'mariadb',
  },
} as const satisfies Record<string, { env: string; commands: readonly string[]; flavor: Flavor }>;

export type ProgramKey = keyof typeof PROGRAMS;
/** Configured paths (lifeboat.yaml's `mysqlTools`), by program. */
export type ProgramPaths = Partial<Record<ProgramKey, string>>;

export const DUMP_PROGRAM: Record<Flavor, ProgramKey> = { mysql: 'mysqldump', mariadb: 'mariadbDump' };
export const CLIENT_PROGRAM: Record<Flavor, ProgramKey> = { mysql: 'mysql', mariadb: 'mariadb' };
export const SERVER_PROGRAM: Record<Flavor, ProgramKey> = { mysql: 'mysqld', mariadb: 'mariadbd' };

/** Where a program is looked for, for the one-line error that says it was not found. */
export function lookedFor(key: ProgramKey): string {
  const p = PROGRAMS[key];
  return `$${p.env}, mysqlTools.${key} in the config, ${p.commands.join(' or ')} on PATH`;
}

/**
 * The dump program for this server: its own engine's. MySQL cannot load what mariadb-dump writes for it (generated
 * column values, ERROR 3105; MariaDB-only syntax), so a MySQL server with only mariadb-dump is refused unless the
 * user forces it (`allowOther`); the restore drill then decides, in a MySQL scratch server. A MariaDB server dumped by
 * MySQL's mysqldump is allowed with a warning (MariaDB loads it; the drill proves it).
 */
export function chooseTool(
  server: ServerInfo,
  tools: readonly ClientTool[],
  opts: { allowOther?: boolean } = {},
): { tool: ClientTool; warnings: string[] } | { refused: string; hint: string } | undefined {
  const same = tools.find((t) => t.flavor === server.flavor);
  if (same) {
    const warnings: string[] = [];
    if (major(same.version) < major(server.version) && server.flavor === 'mysql') {
      warnings.push(
        `${same.command} ${same.version} is older than the server (MySQL ${server.version}); a client of the server's version is the faithful choice`,
      );
    }
    return { tool: same, warnings };
  }
  const other = tools[0];
  if (!other) return undefined;
  const vendor = server.flavor === 'mysql' ? "MySQL's mysqldump" : 'mariadb-dump';
  if (server.flavor === 'mysql' && !opts.allowOther) {
    return {
      refused: `refusing to dump MySQL ${server.version} with ${other.command} (${flavorName(other.flavor)} ${other.version}): MySQL cannot load what it writes (generated columns, collations)`,
      hint: `install MySQL's mysqldump (any mysql-client of version ${major(server.version)}.x) and name it with $LIFEBOAT_MYSQLDUMP or mysqlTools.mysqldump if it is not on PATH; --allow-other-dump-tool dumps anyway`,
    };
  }
  return {
    tool: other,
    warnings: [
      `the server is ${flavorName(server.flavor)} ${server.version} but only ${other.command} (${flavorName(other.flavor)} ${other.version}) is installed; ${vendor} would be the faithful choice`,
    ],
  };
}

/** "9.7.4" -> 9, "10.11.19" -> 10. */
export function major(version: string): number {
  return Number.parseInt(version, 10) || 0;
}

export function flavorName(flavor: Flavor): string {
  return flavor === 'mariadb' ? 'MariaDB' : 'MySQL';
}

export interface Connection {
  /** --defaults-extra-file: user and password (and host/port/socket) live there, never in argv. */
  defaultsFile: string;
  socket?: string;
}

/**
 * Arguments of the dump. --single-transaction gives one consistent InnoDB snapshot without locking; --quick streams
 * rows instead of buffering tables; routines, triggers and events make the dump a whole database; --hex-blob keeps
 * binary columns byte-exact. Options only some versions know are passed only when `--help` lists them:
 * --column-statistics=0 (MySQL 8's mysqldump would query a table MariaDB and MySQL 5.7 lack), --no-tablespaces
 * (otherwise MySQL >= 8.0.21 wants the PROCESS privilege), --set-gtid-purged=OFF (a restore must not rewrite the
 * target's GTID state).
 */
export function dumpArgs(tool: ClientTool, conn: Connection, databases: readonly string[]): string[] {
  const args = [
    `--defaults-extra-file=${conn.defaultsFile}`,
    conn.socket ? '--protocol=SOCKET' : '--protocol=TCP',
    '--single-transaction',
    '--quick',
    '--routines',
    '--triggers',
    '--events',
    '--hex-blob',
    '--default-character-set=utf8mb4',
    '--max-allowed-packet=1G',
  ];
  if (tool.options.has('column-statistics')) args.push('--column-statistics=0');
  if (tool.options.has('no-tablespaces')) args.push('--no-tablespaces');
  if (tool.options.has('set-gtid-purged')) args.push('--set-gtid-purged=OFF');
  args.push('--databases', ...databases);
  return args;
}

/** Arguments of the command-line client that loads a dump. --binary-mode: the dump is data, not client commands. */
export function loadArgs(tool: ClientTool, conn: Connection): string[] {
  const args = [
    `--defaults-extra-file=${conn.defaultsFile}`,
    conn.socket ? '--protocol=SOCKET' : '--protocol=TCP',
    '--default-character-set=utf8mb4',
    '--max-allowed-packet=1G',
  ];
  if (tool.options.has('binary-mode')) args.push('--binary-mode');
  return args;
}

/**
 * A [client] option file. Values are quoted so a password with #, spaces or quotes survives. TLS goes here too (never
 * argv), in the spelling of the client's engine: MySQL's clients know ssl-mode; MariaDB's know ssl and
 * ssl-verify-server-cert, and refuse ssl-mode.
 */
export function defaultsFileText(opts: {
  user: string;
  password?: string;
  host?: string;
  port?: number;
  socket?: string;
  tls?: MysqlTls;
  flavor?: Flavor;
}): string {
  const lines = ['[client]', `user=${quoteOption(opts.user)}`];
  if (opts.password !== undefined) lines.push(`password=${quoteOption(opts.password)}`);
  const tls = opts.tls;
  if (tls) {
    if (opts.flavor === 'mariadb') {
      if (tls.mode === 'DISABLED') lines.push('skip-ssl');
      else if (tls.mode !== 'PREFERRED') lines.push('ssl');
      if (tls.mode === 'VERIFY_CA' || tls.mode === 'VERIFY_IDENTITY') lines.push('ssl-verify-server-cert');
    } else lines.push(`ssl-mode=${tls.mode}`);
    if (tls.ca) lines.push(`ssl-ca=${quoteOption(tls.ca)}`);
    if (tls.cert) lines.push(`ssl-cert=${quoteOption(tls.cert)}`);
    if (tls.key) lines.push(`ssl-key=${quoteOption(tls.key)}`);
  }
  if (opts.socket) lines.push(`socket=${quoteOption(opts.socket)}`);
  else {
    if (opts.host) lines.push(`host=${quoteOption(opts.host)}`);
    if (opts.port) lines.push(`port=${opts.port}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Option-file quoting: double quotes, with backslash escapes for \ and " (and newlines, which cannot appear raw). */
export function quoteOption(value: string): string {
  const escaped = value
    .replace(/\\/g, '\\\\')
    .replace(/"/g, '\\"')
    .replace(/\n/g, '\\n')
    .replace(/\r/g, '\\r')
    .replace(/\t/g, '\\t');
  return `"${escaped}"`;
}

/** --single-transaction freezes InnoDB tables only; others may change while the dump reads them. */
export function consistencyWarnings(nonTransactional: readonly string[]): string[] {
  if (nonTransactional.length === 0) return [];
  const shown = nonTransactional.slice(0, 5).join(', ');
  const more = nonTransactional.length > 5 ? ` and ${nonTransactional.length - 5} more` : '';
  return [
    `not transactional, so not part of the consistent snapshot: ${shown}${more} (convert them to InnoDB, or back up while nothing writes to them)`,
  ];
}

/**
 * Source vs scratch server of a restore drill. A different vendor or major.minor version is worth a warning: the
 * dump may still load (that is what the drill finds out), but the incident's second wall was exactly this.
 */
export function versionWarning(source: ServerInfo | undefined, scratch: ServerInfo): string | undefined {
  if (!source) return undefined;
  const mm = (v: string) => v.split('.').slice(0, 2).join('.');
  if (source.flavor !== scratch.flavor || mm(source.version) !== mm(scratch.version)) {
    return `version mismatch: the dump comes from ${flavorName(source.flavor)} ${source.version}, the scratch server is ${flavorName(scratch.flavor)} ${scratch.version}; restore into the same version when you can`;
  }
  return undefined;
}

/**
 * Whether a scratch server can prove a dump of `source`: a restore drill counts only in the same engine and major
 * version (MySQL 8 and 9 differ in what they accept; MariaDB and MySQL even more). The reason when it cannot.
 */
export function scratchMismatch(source: ServerInfo, scratch: { flavor: Flavor; version: string }): string | undefined {
  if (source.flavor !== scratch.flavor || major(source.version) !== major(scratch.version)) {
    return `the dump comes from ${flavorName(source.flavor)} ${source.version} and the scratch server here is ${flavorName(scratch.flavor)} ${scratch.version}: a drill proves a restore only in the same engine and major version`;
  }
  return undefined;
}
