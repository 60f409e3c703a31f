/**
 * `mysql://USER@HOST[:PORT][/DATABASE][?socket=/path/to/mysqld.sock]` (also `mariadb://`). Never a password: a URL
 * ends up in shell history, `ps`, CI logs and manifests. Pure.
 */
export interface MysqlTarget {
  user: string;
  host: string;
  port: number;
  database?: string;
  /** Unix socket path; when set, host and port are only labels. */
  socket?: string;
  /** The URL as it may be shown and recorded (no password, ever). */
  display: string;
}

export type ParsedUrl = { target: MysqlTarget } | { error: string; hint?: string };

const EXAMPLE = 'example: --url mysql://backup@10.0.0.20:3306/shop';

export function parseMysqlUrl(text: string): ParsedUrl {
  const trimmed = text.trim();
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    return { error: `not a MySQL URL: "${trimmed}"`, hint: EXAMPLE };
  }
  if (url.protocol !== 'mysql:' && url.protocol !== 'mariadb:') {
    return { error: `not a MySQL URL: "${trimmed}" (scheme ${url.protocol.slice(0, -1)})`, hint: EXAMPLE };
  }
  if (url.password) {
    return {
      error: 'refusing a password in --url (URLs end up in shell history, ps and logs)',
      hint: 'set MYSQL_PWD, or use --password-file FILE or --password-secret NAMESPACE/NAME/KEY',
    };
  }
  const user = decodeURIComponent(url.username);
  if (!user) return { error: `no user in "${trimmed}"`, hint: EXAMPLE };
  const socket = url.searchParams.get('socket') ?? undefined;
  const host = url.hostname.replace(/^\[|\]$/g, '') || (socket ? 'localhost' : '');
  if (!host) return { error: `no host in "${trimmed}"`, hint: EXAMPLE };
  const port = url.port ? Number(url.port) : 3306;
  const path = decodeURIComponent(url.pathname.replace(/^\/+|\/+$/g, ''));
  if (path.includes('/')) return { error: `"${path}" is not a database name`, hint: EXAMPLE };
  for (const key of url.searchParams.keys()) {
    if (key !== 'socket') return { error: `unknown URL parameter "${key}" (only ?socket=PATH is understood)` };
  }
  const database = path || undefined;
  const hostPort = `${host.includes(':') ? `[${host}]` : host}${socket ? '' : `:${port}`}`;
  const display = `mysql://${encodeURIComponent(user)}@${hostPort}${database ? `/${database}` : ''}${socket ? `?socket=${socket}` : ''}`;
  return { target: { user, host, port, ...(database ? { database } : {}), ...(socket ? { socket } : {}), display } };
}

/** `user@host:port` for messages. */
export function describeTarget(t: MysqlTarget): string {
  return t.socket ? `${t.user}@${t.host} (socket ${t.socket})` : `${t.user}@${t.host}:${t.port}`;
}

/** The system schemas a "all databases" backup leaves out (they belong to the server, not to the application). */
export const SYSTEM_DATABASES = new Set(['mysql', 'information_schema', 'performance_schema', 'sys']);

export function userDatabases(all: readonly string[]): string[] {
  return all.filter((d) => !SYSTEM_DATABASES.has(d.toLowerCase())).sort();
}
