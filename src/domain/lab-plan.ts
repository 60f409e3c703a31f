import { quorumOf } from './quorum.js';
/**
 * The practice lab, as decisions on plain data: which members, on which ports, with which etcd flags; what `up`,
 * `start` and `wipe` should do given what is running. No I/O, no clocks, no randomness (the token and free ports
 * are inputs), so every rule here is unit-tested without starting etcd.
 */

/** Member counts a lab may have: odd, so the lab teaches quorum the way a real control plane has it. */
export const LAB_MEMBER_COUNTS = [3, 5] as const;
export const DEFAULT_LAB_MEMBERS = 3;
export const DEFAULT_LAB_KEYS = 3000;
export const DEFAULT_LAB_DIR = '.lab';
export const LAB_HOST = '127.0.0.1';

export interface LabMemberPlan {
  name: string;
  clientUrl: string;
  peerUrl: string;
  dataDir: string;
  logFile: string;
}

export interface LabPlan {
  dir: string;
  token: string;
  /** `cp1=http://127.0.0.1:P,...`: the --initial-cluster every founding member starts with. */
  initialCluster: string;
  members: LabMemberPlan[];
}

/** cp1..cpN: the lab's members are its control-plane nodes, named like the incident cluster's. */
export function memberNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `cp${i + 1}`);
}

/** With --base-port P: member i gets client port P+2i and peer port P+2i+1. */
export function portsFromBase(base: number, members: number): number[] {
  return Array.from({ length: members * 2 }, (_, i) => base + i);
}

/** A problem with --base-port for this many members, or undefined when the whole range fits. */
export function basePortProblem(base: number, members: number): string | undefined {
  const last = base + members * 2 - 1;
  if (!Number.isInteger(base) || base < 1024) return `--base-port must be an integer >= 1024 (got ${base})`;
  if (last > 65535) return `--base-port ${base} needs ports up to ${last}, past 65535`;
  return undefined;
}

/**
 * Member specs from inputs. `ports` holds client/peer pairs in member order (2 per member). `dir` is absolute; data
 * lives in dir/data/NAME and logs in dir/logs/NAME.log so `down --purge` removes one directory and nothing else.
 */
export function planLab(input: { dir: string; members: number; ports: number[]; token: string }): LabPlan {
  if (input.ports.length < input.members * 2) {
    throw new Error(`planLab: need ${input.members * 2} ports, got ${input.ports.length}`);
  }
  const dir = input.dir.replace(/\/+$/, '');
  const members = memberNames(input.members).map((name, i) => ({
    name,
    clientUrl: `http://${LAB_HOST}:${input.ports[2 * i]}`,
    peerUrl: `http://${LAB_HOST}:${input.ports[2 * i + 1]}`,
    dataDir: `${dir}/data/${name}`,
    logFile: `${dir}/logs/${name}.log`,
  }));
  return {
    dir,
    token: input.token,
    initialCluster: initialClusterOf(members),
    members,
  };
}

export function initialClusterOf(members: Array<{ name: string; peerUrl: string }>): string {
  return members.map((m) => `${m.name}=${m.peerUrl}`).join(',');
}

/**
 * The lifeboat.yaml of a lab, as the object the config schema validates. The lab directory is absolute so the file
 * works from any working directory.
 */
export function labConfigDocument(plan: Pick<LabPlan, 'dir' | 'members'>, clusterName = 'lab') {
  return {
    cluster: { name: clusterName },
    etcd: {
      endpoints: plan.members.map((m) => m.clientUrl),
      executor: 'lab' as const,
      lab: { dir: plan.dir },
    },
    nodes: plan.members.map((m) => ({ name: m.name, roles: ['control-plane' as const, 'etcd' as const] })),
    // So `lifeboat backup etcd`, `verify --latest`, `prune` and `serve` work on the lab as the README shows them.
    backups: {
      to: [`${plan.dir}/backups`],
      etcd: { every: '1h' },
      retention: { keepLast: 24, daily: 7 },
    },
  };
}

/** What the lab knows about one member right now. */
export interface MemberView {
  name: string;
  running: boolean;
  /** The data dir still holds etcd's data (false after `lab wipe`: the disk is gone). */
  hasData: boolean;
}

export type UpDecision =
  | { kind: 'create' }
  | { kind: 'refuse'; running: string[] }
  | { kind: 'restart'; start: string[]; diskGone: string[] };

/**
 * `up` on a directory: create a new lab there, refuse (any member running: two labs on one data dir would corrupt
 * it), or restart a stopped lab with its data. Members whose disk is gone cannot simply restart (see decideStart).
 */
export function decideUp(existing: MemberView[] | undefined): UpDecision {
  if (!existing) return { kind: 'create' };
  const running = existing.filter((m) => m.running).map((m) => m.name);
  if (running.length > 0) return { kind: 'refuse', running };
  return {
    kind: 'restart',
    start: existing.filter((m) => m.hasData).map((m) => m.name),
    diskGone: existing.filter((m) => !m.hasData).map((m) => m.name),
  };
}

export type StartDecision =
  | { kind: 'already-running' }
  | { kind: 'disk-gone' }
  /**
   * `wait: 'healthy'` when the member should find a leader once it is up; `'listening'` when too few members run for a
   * quorum even with this one back, so "healthy" cannot happen until more members start (a drill step, not a bug).
   */
  | { kind: 'start'; wait: 'healthy' | 'listening' };

/**
 * `start M`. An etcd member whose data was wiped must not start with --initial-cluster-state=existing: its peers
 * remember log entries it no longer has and etcd panics (or worse, it rejoins as an empty voter). It has to be
 * removed and re-added as a new member, which is `lifeboat recover`'s job.
 */
export function decideStart(name: string, members: MemberView[]): StartDecision {
  const member = members.find((m) => m.name === name);
  if (!member) throw new Error(`decideStart: unknown member ${name}`);
  if (member.running) return { kind: 'already-running' };
  if (!member.hasData) return { kind: 'disk-gone' };
  return { kind: 'start', wait: canReachQuorum(members, [name]) ? 'healthy' : 'listening' };
}

/** True when the members running plus `starting` form a quorum of the whole lab. */
export function canReachQuorum(members: MemberView[], starting: string[]): boolean {
  const up = members.filter((m) => m.running || starting.includes(m.name)).length;
  return up >= quorumOf(members.length);
}

export type WipeDecision = { kind: 'refuse-running' } | { kind: 'already-wiped' } | { kind: 'wipe' };

/** `wipe M`: only a stopped member's disk can be lost; wiping under a running etcd is not a drill anyone needs. */
export function decideWipe(name: string, members: MemberView[]): WipeDecision {
  const member = members.find((m) => m.name === name);
  if (!member) throw new Error(`decideWipe: unknown member ${name}`);
  if (member.running) return { kind: 'refuse-running' };
  if (!member.hasData) return { kind: 'already-wiped' };
  return { kind: 'wipe' };
}

/** The one-line message for an unknown member name, listing the valid ones. */
export function unknownMemberMessage(name: string, names: string[]): string {
  return `no member "${name}" in this lab (members: ${names.join(', ')})`;
}
