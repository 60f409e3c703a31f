import { closeSync, fsyncSync, linkSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * The one way Lifeboat writes a small file it must never leave half-written (lab state, a recovery journal, a new
 * lifeboat.yaml): a temp file in the same directory, fsync, into place, fsync the directory. All or nothing.
 * `replace: false` puts it in place by link, which fails with EEXIST when the file exists, even in a race.
 */
export function writeFileAtomic(path: string, text: string, opts: { mode?: number; replace?: boolean } = {}): void {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  const fd = openSync(temp, 'w', opts.mode ?? 0o644);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    if (opts.replace === false) linkSync(temp, path);
    else renameSync(temp, path);
  } finally {
    rmSync(temp, { force: true }); // after a rename there is nothing left to remove
  }
  const dirFd = openSync(dirname(path), 'r');
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
}
