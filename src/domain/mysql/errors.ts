import { oneLine } from '../text.js';
/**
 * Database errors in one line the operator can act on, with the exit code docs/ARCHITECTURE.md asks for: 2 when the input is
 * wrong (credentials, a database that does not exist, a host name that does not resolve, missing privileges), 1 when
 * the world failed at run time (nothing answers, the connection dropped, the dump died). Pure.
 */
export interface Explained {
  message: string;
  hint?: string;
  exitCode: 1 | 2;
}

const PRIVILEGES_HINT =
  'a backup user needs SELECT, SHOW VIEW, TRIGGER, EVENT and, for routines, SHOW_ROUTINE (MySQL 8+) or SELECT on mysql.proc (MariaDB)';

/** A mysql2 error (`code`, `errno`, message) from connecting or querying `where` ("backup@db:3306"). */
export function explainMysqlError(
  err: { code?: string; errno?: number; message?: string; sqlMessage?: string },
  where: string,
  database?: string,
): Explained {
  const text = oneLine(err.sqlMessage ?? err.message ?? String(err.code ?? 'unknown error'));
  switch (err.code) {
    case 'ER_ACCESS_DENIED_ERROR':
    case 'ER_ACCESS_DENIED_NO_PASSWORD_ERROR':
      return {
        message: `access denied for ${where}: wrong user or password`,
        hint: 'check the password (MYSQL_PWD, --password-file, --password-secret); the same answer comes when the account requires a client certificate (REQUIRE X509: ssl-cert/ssl-key, tls: or --tls-secret) or, from MariaDB, when the server accepts only TLS (add ?ssl-mode=REQUIRED)',
        exitCode: 2,
      };
    case 'ER_DBACCESS_DENIED_ERROR':
      return { message: `${where}: ${text}`, hint: PRIVILEGES_HINT, exitCode: 2 };
    case 'ER_BAD_DB_ERROR':
      return {
        message: `unknown database "${database ?? '?'}" on ${where}`,
        hint: 'SHOW DATABASES lists them',
        exitCode: 2,
      };
    case 'ER_SECURE_TRANSPORT_REQUIRED':
      return {
        message: `${where} accepts only TLS connections (require_secure_transport=ON)`,
        hint: 'add ?ssl-mode=REQUIRED to the URL, or ssl-mode=VERIFY_CA&ssl-ca=PATH to check its certificate too',
        exitCode: 2,
      };
    case 'HANDSHAKE_SSL_ERROR':
      return tlsFailure(text, where);
    case 'HANDSHAKE_NO_SSL_SUPPORT':
      return {
        message: `${where} offers no TLS, but TLS was asked for`,
        hint: 'enable TLS on the server, or drop the TLS settings (ssl-mode=DISABLED)',
        exitCode: 2,
      };
    case 'ER_HOST_NOT_PRIVILEGED':
    case 'ER_HOST_IS_BLOCKED':
      return { message: `${where}: ${text}`, exitCode: 2 };
    case 'ENOTFOUND':
      return { message: `cannot resolve the host of ${where}: no such name`, hint: 'check --url', exitCode: 2 };
    case 'ECONNREFUSED':
      return { message: `cannot connect to ${where}: connection refused (is the server running?)`, exitCode: 1 };
    case 'ENOENT':
      return { message: `cannot connect to ${where}: no socket there (is the server running?)`, exitCode: 1 };
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EAI_AGAIN':
      return { message: `cannot connect to ${where}: ${codeWords(err.code)}`, exitCode: 1 };
    case 'ECONNRESET':
    case 'PROTOCOL_CONNECTION_LOST':
      return { message: `${where}: the connection was lost (${text})`, exitCode: 1 };
    default:
      if (/access denied|command denied/i.test(text))
        return { message: `${where}: ${text}`, hint: PRIVILEGES_HINT, exitCode: 2 };
      return { message: `${where}: ${text}`, exitCode: 1 };
  }
}

/** mysql2 reports every failed TLS handshake as HANDSHAKE_SSL_ERROR, with Node's message: name the cause from it. */
function tlsFailure(text: string, where: string): Explained {
  if (/altnames|not in the cert's list|is not cert's CN/i.test(text)) {
    return {
      message: `the TLS certificate of ${where} is not for that host (${text})`,
      hint: 'connect by a name or address the certificate holds, or use ssl-mode=VERIFY_CA (checks the CA only)',
      exitCode: 2,
    };
  }
  if (/self[- ]signed|unable to (get|verify)|signature failure/i.test(text)) {
    return {
      message: `the TLS certificate of ${where} is not signed by the CA given (${text})`,
      hint: "ssl-ca, tls.ca or the Secret's ca.crt must be the CA that signed the server's certificate",
      exitCode: 2,
    };
  }
  return { message: `TLS with ${where} failed: ${text}`, exitCode: 2 };
}

/**
 * A child's stderr as kept for its error message: the first and the last `limit` characters. The real error can come
 * after megabytes of noise (a client echoing the INSERT it choked on), and a first-64-KiB buffer loses it.
 */
export class StderrKeeper {
  private head = '';
  private tail = '';
  private dropped = false;

  constructor(private readonly limit = 16_384) {}

  push(text: string): void {
    if (this.head.length < this.limit) {
      const room = this.limit - this.head.length;
      this.head += text.slice(0, room);
      text = text.slice(room);
    }
    if (!text) return;
    const joined = this.tail + text;
    if (joined.length > this.limit) this.dropped = true;
    this.tail = joined.slice(-this.limit);
  }

  text(): string {
    return this.dropped ? `${this.head}\n[...]\n${this.tail}` : this.head + this.tail;
  }
}

/**
 * Lines a client prints that are never the failure: warnings, deprecations, and MySQL 9's mysqldump line for a user
 * who may not read performance_schema.column_masking_policy (every backup user without global SELECT):
 * `mysqldump: Error: 'SELECT command denied to user ... for table 'column_masking_policy'' when trying to dump masking
 * policies` -- printed, and the dump goes on and exits 0 (test/integration/mysql-engines.test.ts runs into it).
 */
const HARMLESS = [
  /^Warning\b/i,
  /\[Warning\]/i,
  /Deprecated program name/i,
  /when trying to dump masking pol/i,
  /^\[\.\.\.\]$/,
];
export function harmlessLine(line: string): boolean {
  return HARMLESS.some((h) => h.test(line.trim()));
}

/**
 * The server's own error: `ERROR 3105 (HY000) at line 45: ...`, `mysqldump: Got error: 1045: ...`,
 * `mysqldump: Couldn't execute 'SHOW FIELDS FROM ...': View ... lack rights to use them (1356)`.
 */
const SERVER_ERROR = /\bERROR \d{3,5} \(|Got error: \d{3,5}\b|\berror:? \d{4,5}\b|\(\d{4,5}\)$/i;

/** The dump or client program failed: the line with the server's error code (else the last meaningful one). */
export function explainToolFailure(
  command: string,
  code: number | null,
  signal: string | null,
  stderr: string,
): Explained {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !harmlessLine(l));
  const last =
    lines.find((l) => SERVER_ERROR.test(l)) ??
    lines.find((l) => /error|denied|couldn't|unknown|failed/i.test(l)) ??
    lines.at(-1);
  const how = signal ? `was killed (${signal})` : `exited ${code}`;
  const line = last?.replace(/^[\w./-]+:\s*/, '');
  const detail = line ? `: ${line.length > 400 ? `${line.slice(0, 400)}...` : line}` : '';
  const denied = /access denied|command denied|privilege/i.test(last ?? '');
  return {
    message: `${command} ${how}${detail}`,
    ...(denied ? { hint: PRIVILEGES_HINT } : {}),
    exitCode: denied ? 2 : 1,
  };
}

function codeWords(code: string): string {
  const words: Record<string, string> = {
    ETIMEDOUT: 'timed out (firewall, wrong port, or host down?)',
    EHOSTUNREACH: 'no route to host',
    ENETUNREACH: 'network unreachable',
    EAI_AGAIN: 'temporary DNS failure',
  };
  return words[code] ?? code;
}
