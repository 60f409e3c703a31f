import { readFileSync, rmSync, statSync } from 'node:fs';
import type { HostPort } from '../../domain/maintenance/ports.js';
import { runToEnd } from '../proc/run.js';

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

/** The agent's own machine, as the agent's host port: the sentinel file and command of its settings. */
export class LocalHost implements HostPort {
  constructor(
    private readonly sentinel: string,
    private readonly sentinelCommand?: string,
  ) {}

  async rebootWanted(): Promise<{ sentinel: boolean; sentinelCommand?: boolean }> {
    const sentinel = sentinelMtime(this.sentinel) !== undefined;
    if (!this.sentinelCommand) return { sentinel };
    return { sentinel, sentinelCommand: await commandSucceeds(this.sentinelCommand) };
  }

  clearSentinel(downAt: number): void {
    clearSentinel(this.sentinel, downAt);
  }
}

/** Runs `command` with sh; true when it exits 0 within the deadline (like kured's --reboot-sentinel-command). */
export async function commandSucceeds(command: string, timeoutMs = 30_000): Promise<boolean> {
  return (await runToEnd('sh', ['-c', command], { timeoutMs, stdio: 'ignore' })).code === 0;
}

/** Runs `command` with sh; resolves with its exit code and the tail of its output. */
export async function runCommand(command: string, timeoutMs: number): Promise<{ code: number | null; output: string }> {
  const run = await runToEnd('sh', ['-c', command], { timeoutMs, tailChars: 2000 });
  return { code: run.code, output: run.error ?? run.output.trim() };
}

/** The kernel's id of this boot: it changes exactly when the machine rebooted. */
export function kernelBootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return 'unknown';
  }
}
