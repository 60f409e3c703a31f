import * as v from 'valibot';
import { formatDuration } from './duration.js';
import type { ClusterState } from './quorum.js';
import { listNames, sentence } from './text.js';
import { isHttpUrl } from './validation.js';
import { QUORUM_LOST_CONSEQUENCE, stateCounts, stateMeaning, stateTitle, zeroMarginAction } from './words.js';

/**
 * `lifeboat serve` alerting as a pure function: (previous state, new observations) -> (alerts to send, new state).
 *
 * Every alert has a key (`etcd-quorum`, `backup-failed/etcd`, `check/quorum-loss/cp1,cp2`...) and, while it holds, a
 * level (`zero-margin`, `quorum-lost`...). One notification goes out per change of level, and one "resolved" when
 * the condition clears: a page refreshed every few seconds must not become a message every few seconds. A change
 * is confirmed by `confirm` consecutive observations first (one for events such as a failed backup), so a single
 * slow probe does not wake anybody. The state is plain JSON: it survives a restart if the caller keeps it.
 */

export const webhookFormatSchema = v.picklist(['generic', 'slack', 'discord']);
export type WebhookFormat = v.InferOutput<typeof webhookFormatSchema>;

/** `alerts:` in lifeboat.yaml. */
export const alertsConfigSchema = v.strictObject({
  webhooks: v.optional(
    v.array(
      v.strictObject({
        url: v.pipe(v.string(), v.check(isHttpUrl, 'not an http(s) URL (example: https://hooks.slack.com/...)')),
        format: v.optional(webhookFormatSchema),
      }),
    ),
  ),
});
export type AlertsConfig = v.InferOutput<typeof alertsConfigSchema>;

export type AlertSeverity = 'critical' | 'warning';

export interface Alert {
  key: string;
  status: 'firing' | 'resolved';
  /** The level that fired, or (resolved) the level that cleared. */
  level: string;
  severity: AlertSeverity;
  title: string;
  detail: string;
  /** Epoch ms of the observation that confirmed the change. */
  at: number;
  /** Resolved alerts: when the condition began. */
  since?: number;
}

interface Condition {
  level: string;
  severity: AlertSeverity;
  title: string;
  detail: string;
  /** Observations in a row needed before this condition (or its end) is announced. */
  confirm: number;
}

export interface ActiveAlert extends Omit<Condition, 'confirm'> {
  since: number;
  confirm: number;
}

export interface AlertState {
  active: Record<string, ActiveAlert>;
  /** A change seen but not yet confirmed: the level it would move to ('' = clear) and how often it was seen. */
  pending: Record<string, { level: string; count: number }>;
}

export const EMPTY_ALERT_STATE: AlertState = { active: {}, pending: {} };

export interface BackupObservation {
  /** `etcd`, `mysql/shop`, `helm`. */
  kind: string;
  everyMs: number;
  /** The newest backup the store holds (or the last run took), epoch ms. */
  lastSuccessAt?: number;
  /** The latest scheduled run. */
  lastRun?: { at: number; ok: boolean; error?: string };
  /** The latest restore drill of this kind. */
  lastVerify?: { at: number; ok: boolean; problems: string[] };
}

export interface FindingObservation {
  severity: 'error' | 'warning' | 'info';
  code: string;
  nodes: string[];
  message: string;
}

export interface Observations {
  at: number;
  /** When observation began (serve started): a schedule with no backup at all counts from here. */
  since: number;
  /** undefined while no probe has finished yet. */
  etcd?: { state: ClusterState; margin: number; votingMembers: number; reachableVoting: number; down: string[] };
  backups: BackupObservation[];
  findings: FindingObservation[];
  /** The change-log follower, when serve runs one (backups.etcd.follow). */
  follow?: FollowObservation;
}

export interface FollowObservation {
  lagSeconds: number;
  lagRevisions: number;
  /** The newest gap (history lost to a compaction, a broken chain): when, and in words. */
  lastGap?: { at: number; message: string };
}

/** How long a gap in the change log stays an alert: long enough for someone to see it. */
const GAP_ALERT_MS = 3_600_000;

export interface AlertOptions {
  /** Probe observations needed to confirm an etcd change (default 2). */
  confirm: number;
  /** How late a backup may be past its schedule before it is stale (default: half the interval, at least 10 min). */
  staleGraceMs: (everyMs: number) => number;
  /** Follower lag (seconds behind the cluster) that raises an alert (default 30). */
  followLagSeconds: number;
}

const DEFAULTS: AlertOptions = {
  confirm: 2,
  staleGraceMs: (every) => Math.max(every / 2, 10 * 60_000),
  followLagSeconds: 30,
};

export function evaluateAlerts(
  previous: AlertState,
  obs: Observations,
  options: Partial<AlertOptions> = {},
): { alerts: Alert[]; state: AlertState } {
  const opts = { ...DEFAULTS, ...options };
  const conditions = currentConditions(obs, opts);
  const active: Record<string, ActiveAlert> = { ...previous.active };
  const pending: Record<string, { level: string; count: number }> = {};
  const alerts: Alert[] = [];
  const keys = new Set([...Object.keys(previous.active), ...conditions.keys()]);
  for (const key of [...keys].sort()) {
    // No probe yet (or none this round) is no opinion about etcd: whatever holds, holds.
    if (key === 'etcd-quorum' && !obs.etcd) continue;
    const now = conditions.get(key);
    const was = previous.active[key];
    const target = now?.level ?? '';
    if ((was?.level ?? '') === target) continue;
    const seen = previous.pending[key]?.level === target ? previous.pending[key]!.count + 1 : 1;
    const needed = now ? now.confirm : was!.confirm;
    if (seen < needed) {
      pending[key] = { level: target, count: seen };
      continue;
    }
    if (now) {
      const since = was ? was.since : obs.at;
      active[key] = { ...now, since };
      alerts.push({ key, status: 'firing', ...pick(now), at: obs.at });
    } else {
      delete active[key];
      alerts.push({
        key,
        status: 'resolved',
        ...pick(was!),
        title: resolvedTitle(key, was!),
        detail: `Cleared after ${formatDuration(roundToMinute(Math.max(0, obs.at - was!.since)))}. Was: ${was!.title}`,
        at: obs.at,
        since: was!.since,
      });
    }
  }
  return { alerts, state: { active, pending } };
}

function pick(c: Condition | ActiveAlert) {
  return { level: c.level, severity: c.severity, title: c.title, detail: c.detail };
}

function currentConditions(obs: Observations, opts: AlertOptions): Map<string, Condition> {
  const out = new Map<string, Condition>();
  const e = obs.etcd;
  if (e) {
    // The words are the wording table's, as on the status page and in `lifeboat status`.
    const facts = { ...e, quorum: e.reachableVoting - e.margin };
    const down = e.down.length ? ` Down: ${listNames(e.down)}.` : '';
    const counts = `${stateCounts(facts)}.${down}`;
    if (e.state === 'unreachable') {
      out.set('etcd-quorum', {
        level: 'unreachable',
        severity: 'critical',
        title: stateTitle(facts),
        detail: `No etcd endpoint answered the probe: ${stateMeaning(facts)}.`,
        confirm: opts.confirm,
      });
    } else if (e.state === 'quorum-lost' || e.margin < 0) {
      out.set('etcd-quorum', {
        level: 'quorum-lost',
        severity: 'critical',
        title: stateTitle({ ...facts, state: 'quorum-lost' }),
        detail: `${sentence(counts)} ${sentence(QUORUM_LOST_CONSEQUENCE)}. Run \`lifeboat doctor\`.`,
        confirm: opts.confirm,
      });
    } else if (e.margin === 0) {
      out.set('etcd-quorum', {
        level: 'zero-margin',
        severity: 'warning',
        title: stateTitle({ ...facts, state: 'degraded' }),
        detail: `${sentence(counts)} ${sentence(zeroMarginAction(listNames(e.down) || 'the missing member'))}`,
        confirm: opts.confirm,
      });
    }
  }
  const f = obs.follow;
  if (f && f.lagSeconds > opts.followLagSeconds) {
    out.set('etcdlog-lag', {
      level: 'lagging',
      severity: 'warning',
      title: 'the etcd change log is falling behind',
      detail: `The follower is ${Math.round(f.lagSeconds)} s (${f.lagRevisions} revisions) behind etcd: a total loss now would cost that much.`,
      confirm: opts.confirm,
    });
  }
  if (f?.lastGap && obs.at - f.lastGap.at < GAP_ALERT_MS) {
    out.set('etcdlog-gap', {
      level: 'gap',
      severity: 'critical',
      title: 'the etcd change log has a gap',
      detail: `${f.lastGap.message}. Points in time inside the gap cannot be restored; a new chain began.`,
      confirm: 1,
    });
  }
  for (const b of obs.backups) {
    if (b.lastRun && !b.lastRun.ok) {
      out.set(`backup-failed/${b.kind}`, {
        level: 'failed',
        severity: 'critical',
        title: `${b.kind} backup failed`,
        detail: b.lastRun.error ?? 'the scheduled backup did not complete',
        confirm: 1,
      });
    }
    const newest = b.lastSuccessAt ?? obs.since;
    const allowed = b.everyMs + opts.staleGraceMs(b.everyMs);
    if (obs.at - newest > allowed) {
      const what = b.lastSuccessAt
        ? `the newest is ${formatDuration(roundToMinute(obs.at - b.lastSuccessAt))} old`
        : 'there is none';
      out.set(`backup-stale/${b.kind}`, {
        level: 'stale',
        severity: 'critical',
        title: `${b.kind} backup is older than its schedule allows`,
        detail: `Scheduled every ${formatDuration(b.everyMs)}, but ${what}.`,
        confirm: 1,
      });
    }
    if (b.lastVerify && !b.lastVerify.ok) {
      out.set(`verify-failed/${b.kind}`, {
        level: 'failed',
        severity: 'critical',
        title: `${b.kind} restore drill failed`,
        detail: b.lastVerify.problems.join('; ') || 'the restored copy did not match its manifest',
        confirm: 1,
      });
    }
  }
  for (const f of obs.findings) {
    if (f.severity === 'info') continue;
    out.set(`check/${f.code}${f.nodes.length ? `/${f.nodes.join(',')}` : ''}`, {
      level: f.severity,
      severity: f.severity === 'error' ? 'critical' : 'warning',
      title: `schedule check: ${f.code}${f.nodes.length ? ` (${f.nodes.join(', ')})` : ''}`,
      detail: f.message,
      confirm: 1,
    });
  }
  return out;
}

function resolvedTitle(key: string, was: ActiveAlert): string {
  if (key === 'etcd-quorum') return 'etcd quorum margin restored';
  if (key.startsWith('backup-failed/')) return `${key.slice('backup-failed/'.length)} backup succeeded again`;
  if (key.startsWith('backup-stale/')) return `${key.slice('backup-stale/'.length)} backup is fresh again`;
  if (key.startsWith('verify-failed/')) return `${key.slice('verify-failed/'.length)} restore drill passes again`;
  return `resolved: ${was.title}`;
}

/** Whole seconds under a minute, whole minutes above: "13s", "1h31m". */
function roundToMinute(ms: number): number {
  return ms < 60_000 ? Math.round(ms / 1000) * 1000 : ms - (ms % 60_000);
}
