import { readdirSync, readFileSync } from 'node:fs';
import { isAlive } from './process.js';

/**
 * Finding processes by their command line. A recorded pid can go stale (the CLI was interrupted between spawning and
 * writing state, or the pid was reused after a reboot); the exact `--data-dir=...` argument cannot, so the lab uses
 * it as the ground truth for "is this member running". Linux only (/proc); elsewhere nothing is found.
 */

/** argv of `pid`, or undefined when it is gone or unreadable. */
export function processArgs(pid: number): string[] | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (text === '') return undefined; // zombies and kernel threads have an empty cmdline
    return text.replace(/\0$/, '').split('\0');
  } catch {
    return undefined;
  }
}

/** Live (non-zombie) processes having one argument for which `match` is true. */
export function findProcesses(match: (arg: string) => boolean): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const found: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    const args = processArgs(pid);
    if (args?.some(match) && isAlive(pid)) found.push(pid);
  }
  return found;
}

/** True when `pid` is alive and has exactly `arg` among its arguments (guards against pid reuse). */
export function hasArg(pid: number, arg: string): boolean {
  return isAlive(pid) && (processArgs(pid)?.includes(arg) ?? false);
}
