import { appendFileSync, existsSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { HANDOVER_MARK, type Handover, respawnEtcd, spawnEtcd } from '../proc/etcd-process.js';
import { hasArg, processArgs } from '../proc/find.js';
import { isAlive, signal } from '../proc/process.js';
import { waitFor } from '../proc/wait.js';
import { MemberExitedError, pendingStart, portAccepts, runningPid, stopMember } from './members.js';
import type { LabMemberState, LabState } from './state.js';

/**
 * What `lifeboat recover` needs from the lab beyond `lab start`: start a member with a chosen membership or with
 * --force-new-cluster, see how a running member was started, keep a copy of a data dir. No policy here.
 */

export interface LabStartOptions {
  /** --initial-cluster to start with (default: the lab's founding membership). */
  initialCluster?: string;
  state?: 'new' | 'existing';
  token?: string;
  extraArgs?: string[];
  /** Start once this process (the member's previous one) has exited: see restartLabMember. */
  after?: Handover;
}

export function startLabMember(lab: LabState, m: LabMemberState, opts: LabStartOptions = {}): number {
  mkdirSync(m.dataDir, { recursive: true, mode: 0o700 });
  mkdirSync(join(lab.dir, 'logs'), { recursive: true });
  const how = [opts.state ?? 'existing', ...(opts.extraArgs ?? [])].join(' ');
  const when = opts.after?.pid ? ` once pid ${opts.after.pid} has exited` : '';
  appendFileSync(
    m.logFile,
    `--- lifeboat recover: starting ${m.name} (${how})${when} at ${new Date().toISOString()}\n`,
  );
  m.pid = spawnEtcd(
    {
      name: m.name,
      dataDir: m.dataDir,
      clientUrl: m.clientUrl,
      peerUrl: m.peerUrl,
      initialCluster: opts.initialCluster ?? lab.initialCluster,
      initialClusterState: opts.state ?? 'existing',
      initialClusterToken: opts.token ?? lab.token,
      logFile: m.logFile,
      extraArgs: opts.extraArgs,
    },
    { detached: true, ...(opts.after ? { after: opts.after } : {}) },
  );
  return m.pid;
}

/**
 * Restart a member with new arguments so that the death of this CLI at any moment (SIGKILL, a power cut of the
 * admin's laptop) never leaves it stopped: the new start waits, detached, for the old process to exit and only then is
 * the old one stopped (spawnEtcd's `after`). A start left waiting by a killed run is taken over, not doubled.
 * `copyDataTo`: the data dir is copied there between the two processes (once), as etcd rewrites it on start.
 * Resolves once the new process listens. When it exits instead, the member is started again as it ran before (a
 * failed step leaves as many members running as it found) and the error names the new process's last log line.
 */
export async function restartLabMember(
  lab: LabState,
  m: LabMemberState,
  opts: Omit<LabStartOptions, 'after'> & { copyDataTo?: string },
  graceMs: number,
): Promise<number> {
  const { copyDataTo, ...start } = opts;
  const old = runningPid(m);
  const before = old === undefined ? undefined : processArgs(old);
  const pid =
    pendingStart(m) ?? startLabMember(lab, m, { ...start, after: { pid: old, ...(copyDataTo ? { copyDataTo } : {}) } });
  await stopLabMember(m, graceMs);
  m.pid = pid;
  // The copy between the two processes takes as long as the data dir takes to copy: bounded, but generously.
  const outcome = await waitFor(
    `${m.name}'s new process to listen`,
    async () =>
      !isAlive(pid) ? 'exited' : !hasArg(pid, HANDOVER_MARK) && (await portAccepts(m.clientUrl)) && 'listening',
    { timeoutMs: graceMs + 120_000, intervalMs: 20 },
  );
  if (outcome === 'listening') return pid;
  const failed = new MemberExitedError(m.name, m.logFile);
  if (!before) throw failed;
  appendFileSync(m.logFile, `--- lifeboat recover: starting ${m.name} again as it ran before\n`);
  m.pid = respawnEtcd(before, m.logFile);
  const back = await waitFor(
    `${m.name} to listen again as it ran before`,
    async () => (!isAlive(m.pid!) ? 'exited' : (await portAccepts(m.clientUrl)) && 'listening'),
    { timeoutMs: 60_000, intervalMs: 50 },
  );
  const again = back === 'listening' ? 'started again as it ran before' : 'could not be started again as it ran before';
  throw new Error(`${failed.message}; ${m.name} ${again}`);
}

/** The arguments the member's running process was started with, or undefined when it does not run. */
export function runningArgs(m: LabMemberState): string[] | undefined {
  const pid = runningPid(m);
  return pid === undefined ? undefined : processArgs(pid);
}

/** Stop a member even when it is frozen (SIGSTOP): SIGCONT first, so SIGTERM can be handled. */
export async function stopLabMember(m: LabMemberState, graceMs: number): Promise<void> {
  const pid = runningPid(m);
  if (pid !== undefined) signal(pid, 'SIGCONT');
  await stopMember(m, graceMs);
}

/** DATA.before-recover: a copy of the data dir taken once, before a member's data is rewritten (restartLabMember). */
export function keptCopyPath(m: LabMemberState): string {
  return `${m.dataDir}.before-recover`;
}

/**
 * Moves a member's data dir aside to DATA.lifeboat-old-<epoch> (as the runbooks' lb_move_data_aside does): recovery
 * never deletes etcd data, the user does once the cluster is back. Returns where it went, or undefined when there was
 * nothing to move.
 */
export function moveDataAside(m: LabMemberState, now = Date.now()): string | undefined {
  if (!existsSync(m.dataDir)) return undefined;
  let aside = `${m.dataDir}.lifeboat-old-${Math.floor(now / 1000)}`;
  for (let i = 1; existsSync(aside); i++) aside = `${m.dataDir}.lifeboat-old-${Math.floor(now / 1000)}-${i}`;
  renameSync(m.dataDir, aside);
  return aside;
}

/** Replace a member's data dir with `fresh` (a restored one); the old dir is moved aside, not removed. */
export function swapDataDir(m: LabMemberState, fresh: string): string | undefined {
  const aside = moveDataAside(m);
  renameSync(fresh, m.dataDir);
  return aside;
}
