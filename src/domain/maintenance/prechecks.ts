import { diagnose, type MemberView } from '../diagnosis.js';
import { formatDuration } from '../duration.js';
import type { EndpointProbe } from '../probe.js';
import { quorumOf } from '../quorum.js';
import type { WindowSpec } from '../schedule/window.js';
import { insideWindow, windowText } from './policy.js';
import type { PauseRecord } from './records.js';

/**
 * May this node go down now? A pure decision on probe data: every refusal carries a code (counted in metrics) and a
 * sentence a person can act on. The agent asks before taking the lock (cheap filter) and again while holding it
 * (the answer that counts), and the lock only serialises: it is these checks that keep quorum.
 */

export type RefusalCode =
  | 'paused'
  | 'outside-window'
  | 'cluster-unreachable'
  | 'member-not-found'
  | 'member-list-mismatch'
  | 'member-unstarted'
  | 'member-down'
  | 'read-failing'
  | 'no-leader'
  | 'alarm'
  | 'raft-lag'
  | 'margin'
  | 'backup-unknown'
  | 'backup-missing'
  | 'backup-stale'
  /** Raised by the drain (domain/maintenance/drain-port.ts), not by the pre-checks. */
  | 'drain-refused';

export interface Refusal {
  code: RefusalCode;
  message: string;
  members?: string[];
}

export interface MaintenancePolicy {
  maxRaftLag: number;
  /** A verified backup must be at most this old (by creation time); undefined: not required. */
  requireVerifiedBackupWithinMs?: number;
  /** What a missing or stale backup does: refuse, or only warn. */
  onStaleBackup: 'block' | 'warn';
}

/** What the backup store says; `error` when it could not be read. */
export interface BackupFreshness {
  location?: string;
  newestVerifiedAt?: number;
  error?: string;
}

export interface LeaderMove {
  fromId: string;
  fromName: string;
  fromEndpoint: string;
  toId: string;
  toName: string;
}

export interface PrecheckResult {
  ok: boolean;
  refusals: Refusal[];
  warnings: Refusal[];
  /** This member leads: move leadership here first. */
  leaderMove?: LeaderMove;
  memberId?: string;
}

/** Checks needing no cluster data: a pause, the node's window. */
export function localRefusals(input: {
  now: number;
  paused?: PauseRecord;
  window?: WindowSpec;
  ignoreWindow?: boolean;
}): Refusal[] {
  const refusals: Refusal[] = [];
  if (input.paused) {
    const why = input.paused.reason ? `: ${input.paused.reason}` : '';
    refusals.push({
      code: 'paused',
      message: `maintenance is paused by ${input.paused.by} since ${input.paused.at}${why} (lifeboat maintain resume)`,
    });
  }
  if (input.window && !input.ignoreWindow && !insideWindow(input.window, input.now)) {
    refusals.push({ code: 'outside-window', message: `outside this node's maintenance ${windowText(input.window)}` });
  }
  return refusals;
}

/** Everything etcd must show before `member` may go down. */
export function etcdRefusals(input: { member: string; probes: EndpointProbe[]; policy: MaintenancePolicy }): {
  refusals: Refusal[];
  leaderMove?: LeaderMove;
  memberId?: string;
} {
  const d = diagnose(input.probes, { maxRaftLag: input.policy.maxRaftLag });
  const refusals: Refusal[] = [];
  const add = (code: RefusalCode, message: string, members?: string[]) =>
    refusals.push(members ? { code, message, members } : { code, message });
  if (d.state === 'unreachable') {
    add('cluster-unreachable', 'no etcd endpoint answers, so nothing may go down (and no lock can be taken)');
    return { refusals };
  }
  const me = d.members.find((m) => m.name === input.member);
  if (!me) {
    const names = d.members.map((m) => m.name).join(', ');
    add('member-not-found', `no etcd member named ${input.member} (members: ${names}); set etcdMember for this node`);
  }
  if (d.findings.some((f) => f.code === 'member-list-mismatch')) {
    add('member-list-mismatch', 'members disagree on the member list: a membership change is under way');
  }
  const unstarted = new Set(
    input.probes
      .flatMap((p) => p.members ?? [])
      .filter((m) => !m.name && !m.isLearner)
      .map((m) => m.id),
  );
  const voting = d.members.filter((m) => !m.learner);
  for (const v of voting) {
    if (unstarted.has(v.id)) add('member-unstarted', `voting member ${v.name} was added but never started`, [v.name]);
    else if (!v.reachable) add('member-down', `member ${v.name} does not answer (${v.error ?? 'no answer'})`, [v.name]);
    else if (!readsLinearizably(v, input.probes)) {
      add('read-failing', `member ${v.name} answers but cannot serve a linearizable read`, [v.name]);
    }
  }
  const leader = d.members.find((m) => m.leader);
  if (!leader) add('no-leader', 'no member reports a leader: an election is under way or failing');
  const alarms = [...new Set(input.probes.flatMap((p) => p.alarms ?? []).filter((a) => a.alarm !== 'NONE'))];
  if (alarms.length) {
    const text = [...new Set(alarms.map((a) => `${a.alarm} on ${nameOf(d.members, a.memberId)}`))].join(', ');
    add('alarm', `etcd has active alarms (${text}); clear them first`);
  }
  refusals.push(...lagRefusals(d.members, leader, input.policy.maxRaftLag));
  if (me && !me.learner) {
    const after = d.reachableVoting - (me.reachable ? 1 : 0) - quorumOf(voting.length);
    if (after < 0) {
      add(
        'margin',
        `taking ${me.name} down would leave ${d.reachableVoting - 1} of ${voting.length} voting members, ` +
          `below the quorum of ${quorumOf(voting.length)}`,
      );
    }
  }
  const leaderMove = me?.leader ? chooseTransferee(me, voting) : undefined;
  return { refusals, ...(leaderMove ? { leaderMove } : {}), ...(me ? { memberId: me.id } : {}) };
}

function readsLinearizably(v: MemberView, probes: EndpointProbe[]): boolean {
  const probe = probes.find((p) => p.status?.memberId === v.id && !p.error);
  return probe?.linearizableRead === true;
}

function nameOf(members: MemberView[], id: string): string {
  return members.find((m) => m.id === id)?.name ?? id;
}

function lagRefusals(members: MemberView[], leader: MemberView | undefined, maxLag: number): Refusal[] {
  const out: Refusal[] = [];
  for (const v of members) {
    if (!v.reachable || v.raftIndex === null) continue;
    const behind = leader?.raftIndex != null ? leader.raftIndex - v.raftIndex : 0;
    const unapplied = v.raftAppliedIndex === null ? 0 : v.raftIndex - v.raftAppliedIndex;
    if (behind > maxLag) {
      out.push({
        code: 'raft-lag',
        members: [v.name],
        message: `${v.name} is ${behind} raft entries behind the leader ${leader!.name} (max ${maxLag})`,
      });
    } else if (unapplied > maxLag) {
      out.push({
        code: 'raft-lag',
        members: [v.name],
        message: `${v.name} has ${unapplied} committed raft entries not yet applied (max ${maxLag})`,
      });
    }
  }
  return out;
}

/** The follower to hand leadership to: the reachable voter with the highest raft index (then by name). */
function chooseTransferee(me: MemberView, voting: MemberView[]): LeaderMove | undefined {
  const best = voting
    .filter((v) => v.id !== me.id && v.reachable)
    .sort((a, b) => (b.raftIndex ?? -1) - (a.raftIndex ?? -1) || a.name.localeCompare(b.name))[0];
  return best && { fromId: me.id, fromName: me.name, fromEndpoint: me.endpoint, toId: best.id, toName: best.name };
}

/** The `requireVerifiedBackupWithin` check. */
export function backupRefusal(
  policy: MaintenancePolicy,
  backup: BackupFreshness | undefined,
  now: number,
): Refusal | undefined {
  const within = policy.requireVerifiedBackupWithinMs;
  if (within === undefined) return undefined;
  const where = backup?.location ? ` in ${backup.location}` : '';
  if (!backup || backup.error) {
    return refusal('backup-unknown', `cannot tell whether a verified backup exists: ${backup?.error ?? 'not read'}`);
  }
  if (backup.newestVerifiedAt === undefined) {
    return refusal('backup-missing', `no verified etcd backup${where} (lifeboat backup etcd, then lifeboat verify)`);
  }
  const age = now - backup.newestVerifiedAt;
  if (age > within) {
    return refusal(
      'backup-stale',
      `the newest verified backup${where} is ${formatDuration(age)} old; maintenance requires one newer than ${formatDuration(within)}`,
    );
  }
  return undefined;
}

function refusal(code: RefusalCode, message: string): Refusal {
  return { code, message };
}

export interface PrecheckInput {
  now: number;
  kind: 'etcd-member' | 'worker';
  /** etcd member name (etcd members only). */
  member?: string;
  probes?: EndpointProbe[];
  policy: MaintenancePolicy;
  backup?: BackupFreshness;
  paused?: PauseRecord;
  window?: WindowSpec;
  ignoreWindow?: boolean;
}

/** Every check at once. Workers need only the local ones: their reboot never touches etcd's quorum. */
export function precheck(input: PrecheckInput): PrecheckResult {
  const refusals = localRefusals(input);
  const warnings: Refusal[] = [];
  let extra: Pick<PrecheckResult, 'leaderMove' | 'memberId'> = {};
  if (input.kind === 'etcd-member') {
    const etcd = etcdRefusals({ member: input.member ?? '', probes: input.probes ?? [], policy: input.policy });
    refusals.push(...etcd.refusals);
    extra = {
      ...(etcd.leaderMove ? { leaderMove: etcd.leaderMove } : {}),
      ...(etcd.memberId ? { memberId: etcd.memberId } : {}),
    };
    const backup = backupRefusal(input.policy, input.backup, input.now);
    if (backup) (input.policy.onStaleBackup === 'warn' ? warnings : refusals).push(backup);
  }
  return { ok: refusals.length === 0, refusals, warnings, ...extra };
}

export function summarizeRefusals(refusals: Refusal[]): string {
  return refusals.map((r) => r.message).join('; ');
}
