import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import type { MemberView } from '../../domain/lab-plan.js';
import { HANDOVER_MARK, spawnEtcd } from '../proc/etcd-process.js';
import { findProcesses, hasArg } from '../proc/find.js';
import { killProcess, type StopOutcome, stopProcess } from '../proc/process.js';
import { delay } from '../proc/wait.js';
import type { LabMemberState, LabState } from './state.js';

/** One lab member's process: find it, start it detached, stop it, kill it, lose its disk. No policy here. */

/** The exact argument that identifies a member's process: two labs can never share a data dir. */
function dataDirArg(m: LabMemberState): string {
  return `--data-dir=${m.dataDir}`;
}

/** The member's live pid: the recorded one if it still is this member, else whatever process serves its data dir. */
export function runningPid(m: LabMemberState): number | undefined {
  if (m.pid !== null && hasArg(m.pid, dataDirArg(m)) && !hasArg(m.pid, HANDOVER_MARK)) return m.pid;
  return processesOf(m).find((pid) => !hasArg(pid, HANDOVER_MARK));
}

/** A start of the member still waiting for its previous process to exit (spawnEtcd's `after`), if any. */
export function pendingStart(m: LabMemberState): number | undefined {
  return processesOf(m).find((pid) => hasArg(pid, HANDOVER_MARK));
}

function processesOf(m: LabMemberState): number[] {
  return findProcesses((arg) => arg === dataDirArg(m));
}

/** etcd creates DATA/member on first start; without it the member's disk is gone (wiped or never written). */
export function hasData(m: LabMemberState): boolean {
  return existsSync(join(m.dataDir, 'member'));
}

export function memberViews(state: LabState): MemberView[] {
  return state.members.map((m) => ({ name: m.name, running: runningPid(m) !== undefined, hasData: hasData(m) }));
}

/**
 * Start a member detached (it outlives this CLI) and record its pid in `m`. `existing` for every start after the
 * first: the flag is ignored when data is present, and it keeps a member from founding a second cluster otherwise.
 */
export function startMember(state: LabState, m: LabMemberState, clusterState: 'new' | 'existing'): number {
  mkdirSync(m.dataDir, { recursive: true, mode: 0o700 });
  mkdirSync(join(state.dir, 'logs'), { recursive: true });
  // A marker between runs makes the log readable as a story of the drill.
  appendFileSync(m.logFile, `--- lifeboat lab: starting ${m.name} (${clusterState}) at ${new Date().toISOString()}\n`);
  const pid = spawnEtcd(
    {
      name: m.name,
      dataDir: m.dataDir,
      clientUrl: m.clientUrl,
      peerUrl: m.peerUrl,
      initialCluster: state.initialCluster,
      initialClusterState: clusterState,
      initialClusterToken: state.token,
      logFile: m.logFile,
    },
    { detached: true },
  );
  m.pid = pid;
  return pid;
}

/** Clean stop: SIGTERM (etcd hands over leadership), then SIGKILL at the deadline. */
export async function stopMember(m: LabMemberState, graceMs: number): Promise<StopOutcome> {
  const pid = runningPid(m);
  m.pid = null;
  if (pid === undefined) return 'not-running';
  return stopProcess(pid, graceMs, dataDirArg(m));
}

/** SIGKILL: a power cut. etcd gets no chance to hand over leadership or flush anything. */
export async function killMember(m: LabMemberState): Promise<boolean> {
  const pid = runningPid(m);
  m.pid = null;
  if (pid === undefined) return false;
  return killProcess(pid, dataDirArg(m));
}

/** Lose the disk. The caller has made sure the member is not running. */
export function wipeMember(m: LabMemberState): void {
  rmSync(m.dataDir, { recursive: true, force: true });
}

/** Every etcd process serving a data dir under the lab directory, recorded or not (orphans of an interrupted CLI). */
export function strayPids(state: LabState): number[] {
  const prefix = `--data-dir=${state.dir}/`;
  return findProcesses((arg) => arg.startsWith(prefix));
}

export type Health = 'healthy' | 'unhealthy' | 'down';

/**
 * etcd's HTTP /health: {"health":"true"} once the member has a leader and a quorum read succeeds. Without quorum it
 * answers "false", but only after its internal 1 s read timeout, so a shorter wait would mistake it for down;
 * /version (answered without raft) then tells "running but unhealthy" from "not serving at all".
 * Plain HTTP is enough for the lab: no TLS, loopback only.
 */
export async function memberHealth(clientUrl: string, timeoutMs = 2000): Promise<Health> {
  try {
    const res = await fetch(`${clientUrl}/health`, { signal: AbortSignal.timeout(timeoutMs) });
    const body = (await res.json()) as { health?: string };
    return body.health === 'true' ? 'healthy' : 'unhealthy';
  } catch {
    return (await memberServes(clientUrl)) ? 'unhealthy' : 'down';
  }
}

/** True when the member's client port answers HTTP at all (it runs, whatever the state of the cluster). */
export async function memberServes(clientUrl: string, timeoutMs = 500): Promise<boolean> {
  try {
    const res = await fetch(`${clientUrl}/version`, { signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

/** True when the member reports itself raft leader (its /metrics gauge: plain HTTP, no quorum needed). */
export async function isLeader(clientUrl: string, timeoutMs = 1000): Promise<boolean> {
  try {
    const res = await fetch(`${clientUrl}/metrics`, { signal: AbortSignal.timeout(timeoutMs) });
    return /^etcd_server_is_leader 1$/m.test(await res.text());
  } catch {
    return false;
  }
}

/** True when something accepts TCP connections on the URL's port (the member has bound its listener). */
export function portAccepts(url: string, timeoutMs = 500): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** A member's process ended while we waited for it: the last thing it logged says why. */
export class MemberExitedError extends Error {
  constructor(
    readonly member: string,
    readonly logFile: string,
  ) {
    super(`${member} exited while starting: ${lastLogMessage(logFile)} (log: ${logFile})`);
    this.name = 'MemberExitedError';
  }
}

/**
 * Poll until every named member is healthy, or with `listening` until its client port accepts connections: without
 * a quorum a starting member binds its ports but serves nothing (not even /version) until it can publish itself
 * through raft, so that is all there is to wait for. Fails fast when a process dies. Returns the milliseconds taken.
 */
export async function waitForMembers(
  state: LabState,
  names: string[],
  opts: { until: 'healthy' | 'listening'; timeoutMs: number },
): Promise<number> {
  const started = Date.now();
  const members = state.members.filter((m) => names.includes(m.name));
  for (;;) {
    for (const m of members) if (runningPid(m) === undefined) throw new MemberExitedError(m.name, m.logFile);
    const ready = await Promise.all(
      members.map(async (m) =>
        opts.until === 'healthy' ? (await memberHealth(m.clientUrl, 1500)) === 'healthy' : portAccepts(m.clientUrl),
      ),
    );
    if (ready.every(Boolean)) return Date.now() - started;
    if (Date.now() - started > opts.timeoutMs) {
      const waiting = members.filter((_, i) => !ready[i]).map((m) => m.name);
      throw new Error(
        `timed out after ${Math.round(opts.timeoutMs / 1000)}s waiting for ${waiting.join(', ')} to become ${opts.until} (logs in ${join(state.dir, 'logs')})`,
      );
    }
    await delay(100);
  }
}

/**
 * Why a member stopped, from its log: a Go panic line if there is one, else the last error etcd logged (zap JSON:
 * its msg and error fields), else the last line.
 */
export function lastLogMessage(logFile: string): string {
  let lines: string[];
  try {
    lines = readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-200);
  } catch {
    return 'no log written';
  }
  // Only the latest run: the marker startMember writes separates runs.
  const marker = lines.map((line) => line.startsWith('--- lifeboat')).lastIndexOf(true);
  const run = lines.slice(marker + 1);
  const panic = run.find((line) => line.startsWith('panic: '));
  if (panic) return panic.slice(0, 300);
  const entries = run.flatMap((line) => {
    try {
      return [JSON.parse(line) as { level?: string; msg?: string; error?: string }];
    } catch {
      return [];
    }
  });
  const bad = entries.filter((e) => e.level === 'fatal' || e.level === 'panic' || e.level === 'error').at(-1);
  const chosen = bad ?? entries.at(-1);
  if (chosen) return [chosen.msg, chosen.error].filter(Boolean).join(': ');
  // Not JSON: etcd refusing its command line prints a line of plain text, then its usage.
  const plain = run.find((line) => /error|fatal|not defined|invalid|cannot|could not|failed/i.test(line)) ?? run.at(-1);
  return plain?.slice(0, 300) ?? 'nothing logged';
}
