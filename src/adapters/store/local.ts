import { randomBytes } from 'node:crypto';
import {
  type FileHandle,
  link,
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  rmdir,
  stat,
  statfs,
  unlink,
} from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { type Readable, Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { formatBytes } from '../../domain/units.js';
import { errnoCode as errno, errnoText, fileKind } from '../host/input-file.js';
import { isAlive } from '../proc/process.js';
import { checkName, checkPrefix, exitCodeFor, StoreError } from './errors.js';
import type { BackupStore, ObjectInfo, PendingObject, SmallData } from './types.js';

/**
 * `.NAME.tmp-<host>.<pid>-<hex>`: hidden, beside the final file (same filesystem, so rename is atomic), easy to skip,
 * and saying who writes it, so a dead writer's leftovers can be reclaimed. (`.NAME.tmp-<hex>` from older versions.)
 */
const TEMP_PATTERN = /^\..+\.tmp-(?:(.+)\.(\d+)-)?[0-9a-f]{12}$/;
/** A temp file nobody has written to for this long belongs to a dead (or hopelessly stuck) run. */
export const TEMP_IDLE_MS = 3_600_000;

/** Bytes left free beyond expectedSize: a snapshot may grow a little while it streams, and a full disk hurts etcd. */
const SPACE_MARGIN = 16 * 1024 * 1024;

function tempName(file: string): string {
  return join(dirname(file), `.${basename(file)}.tmp-${safeHost()}.${process.pid}-${randomBytes(6).toString('hex')}`);
}

function safeHost(): string {
  return hostname().replace(/[^A-Za-z0-9-]/g, '-') || 'host';
}

/** Whether a temp file's writer is gone: its process on this host has exited, or it has not written for an hour. */
function abandoned(name: string, modifiedAt: number, now: number): boolean {
  const m = TEMP_PATTERN.exec(name);
  if (!m) return false;
  if (now - modifiedAt > TEMP_IDLE_MS) return true;
  return m[1] === safeHost() && m[2] !== undefined && Number(m[2]) !== process.pid && !isAlive(Number(m[2]));
}

/**
 * A backup directory (local disk or an NFS mount). Objects are plain files, so `ls` and `cp` work on backups
 * without Lifeboat. Writes go to a hidden temp file and become visible by rename only after fsync: a crash or a
 * failed verification never leaves a half-written file under a backup's name.
 */
export class LocalStore implements BackupStore {
  readonly location: string;

  constructor(root: string) {
    this.location = resolve(root);
  }

  locate(name: string): string {
    return join(this.location, checkName(this.location, name));
  }

  async create(name: string, opts: { expectedSize?: number } = {}): Promise<PendingObject> {
    const file = this.locate(name);
    await this.mkdirs(dirname(file));
    // Before the free-space check: a killed run's half-written snapshot must not count against this one.
    await this.reclaimLeftovers(name.includes('/') ? name.slice(0, name.lastIndexOf('/') + 1) : '');
    if (opts.expectedSize !== undefined) await this.checkSpace(file, opts.expectedSize);
    const temp = tempName(file);
    const handle = await this.io(file, () => open(temp, 'wx', 0o600));
    return new LocalPending(file, temp, handle);
  }

  async putSmall(name: string, data: SmallData, opts: { exclusive?: boolean } = {}): Promise<void> {
    const file = this.locate(name);
    await this.mkdirs(dirname(file));
    const temp = tempName(file);
    await this.io(file, async () => {
      const handle = await open(temp, 'wx', 0o600);
      try {
        if (typeof data === 'string' || Buffer.isBuffer(data)) await handle.writeFile(data);
        else await writeAll(handle, [...data]);
        await handle.sync();
        await handle.close();
        if (opts.exclusive) {
          await link(temp, file); // fails with EEXIST where rename would replace
          await unlink(temp);
        } else await rename(temp, file);
      } catch (err) {
        await handle.close().catch(() => undefined);
        await unlink(temp).catch(() => undefined);
        throw err;
      }
      await syncDir(dirname(file));
    });
  }

  async read(name: string): Promise<Readable> {
    const file = this.locate(name);
    // Open before returning, so a missing object rejects here instead of surfacing later as a stream error.
    const handle = await this.io(file, () => open(file, 'r'));
    // open() succeeds on a directory on Linux; the read would then fail mid-pipeline with a bare EISDIR.
    if ((await handle.stat()).isDirectory()) {
      await handle.close();
      throw fsError(file, Object.assign(new Error('is a directory'), { code: 'EISDIR' }));
    }
    return handle.createReadStream({ highWaterMark: 1024 * 1024 });
  }

  async readSmall(name: string): Promise<Buffer | undefined> {
    const file = this.locate(name);
    try {
      return await readFile(file);
    } catch (err) {
      if (errno(err) === 'ENOENT') return undefined;
      throw this.fail(file, err);
    }
  }

  async list(prefix = ''): Promise<ObjectInfo[]> {
    checkPrefix(this.location, prefix);
    // A prefix is a string prefix of names (as on S3): walk the directory it lies in, then filter.
    const base = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
    const out: ObjectInfo[] = [];
    await this.walk(base, prefix, out);
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /**
   * Removes temp files of dead runs in the directory `prefix` names (`etcd/`): their writer's process on this host is
   * gone, or nobody wrote to them for an hour (another host's run, on NFS). Returns the names and bytes reclaimed.
   */
  async reclaimLeftovers(prefix = '', now = Date.now()): Promise<{ names: string[]; bytes: number }> {
    checkPrefix(this.location, prefix);
    const rel = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
    const dir = rel ? join(this.location, rel) : this.location;
    const reclaimed = { names: [] as string[], bytes: 0 };
    let entries: import('node:fs').Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return reclaimed; // no such directory yet: nothing left over
    }
    for (const entry of entries) {
      if (!entry.isFile() || !TEMP_PATTERN.test(entry.name)) continue;
      const path = join(dir, entry.name);
      try {
        const st = await stat(path);
        if (!abandoned(entry.name, st.mtimeMs, now)) continue;
        await unlink(path);
        reclaimed.names.push(rel ? `${rel}/${entry.name}` : entry.name);
        reclaimed.bytes += st.size;
      } catch {
        // gone meanwhile (another run reclaimed it): fine
      }
    }
    return reclaimed;
  }

  async delete(name: string): Promise<void> {
    const file = this.locate(name);
    try {
      await unlink(file);
    } catch (err) {
      // Already gone is what delete wants (S3 answers the same); anything else, e.g. a directory, is refused.
      if (errno(err) !== 'ENOENT') throw this.fail(file, err);
    }
    await this.removeEmptyParents(name);
  }

  /**
   * A directory left empty by a delete goes too (a pruned Helm capture is a tree), as on S3 where directories are only
   * name prefixes. Never a top-level one (etcd/, mysql/, helm/): a backup may have just created it to write into.
   */
  private async removeEmptyParents(name: string): Promise<void> {
    for (let rel = dirname(name); rel.includes('/'); rel = dirname(rel)) {
      try {
        await rmdir(join(this.location, rel));
      } catch {
        return; // not empty (or already gone): the directories above are not empty either
      }
    }
  }

  private async walk(rel: string, prefix: string, out: ObjectInfo[]): Promise<void> {
    const dir = rel ? join(this.location, rel) : this.location;
    let entries: import('node:fs').Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      // The store itself below a file (/dev/null/x, a file named as the destination): say so, rather than list
      // nothing as if the store were empty. Below the root, a name that is not a directory holds no backups.
      if (errno(err) === 'ENOTDIR') await this.mkdirs(this.location, { create: false });
      if (errno(err) === 'ENOENT' || errno(err) === 'ENOTDIR') return;
      throw this.fail(dir, err);
    }
    for (const entry of entries) {
      const name = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        // Descend only where names under this directory can still match the prefix.
        if (`${name}/`.startsWith(prefix) || prefix.startsWith(`${name}/`)) await this.walk(name, prefix, out);
      } else if (entry.isFile() && !TEMP_PATTERN.test(entry.name) && name.startsWith(prefix)) {
        try {
          const st = await stat(join(dir, entry.name));
          out.push({ name, size: st.size, modifiedAt: st.mtimeMs });
        } catch (err) {
          // Deleted between readdir and stat (a concurrent prune): not listed, not an error.
          if (errno(err) !== 'ENOENT') throw this.fail(join(dir, entry.name), err);
        }
      }
    }
  }

  /**
   * Directories are created 0700: backup names and sizes are nobody else's business either. One level at a time, not
   * mkdir -p: that reports ENOENT on a read-only filesystem and a bare ENOTDIR under /dev/null or a FIFO; this names
   * the real problem and the path it is about (exit 2: the destination as given cannot work).
   */
  private async mkdirs(dir: string, opts: { create?: boolean } = {}): Promise<void> {
    const missing: string[] = [];
    for (let d = dir; ; d = dirname(d)) {
      let st: import('node:fs').Stats;
      try {
        st = await stat(d);
      } catch (err) {
        // ENOTDIR: something above is not a directory; going up finds what it is.
        if ((errno(err) !== 'ENOENT' && errno(err) !== 'ENOTDIR') || dirname(d) === d) throw this.fail(d, err);
        missing.unshift(d);
        continue;
      }
      if (!st.isDirectory()) {
        throw new StoreError(
          d,
          'ENOTDIR',
          `${fileKind(st)}, not a directory: backups go into a directory`,
          undefined,
          2,
        );
      }
      break;
    }
    if (opts.create === false) return;
    for (const d of missing) {
      try {
        await mkdir(d, { mode: 0o700 });
      } catch (err) {
        if (errno(err) !== 'EEXIST') throw this.fail(d, err); // EEXIST: a concurrent run made it first
      }
    }
  }

  private async checkSpace(file: string, expectedSize: number): Promise<void> {
    const fs = await this.io(dirname(file), () => statfs(dirname(file)));
    const free = fs.bavail * fs.bsize;
    const needed = expectedSize + SPACE_MARGIN;
    if (needed > free) {
      throw new StoreError(
        file,
        'ENOSPC',
        `not enough free space: need ${formatBytes(needed)}, ${formatBytes(free)} free in ${dirname(file)}`,
        'free some space or prune old backups (lifeboat prune)',
      );
    }
  }

  private async io<T>(where: string, op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (err) {
      throw this.fail(where, err);
    }
  }

  private fail(where: string, err: unknown): Error {
    if (err instanceof StoreError) return err;
    return fsError(where, err);
  }
}

/** Written bytes after which a background fdatasync starts (see LocalPending). */
const SYNC_EVERY_BYTES = 32 * 1024 * 1024;

class LocalPending implements PendingObject {
  readonly stream: Writable;
  private state: 'open' | 'committed' | 'aborted' = 'open';
  private unsynced = 0;
  /** The background fdatasync in flight, if any; its failure is kept for commit() to report. */
  private syncing: Promise<void> | undefined;
  private syncError: unknown;

  constructor(
    private readonly file: string,
    private readonly temp: string,
    private readonly handle: FileHandle,
  ) {
    // Our own Writable rather than createWriteStream: the descriptor must stay open for commit()'s fsync, and a
    // failed write should read "<file>: no space left on device", not a bare errno.
    this.stream = new Writable({
      highWaterMark: 1024 * 1024,
      writev: (chunks, callback) => {
        const buffers = chunks.map((c) => c.chunk as Buffer);
        writeAll(handle, buffers).then(
          () => {
            for (const b of buffers) this.unsynced += b.length;
            this.syncInBackground();
            callback();
          },
          (err) => callback(fsError(file, err)),
        );
      },
    });
  }

  async commit(): Promise<void> {
    if (this.state !== 'open') throw new Error(`commit() after ${this.state}: ${this.file}`);
    if (!this.stream.writableFinished || this.stream.errored) {
      throw new Error(`commit() before the stream finished: ${this.file}`);
    }
    try {
      await this.syncing;
      if (this.syncError) throw this.syncError;
      await this.handle.sync();
      await this.handle.close();
      await rename(this.temp, this.file);
      this.state = 'committed';
      // The rename is only durable once the directory entry is: without this a power cut can undo it.
      await syncDir(dirname(this.file));
    } catch (err) {
      if (this.state === 'committed') throw fsError(this.file, err);
      await this.abort();
      throw fsError(this.file, err);
    }
  }

  /**
   * Without this, a 500 MB snapshot sits dirty in the page cache until commit()'s fsync writes it all at once, and
   * the backup waits for the disk at the end. Syncing every 32 MiB while the stream runs overlaps the disk's work
   * with the network's; the final fsync then has only the tail to write. One sync at a time; writes go on meanwhile.
   */
  private syncInBackground(): void {
    if (this.syncing || this.unsynced < SYNC_EVERY_BYTES || this.state !== 'open') return;
    this.unsynced = 0;
    this.syncing = this.handle.datasync().then(
      () => {
        this.syncing = undefined;
      },
      (err: unknown) => {
        this.syncError ??= err;
        this.syncing = undefined;
      },
    );
  }

  async abort(): Promise<void> {
    if (this.state !== 'open') return;
    this.state = 'aborted';
    await this.syncing;
    // destroy() without an error: an 'error' event nobody listens to would crash the process.
    if (!this.stream.destroyed) this.stream.destroy();
    await finished(this.stream).catch(() => undefined);
    await this.handle.close().catch(() => undefined);
    await unlink(this.temp).catch(() => undefined);
  }
}

/** writev may write less than asked (signals, some network filesystems): carry on from where it stopped. */
async function writeAll(handle: FileHandle, buffers: Buffer[]): Promise<void> {
  let pending = buffers;
  while (pending.length > 0) {
    let { bytesWritten } = await handle.writev(pending);
    while (pending.length > 0 && bytesWritten >= pending[0]!.length) {
      bytesWritten -= pending[0]!.length;
      pending = pending.slice(1);
    }
    if (pending.length > 0 && bytesWritten > 0) pending = [pending[0]!.subarray(bytesWritten), ...pending.slice(1)];
  }
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } catch (err) {
    // Some filesystems (certain NFS/FUSE mounts) refuse fsync on directories; the rename itself already happened.
    if (errno(err) !== 'EINVAL' && errno(err) !== 'EBADF' && errno(err) !== 'ENOTSUP') throw err;
  } finally {
    await handle.close();
  }
}

function fsError(where: string, err: unknown): StoreError {
  const code = errno(err) ?? 'EIO';
  const problem = code === 'EISDIR' ? 'is a directory, not a backup object' : errnoText(err);
  return new StoreError(where, code, problem, undefined, exitCodeFor(code));
}

/** For tests and tools: is this file name one of our in-progress temp files? */
export function isTempFile(fileName: string): boolean {
  return TEMP_PATTERN.test(fileName.split(sep).pop() ?? '');
}
