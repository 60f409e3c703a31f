/**
 * TLS to a MySQL/MariaDB server, as MySQL's clients spell it (ssl-mode, ssl-ca, ssl-cert, ssl-key), from wherever the
 * user gives it: URL parameters, a database's `tls:` in lifeboat.yaml, or a Kubernetes Secret holding the PEM files.
 * One rule turns what was given into the settings both the mysql2 checks and the dump/load programs use. Pure.
 */

/** MySQL's --ssl-mode values. PREFERRED (the stock clients' default) tries TLS and falls back to plain. */
export const SSL_MODES = ['DISABLED', 'PREFERRED', 'REQUIRED', 'VERIFY_CA', 'VERIFY_IDENTITY'] as const;
export type SslMode = (typeof SSL_MODES)[number];

/** PEM text of the files (from a Secret): written to private 0600 files for the stock clients, never argv. */
export interface TlsPem {
  ca?: string;
  cert?: string;
  key?: string;
}

export interface MysqlTls {
  mode: SslMode;
  /** Paths of PEM files. A path wins over the same file in `pem`. */
  ca?: string;
  cert?: string;
  key?: string;
  pem?: TlsPem;
}

/** What the user gave, before the rule: the mode as typed, file paths, the Secret's PEM text. */
export interface TlsGiven {
  mode?: string;
  ca?: string;
  cert?: string;
  key?: string;
  pem?: TlsPem;
}

/** How the settings are named where they were given (URL parameters, or the keys under `tls:`). */
export interface TlsNames {
  mode: string;
  ca: string;
  cert: string;
  key: string;
}

export const URL_TLS_NAMES: TlsNames = { mode: 'ssl-mode', ca: 'ssl-ca', cert: 'ssl-cert', key: 'ssl-key' };
export const CONFIG_TLS_NAMES: TlsNames = { mode: 'tls.mode', ca: 'tls.ca', cert: 'tls.cert', key: 'tls.key' };

/**
 * The keys of a TLS Secret: a `kubernetes.io/tls` Secret's tls.crt/tls.key, plus ca.crt as cert-manager writes it
 * and the MySQL charts (Bitnami's tls.existingSecret) read it.
 */
export const TLS_SECRET_KEYS = { ca: 'ca.crt', cert: 'tls.crt', key: 'tls.key' } as const;

/**
 * The one rule. Without a mode: VERIFY_CA when there is a CA to verify against, else REQUIRED (asking for TLS by
 * giving any TLS setting means TLS, never a silent fallback to plain text). Nothing given: undefined (the clients'
 * default, PREFERRED).
 */
export function tlsSettings(
  given: TlsGiven,
  names: TlsNames = URL_TLS_NAMES,
): MysqlTls | { error: string } | undefined {
  const pem = Object.fromEntries(Object.entries(given.pem ?? {}).filter(([, text]) => text)) as TlsPem;
  const has = (part: keyof TlsPem) => Boolean(given[part] || pem[part]);
  if (!given.mode && !has('ca') && !has('cert') && !has('key')) return undefined;
  const mode = (given.mode?.toUpperCase() ?? (has('ca') ? 'VERIFY_CA' : 'REQUIRED')) as SslMode;
  if (!SSL_MODES.includes(mode)) return { error: `${names.mode}=${given.mode} is not one of ${SSL_MODES.join(', ')}` };
  if (has('cert') !== has('key')) {
    return { error: `give ${names.cert} and ${names.key} together (a client certificate)` };
  }
  if ((mode === 'VERIFY_CA' || mode === 'VERIFY_IDENTITY') && !has('ca')) {
    return { error: `${names.mode}=${mode} needs ${names.ca}=PATH (the CA that signed the server's certificate)` };
  }
  const paths = Object.fromEntries((['ca', 'cert', 'key'] as const).filter((p) => given[p]).map((p) => [p, given[p]]));
  // The Secret's text for what no path names (a path given explicitly wins).
  const fromSecret = Object.fromEntries(Object.entries(pem).filter(([part]) => !given[part as keyof TlsPem]));
  return { mode, ...paths, ...(Object.keys(fromSecret).length ? { pem: fromSecret as TlsPem } : {}) };
}

/**
 * The PEM files in a Secret's data (already base64-decoded), by TLS_SECRET_KEYS. A Secret with none of them is a
 * mistake worth one clear line naming what it does hold.
 */
export function tlsPemFromSecret(
  data: Record<string, string>,
  what: string,
): TlsPem | { error: string; hint?: string } {
  const pem: TlsPem = {};
  for (const [part, key] of Object.entries(TLS_SECRET_KEYS) as [keyof TlsPem, string][]) {
    if (data[key]) pem[part] = data[key];
  }
  if (Object.keys(pem).length === 0) {
    const keys = Object.keys(data);
    return {
      error: `${what} holds none of ${Object.values(TLS_SECRET_KEYS).join(', ')}`,
      ...(keys.length ? { hint: `keys: ${keys.join(', ')}` } : {}),
    };
  }
  return pem;
}
