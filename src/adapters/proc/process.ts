import { readFileSync } from 'node:fs';
import { delay } from './wait.js';

/** True when `pid` is alive (and, if `nameHint` is given, its command line mentions it: guards pid reuse). */
export function isAlive(pid: number, nameHint?: string): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM means it exists but belongs to someone else.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (isZombie(pid)) return false;
  if (!nameHint) return true;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(nameHint);
  } catch {
    return true; // no /proc (not Linux): trust kill(0)
  }
}

function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 3 (after the parenthesised command) is the state; Z = zombie, X = dead.
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state === 'Z' || state === 'X';
  } catch {
    return false;
  }
}

export type StopOutcome = 'not-running' | 'exited' | 'killed';

/**
 * Stop with a deadline: SIGTERM, wait up to `graceMs`, then SIGKILL. An etcd member whose peers are gone can spend
 * many seconds trying to transfer leadership after SIGTERM, so a deadline is mandatory.
 */
export async function stopProcess(pid: number, graceMs = 5000, nameHint?: string): Promise<StopOutcome> {
  if (!isAlive(pid, nameHint)) return 'not-running';
  signal(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return 'exited';
    await delay(50);
  }
  signal(pid, 'SIGKILL');
  const killDeadline = Date.now() + 5000;
  while (isAlive(pid) && Date.now() < killDeadline) await delay(20);
  return 'killed';
}

/** SIGKILL and wait until the process is gone: a power cut. */
export async function killProcess(pid: number, nameHint?: string): Promise<boolean> {
  if (!isAlive(pid, nameHint)) return false;
  signal(pid, 'SIGKILL');
  const deadline = Date.now() + 5000;
  while (isAlive(pid) && Date.now() < deadline) await delay(20);
  return true;
}

export function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}
