import { type MysqlTls, type TlsGiven, type TlsNames, tlsSettings, URL_TLS_NAMES } from './tls.js';

/**
 * `mysql://USER@HOST[:PORT][/DATABASE][?socket=/path/to/mysqld.sock]` (also `mariadb://`), with TLS as MySQL's
 * clients spell it: `?ssl-mode=VERIFY_IDENTITY&ssl-ca=/etc/mysql/ca.pem&ssl-cert=...&ssl-key=...` (file paths, never
 * key material). Never a password: a URL ends up in shell history, `ps`, CI logs and manifests. Pure.
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
  /** TLS from the URL's ssl-* parameters, a database's `tls:` or a Secret; absent: the clients' default (PREFERRED). */
  tls?: MysqlTls;
}

export type ParsedUrl = { target: MysqlTarget } | { error: string; hint?: string };

const EXAMPLE = 'example: --url mysql://backup@10.0.0.20:3306/shop';

/**
 * `extra.tls`: TLS given beside the URL: a database's `tls:` keys (named by `extra.names`; then the URL must not
 * have ssl-* parameters too) and/or the PEM text of a Secret (fills what no path names).
 */
export function parseMysqlUrl(text: string, extra: { tls?: TlsGiven; names?: TlsNames } = {}): ParsedUrl {
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
    if (!KNOWN.has(key)) {
      return { error: `unknown URL parameter "${key}" (understood: ${[...KNOWN].join(', ')})`, hint: EXAMPLE };
    }
  }
  const tls = combinedTls(url.searchParams, extra);
  if (tls && 'error' in tls) return tls;
  const database = path || undefined;
  const hostPort = `${host.includes(':') ? `[${host}]` : host}${socket ? '' : `:${port}`}`;
  const params = [...url.searchParams.entries()].map(([k, v]) => `${k}=${v}`).join('&');
  const display = `mysql://${encodeURIComponent(user)}@${hostPort}${database ? `/${database}` : ''}${params ? `?${params}` : ''}`;
  return {
    target: {
      user,
      host,
      port,
      ...(database ? { database } : {}),
      ...(socket ? { socket } : {}),
      display,
      ...(tls ? { tls } : {}),
    },
  };
}

const KNOWN = new Set(['socket', 'ssl-mode', 'ssl-ca', 'ssl-cert', 'ssl-key']);

export const TLS_GIVEN_TWICE = 'TLS is given twice: as ssl-* parameters of the URL and under tls: (keep one)';

function combinedTls(
  params: URLSearchParams,
  extra: { tls?: TlsGiven; names?: TlsNames },
): MysqlTls | { error: string } | undefined {
  const inUrl = Object.fromEntries(
    (['mode', 'ca', 'cert', 'key'] as const)
      .map((part) => [part, params.get(URL_TLS_NAMES[part]) ?? undefined])
      .filter(([, value]) => value !== undefined),
  ) as TlsGiven;
  const { pem, ...beside } = extra.tls ?? {};
  const besideGiven = Object.values(beside).some(Boolean);
  if (besideGiven && Object.keys(inUrl).length > 0) {
    return { error: TLS_GIVEN_TWICE };
  }
  return besideGiven
    ? tlsSettings({ ...beside, pem }, extra.names ?? URL_TLS_NAMES)
    : tlsSettings({ ...inUrl, pem }, URL_TLS_NAMES);
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
