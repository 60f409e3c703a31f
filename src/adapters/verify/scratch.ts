import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../../errors.js';
import { errnoText } from '../host/input-file.js';
import { signal as sendSignal, stopProcess } from '../proc/process.js';

/**
 * Everything a restore drill leaves behind: one temp directory and the processes started in it. `cleanup()` stops
 * each process with a deadline (SIGTERM, then SIGKILL) and removes the directory; it runs in a finally block, and
 * `cleanupNow()` (SIGKILL + remove, synchronous) runs from a process 'exit' handler as the last safety net, so not
 * even an uncaught error or a second Ctrl-C leaves an etcd running.
 */
export class Scratch {
  readonly dir: string;
  private readonly pids = new Set<number>();
  private done = false;
  private readonly onExit = () => this.cleanupNow();

  constructor(baseDir?: string) {
    const parent = baseDir ?? tmpdir();
    try {
      this.dir = mkdtempSync(join(parent, 'lifeboat-verify-'));
    } catch (err) {
      throw new UserError(`cannot make a scratch directory in ${parent}: ${errnoText(err)}`, 'check --scratch-dir');
    }
    process.on('exit', this.onExit);
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  track(pid: number): void {
    this.pids.add(pid);
  }

  untrack(pid: number): void {
    this.pids.delete(pid);
  }

  async cleanup(graceMs = 5000): Promise<void> {
    if (this.done) return;
    await Promise.all([...this.pids].map((pid) => stopProcess(pid, graceMs, this.dir)));
    this.pids.clear(); // stopped and reaped: never signal those pids again (they may be reused)
    this.cleanupNow();
  }

  cleanupNow(): void {
    if (this.done) return;
    this.done = true;
    for (const pid of this.pids) sendSignal(pid, 'SIGKILL');
    this.pids.clear();
    rmSync(this.dir, { recursive: true, force: true });
    process.off('exit', this.onExit);
  }
}
