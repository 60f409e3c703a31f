import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { type LabPlan, labConfigDocument, memberNames, portsFromBase } from '../../domain/lab-plan.js';
import { UserError } from '../../errors.js';
import { parseConfigText } from '../config-file.js';
import { writeFileAtomic } from '../host/atomic-file.js';
import { freePort, portIsFree } from '../proc/ports.js';
import { killProcess, type StopOutcome } from '../proc/process.js';
import { which } from '../proc/which.js';
import {
  type Health,
  hasData,
  isLeader,
  memberHealth,
  runningPid,
  startMember,
  stopMember,
  strayPids,
} from './members.js';
import { LAB_CONFIG_FILE, type LabMemberState, type LabState, labStatePath, writeLabState } from './state.js';

/** Whole-lab steps the `lab` command strings together. Each one does what it says; decisions live in lab-plan. */

/** Ports for a new lab: the given range (every port must be free) or ports the OS says are free right now. */
export async function choosePorts(members: number, basePort: number | undefined): Promise<number[]> {
  if (basePort === undefined) {
    const ports = new Set<number>();
    while (ports.size < members * 2) ports.add(await freePort());
    return [...ports];
  }
  const ports = portsFromBase(basePort, members);
  const names = memberNames(members);
  for (const [i, port] of ports.entries()) {
    if (!(await portIsFree(port))) {
      const role = `${i % 2 === 0 ? 'client' : 'peer'} port of ${names[Math.floor(i / 2)]}`;
      throw new UserError(
        `port ${port} (${role}) is already in use on 127.0.0.1`,
        'pick another --base-port, or leave it out to use free ports',
      );
    }
  }
  return ports;
}

/** The lab runs the etcd on PATH; say so plainly when there is none (exit 1: the machine, not the input). */
export function requireEtcd(): void {
  if (!which('etcd')) {
    throw new UserError('etcd is not installed (no etcd on PATH)', 'install etcd (Debian: apt install etcd-server)', 1);
  }
}

/** A lab the same directory can never confuse with another: its token goes into every member's raft identity. */
export function newToken(): string {
  return `lifeboat-lab-${randomBytes(6).toString('hex')}`;
}

/** Lay out a new lab: directories, lifeboat.yaml, lab.json. Nothing runs yet. */
export function createLabFiles(plan: LabPlan, now: Date): LabState {
  mkdirSync(join(plan.dir, 'data'), { recursive: true, mode: 0o700 });
  mkdirSync(join(plan.dir, 'logs'), { recursive: true });
  const state: LabState = {
    version: 1,
    dir: plan.dir,
    token: plan.token,
    initialCluster: plan.initialCluster,
    config: writeLabConfig(plan),
    createdAt: now.toISOString(),
    members: plan.members.map((m) => ({ ...m, pid: null })),
  };
  writeLabState(state);
  return state;
}

/**
 * D/lifeboat.yaml, checked against the same schema every command loads it with: a lab whose config other commands
 * reject would be a broken practice environment.
 */
export function writeLabConfig(plan: Pick<LabPlan, 'dir' | 'members'>): string {
  const path = join(plan.dir, LAB_CONFIG_FILE);
  const text =
    '# Written by `lifeboat lab up`: a practice etcd cluster on this machine.\n' +
    `# Use it with: lifeboat -c ${path} doctor\n` +
    stringify(labConfigDocument(plan));
  parseConfigText(text, path);
  writeFileAtomic(path, text);
  return path;
}

/** Rewrites lifeboat.yaml only when it is missing: people add reboot schedules to it to practise `check`. */
export function ensureLabConfig(state: LabState): void {
  if (!existsSync(state.config)) writeLabConfig(state);
}

/**
 * Start the named members (detached) and record their pids. Every port must be free first: a member that cannot bind
 * dies at once, and "address already in use" deep in a log is a worse message than this one.
 */
export async function startMembers(state: LabState, names: string[], clusterState: 'new' | 'existing'): Promise<void> {
  requireEtcd();
  const members = state.members.filter((m) => names.includes(m.name));
  for (const m of members) {
    for (const url of [m.clientUrl, m.peerUrl]) {
      if (!(await portIsFree(Number(new URL(url).port)))) {
        throw new UserError(`${m.name} cannot start: ${url} is already in use by another process`);
      }
    }
  }
  try {
    for (const m of members) startMember(state, m, clusterState);
  } finally {
    writeLabState(state);
  }
}

/**
 * Stop every member, followers first (in parallel), then the leader, each with its deadline; then any stray etcd
 * serving a data dir of this lab. Order matters: a leader told to stop hands leadership to a follower, and if that
 * follower is stopping too, the leader waits out elections for seconds before it exits.
 */
export async function stopLab(
  state: LabState,
  graceMs: number,
): Promise<Array<{ name: string; outcome: StopOutcome }>> {
  const leaders = await Promise.all(state.members.map((m) => isLeader(m.clientUrl)));
  const stop = (members: LabMemberState[]) =>
    Promise.all(members.map(async (m) => ({ name: m.name, outcome: await stopMember(m, graceMs) })));
  const outcomes = [
    ...(await stop(state.members.filter((_, i) => !leaders[i]))),
    ...(await stop(state.members.filter((_, i) => leaders[i]))),
  ];
  for (const pid of strayPids(state)) await killProcess(pid);
  writeLabState(state);
  const order = state.members.map((m) => m.name);
  return outcomes.sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name));
}

/** Undo a `up` that never became healthy: a half-born cluster's data would make the next `up` restart it. */
export async function abandonLab(state: LabState): Promise<void> {
  await stopLab(state, 0);
  rmSync(join(state.dir, 'data'), { recursive: true, force: true });
  rmSync(labStatePath(state.dir), { force: true });
}

export interface MemberReport {
  name: string;
  clientUrl: string;
  peerUrl: string;
  pid: number | null;
  running: boolean;
  health: Health;
  /** false once the member's data dir is gone (`lab wipe`). */
  hasData: boolean;
  dataDir: string;
  logFile: string;
}

/** What each member is doing right now: process table, data dir, and /health (all members asked in parallel). */
export async function inspectLab(state: LabState): Promise<MemberReport[]> {
  return Promise.all(
    state.members.map(async (m: LabMemberState): Promise<MemberReport> => {
      const pid = runningPid(m) ?? null;
      return {
        name: m.name,
        clientUrl: m.clientUrl,
        peerUrl: m.peerUrl,
        pid,
        running: pid !== null,
        health: pid === null ? 'down' : await memberHealth(m.clientUrl),
        hasData: hasData(m),
        dataDir: m.dataDir,
        logFile: m.logFile,
      };
    }),
  );
}
