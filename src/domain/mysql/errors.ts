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
  'a backup user needs SELECT, SHOW VIEW, TRIGGER, EVENT and (for routines) SHOW ROUTINE or SELECT on mysql.proc';

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
        hint: 'the password comes from MYSQL_PWD, --password-file or --password-secret',
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

/** The dump or client program failed: its stderr (last meaningful line) and exit status, as one line. */
export function explainToolFailure(
  command: string,
  code: number | null,
  signal: string | null,
  stderr: string,
): Explained {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^Warning: /i.test(l) && !/Deprecated program name/i.test(l));
  const last = lines.find((l) => /error|denied|couldn't|unknown|failed/i.test(l)) ?? lines.at(-1);
  const how = signal ? `was killed (${signal})` : `exited ${code}`;
  const detail = last ? `: ${last.replace(/^[\w./-]+:\s*/, '')}` : '';
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

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
