/**
 * `mysql://USER@HOST[:PORT][/DATABASE][?socket=/path/to/mysqld.sock]` (also `mariadb://`), with TLS as MySQL's
 * clients spell it: `?ssl-mode=VERIFY_IDENTITY&ssl-ca=/etc/mysql/ca.pem&ssl-cert=...&ssl-key=...` (file paths, never
 * key material). Never a password: a URL ends up in shell history, `ps`, CI logs and manifests. Pure.
 */

/** MySQL's --ssl-mode values. PREFERRED (the stock clients' default) tries TLS and falls back to plain. */
export const SSL_MODES = ['DISABLED', 'PREFERRED', 'REQUIRED', 'VERIFY_CA', 'VERIFY_IDENTITY'] as const;
export type SslMode = (typeof SSL_MODES)[number];

export interface MysqlTls {
  mode: SslMode;
  /** Paths of PEM files. */
  ca?: string;
  cert?: string;
  key?: string;
}

export interface MysqlTarget {
  user: string;
  host: string;
  port: number;
  database?: string;
  /** Unix socket path; when set, host and port are only labels. */
  socket?: string;
  /** The URL as it may be shown and recorded (no password, ever). */
  display: string;
  /** TLS from the URL's ssl-* parameters; absent: the clients' default (PREFERRED). */
  tls?: MysqlTls;
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
    if (!KNOWN.has(key)) {
      return { error: `unknown URL parameter "${key}" (understood: ${[...KNOWN].join(', ')})`, hint: EXAMPLE };
    }
  }
  const tls = parseTls(url.searchParams);
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

function parseTls(params: URLSearchParams): MysqlTls | { error: string; hint?: string } | undefined {
  const modeText = params.get('ssl-mode');
  const [ca, cert, key] = ['ssl-ca', 'ssl-cert', 'ssl-key'].map((k) => params.get(k) ?? undefined);
  if (!modeText && !ca && !cert && !key) return undefined;
  const mode = (modeText?.toUpperCase() ?? (ca ? 'VERIFY_CA' : 'REQUIRED')) as SslMode;
  if (!SSL_MODES.includes(mode)) {
    return { error: `ssl-mode=${modeText} is not one of ${SSL_MODES.join(', ')}`, hint: EXAMPLE };
  }
  if (Boolean(cert) !== Boolean(key)) return { error: 'give ssl-cert and ssl-key together (a client certificate)' };
  if ((mode === 'VERIFY_CA' || mode === 'VERIFY_IDENTITY') && !ca) {
    return { error: `ssl-mode=${mode} needs ssl-ca=PATH (the CA that signed the server's certificate)` };
  }
  return { mode, ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) };
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
