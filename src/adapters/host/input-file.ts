import { readFileSync, type Stats, statSync } from 'node:fs';
import { UserError } from '../../errors.js';

/** What an errno means, in the words error lines use ("no such file or directory"). */
const ERRNO_TEXT: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EISDIR: 'a directory, not a file',
  ENOTDIR: 'a path component is not a directory',
  EIO: 'I/O error (failing disk or NFS server?)',
  ESTALE: 'stale NFS file handle (NFS server restarted?)',
  ELOOP: 'too many symbolic links',
  EEXIST: 'already exists',
};

export function errnoCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

/** One errno as words; an error without one as its message. */
export function errnoText(err: unknown): string {
  const code = errnoCode(err);
  if (code) return ERRNO_TEXT[code] ?? code;
  return err instanceof Error ? err.message : String(err);
}

/** What a path that is not a regular file is, for messages: "a FIFO", "a device"... */
export function fileKind(st: Stats): string {
  if (st.isFile()) return 'a regular file';
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * Reads a file the user named (config, crontab, PEM, password), bounded: a FIFO or device would block or never end
 * (refused before reading), and a file past `maxBytes` is not what was meant (a log or a snapshot given by mistake).
 * Every problem is one UserError: `cannot read <what> <path>: <why>`.
 */
export function readInputFile(path: string, what: string, opts: { maxBytes: number; hint?: string }): Buffer {
  const fail = (why: string) => new UserError(`cannot read ${what} ${path}: ${why}`, opts.hint);
  let st: Stats;
  try {
    st = statSync(path);
  } catch (err) {
    throw fail(errnoText(err));
  }
  if (!st.isFile()) throw fail(`${fileKind(st)}, not a file`);
  if (st.size > opts.maxBytes) throw fail(`${st.size} bytes, more than a ${what} ever is (at most ${opts.maxBytes})`);
  try {
    return readFileSync(path);
  } catch (err) {
    throw fail(errnoText(err));
  }
}
