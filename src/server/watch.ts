import { createHash } from 'node:crypto';
import { type FSWatcher, readFileSync, watch } from 'node:fs';
import { basename, dirname } from 'node:path';

/**
 * Calls `onChange` when the config file's content changes. inotify on the directory catches editors that write a new
 * file and rename it over the old one; a slow poll catches what inotify misses (NFS, a Kubernetes ConfigMap whose
 * `..data` symlink is swapped). Changes are debounced and compared by content, so saving twice unchanged is quiet.
 */
export class ConfigWatcher {
  private watcher: FSWatcher | undefined;
  private poll: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private digest: string | undefined;

  constructor(
    private readonly path: string,
    private readonly onChange: () => void,
    private readonly opts: { pollMs?: number; debounceMs?: number } = {},
  ) {}

  start(): void {
    this.digest = this.read();
    try {
      this.watcher = watch(dirname(this.path), (_event, file) => {
        if (file === null || file === basename(this.path) || file.startsWith('..')) this.schedule();
      });
      this.watcher.on('error', () => this.watcher?.close());
    } catch {
      // No inotify here (some network filesystems): the poll alone will do.
    }
    this.poll = setInterval(() => this.schedule(), this.opts.pollMs ?? 2000);
    this.poll.unref();
  }

  private schedule(): void {
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => this.check(), this.opts.debounceMs ?? 200);
    this.debounce.unref();
  }

  private check(): void {
    const now = this.read();
    if (now === this.digest) return;
    this.digest = now;
    this.onChange();
  }

  private read(): string {
    try {
      return createHash('sha256').update(readFileSync(this.path)).digest('hex');
    } catch (err) {
      return `unreadable:${(err as NodeJS.ErrnoException).code ?? 'error'}`;
    }
  }

  stop(): void {
    this.watcher?.close();
    clearInterval(this.poll);
    clearTimeout(this.debounce);
  }
}
