import { closeSync, openSync, readFileSync, readSync, type Stats, statSync } from 'node:fs';
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
 * Reads a file the user named (config, crontab, PEM, password), bounded: a device would block or never end (refused
 * before reading: /dev/zero as a kubeconfig read until the heap ran out), and a file past `maxBytes` is not what was
 * meant (a log or a snapshot given by mistake). `pipes`: a FIFO is read too, up to `maxBytes` (a secret handed over
 * as `--identity <(pass show age)`); otherwise it is refused, as a FIFO nobody writes to would block for ever.
 * Every problem is one UserError: `cannot read <what> <path>: <why>`.
 */
export function readInputFile(
  path: string,
  what: string,
  opts: { maxBytes: number; hint?: string; pipes?: boolean },
): Buffer {
  const fail = (why: string) => new UserError(`cannot read ${what} ${path}: ${why}`, opts.hint);
  let st: Stats;
  try {
    st = statSync(path);
  } catch (err) {
    throw fail(errnoText(err));
  }
  const pipe = opts.pipes === true && st.isFIFO();
  if (!st.isFile() && !pipe) throw fail(`${fileKind(st)}, not a file`);
  const tooBig = (size: number) => fail(`${size} bytes, more than a ${what} ever is (at most ${opts.maxBytes})`);
  if (st.size > opts.maxBytes) throw tooBig(st.size);
  try {
    return pipe ? readBounded(path, opts.maxBytes, tooBig) : readFileSync(path);
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw fail(errnoText(err));
  }
}

/** A stream's bytes up to `max`; one byte more is `tooBig`. */
function readBounded(path: string, max: number, tooBig: (size: number) => Error): Buffer {
  const fd = openSync(path, 'r');
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.alloc(64 * 1024);
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) return Buffer.concat(chunks, total);
      total += n;
      if (total > max) throw tooBig(total);
      chunks.push(chunk.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
}
