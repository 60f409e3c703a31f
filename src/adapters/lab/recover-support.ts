import { appendFileSync, cpSync, existsSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { spawnEtcd } from '../proc/etcd-process.js';
import { processArgs } from '../proc/find.js';
import { signal } from '../proc/process.js';
import { runningPid, stopMember } from './members.js';
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
}

export function startLabMember(lab: LabState, m: LabMemberState, opts: LabStartOptions = {}): number {
  mkdirSync(m.dataDir, { recursive: true, mode: 0o700 });
  mkdirSync(join(lab.dir, 'logs'), { recursive: true });
  const how = [opts.state ?? 'existing', ...(opts.extraArgs ?? [])].join(' ');
  appendFileSync(m.logFile, `--- lifeboat recover: starting ${m.name} (${how}) at ${new Date().toISOString()}\n`);
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
    { detached: true },
  );
  return m.pid;
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

/** DATA.before-recover: a copy of the data dir taken once, before a member's data is rewritten. */
export function keepCopy(m: LabMemberState): string {
  const copy = `${m.dataDir}.before-recover`;
  if (!existsSync(copy) && existsSync(m.dataDir)) {
    cpSync(m.dataDir, `${copy}.partial`, { recursive: true });
    renameSync(`${copy}.partial`, copy);
  }
  return copy;
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
