import { spawn } from 'node:child_process';
import { readFileSync, rmSync, statSync } from 'node:fs';

/** What the agent learns from its own host: the sentinel file, the sentinel command, the boot it runs in. */

/** mtime (epoch ms) of the sentinel file, or undefined when it does not exist. */
export function sentinelMtime(path: string): number | undefined {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

/**
 * Clears the sentinel after a completed maintenance, unless it was written after the node went down (something
 * asked for another reboot since: leave it). A real reboot usually clears /var/run itself (tmpfs).
 */
export function clearSentinel(path: string, downAt: number): boolean {
  const mtime = sentinelMtime(path);
  if (mtime === undefined || mtime > downAt) return false;
  rmSync(path, { force: true });
  return true;
}

/** Runs `command` with sh; true when it exits 0 within the deadline (like kured's --reboot-sentinel-command). */
export function commandSucceeds(command: string, timeoutMs = 30_000): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn('sh', ['-c', command], { stdio: 'ignore' });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', () => {
      clearTimeout(timer);
      resolve(false);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code === 0);
    });
  });
}

/** Runs `command` with sh; resolves with its exit code and the tail of its output. */
export function runCommand(command: string, timeoutMs: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('sh', ['-c', command], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (d: Buffer) => {
      output = (output + d.toString('utf8')).slice(-2000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      resolve({ code: null, output: err.message });
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output: output.trim() });
    });
  });
}

/** The kernel's id of this boot: it changes exactly when the machine rebooted. */
export function kernelBootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return 'unknown';
  }
}
