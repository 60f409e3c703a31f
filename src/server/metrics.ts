import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { FollowStatus } from '../app/etcdlog/follow.js';
import type { ActiveAlert } from '../domain/alerts.js';
import type { Diagnosis } from '../domain/diagnosis.js';
import type { LockInfo } from './locks.js';
import type { JobRecord } from './scheduler.js';
import type { KindSummary } from './timeline.js';

/**
 * `/metrics`: an own prom-client Registry (nothing global). Gauges are filled at scrape time from what serve knows
 * right then; counters count events as they happen. Names and labels are a contract (deploy/prometheus rules use
 * them): add freely, never rename.
 */

export interface MetricsView {
  diagnosis: Diagnosis | undefined;
  probeSeconds: number | undefined;
  kinds: KindSummary[];
  findings: Array<{ severity: string }>;
  /** null: unknown (no quorum to read them). */
  locks: LockInfo[] | null;
  alerts: ActiveAlert[];
  configOk: boolean;
  /** The change-log follower, when serve runs one. */
  follow?: FollowStatus;
}

const STATES = ['healthy', 'degraded', 'quorum-lost', 'unreachable'] as const;

export class ServeMetrics {
  readonly registry = new Registry();
  private readonly leaderChanges: Counter;
  private readonly jobRuns: Counter<'job' | 'result'>;
  private readonly jobFailures: Counter<'job'>;
  private readonly jobDuration: Histogram<'job'>;
  private readonly deliveries: Counter<'result'>;

  constructor(view: () => MetricsView) {
    const registers = [this.registry];
    const gauge = <L extends string>(
      name: string,
      help: string,
      labelNames: L[],
      fill: (g: Gauge<L>, v: MetricsView) => void,
    ) =>
      new Gauge<L>({
        name,
        help,
        labelNames,
        registers,
        collect() {
          this.reset();
          fill(this, view());
        },
      });
    gauge('lifeboat_etcd_members', 'etcd members by state: up/down (voting) and learner.', ['state'], (g, v) => {
      if (!v.diagnosis) return;
      const voting = v.diagnosis.members.filter((m) => !m.learner);
      g.set({ state: 'up' }, voting.filter((m) => m.reachable).length);
      g.set({ state: 'down' }, voting.filter((m) => !m.reachable).length);
      g.set({ state: 'learner' }, v.diagnosis.members.length - voting.length);
    });
    gauge(
      'lifeboat_etcd_quorum_margin',
      'Reachable voting members minus quorum: 1+ = can lose that many, 0 = one failure from stopping, <0 = quorum lost.',
      [],
      (g, v) => v.diagnosis && g.set(v.diagnosis.margin),
    );
    gauge('lifeboat_etcd_state', '1 for the current cluster state.', ['state'], (g, v) => {
      if (v.diagnosis) for (const s of STATES) g.set({ state: s }, v.diagnosis.state === s ? 1 : 0);
    });
    gauge('lifeboat_etcd_member_up', '1 when the member answers the probe.', ['member'], (g, v) => {
      for (const m of v.diagnosis?.members ?? []) g.set({ member: m.name }, m.reachable ? 1 : 0);
    });
    gauge('lifeboat_etcd_db_size_bytes', 'Database size reported by each member.', ['member'], (g, v) => {
      for (const m of v.diagnosis?.members ?? []) if (m.dbSize !== null) g.set({ member: m.name }, m.dbSize);
    });
    gauge('lifeboat_probe_duration_seconds', 'How long the last etcd probe took.', [], (g, v) => {
      if (v.probeSeconds !== undefined) g.set(v.probeSeconds);
    });
    this.leaderChanges = new Counter({
      name: 'lifeboat_etcd_leader_changes_total',
      help: 'Leader changes seen by the probe since serve started.',
      registers,
    });
    gauge(
      'lifeboat_backup_last_success_timestamp_seconds',
      'Creation time of the newest backup in the store, per kind.',
      ['kind'],
      (g, v) => {
        for (const k of v.kinds) if (k.lastSuccessAt !== null) g.set({ kind: k.kind }, k.lastSuccessAt / 1000);
      },
    );
    gauge(
      'lifeboat_backup_last_verified_timestamp_seconds',
      'Creation time of the newest backup whose latest restore drill passed, per kind.',
      ['kind'],
      (g, v) => {
        for (const k of v.kinds) if (k.lastVerifiedAt !== null) g.set({ kind: k.kind }, k.lastVerifiedAt / 1000);
      },
    );
    gauge('lifeboat_backup_bytes', 'Size of the newest backup, per kind.', ['kind'], (g, v) => {
      for (const k of v.kinds) if (k.bytes !== null) g.set({ kind: k.kind }, k.bytes);
    });
    gauge('lifeboat_backup_schedule_seconds', 'Configured backup interval, per kind.', ['kind'], (g, v) => {
      for (const k of v.kinds) if (k.everyMs !== null) g.set({ kind: k.kind }, k.everyMs / 1000);
    });
    gauge('lifeboat_check_findings', 'Reboot schedule check findings, by severity.', ['severity'], (g, v) => {
      for (const s of ['error', 'warning', 'info'])
        g.set({ severity: s }, v.findings.filter((f) => f.severity === s).length);
    });
    gauge(
      'lifeboat_maintenance_lock_held',
      '1 for each holder of a maintenance lock slot.',
      ['holder', 'slot'],
      (g, v) => {
        for (const h of v.locks ?? []) g.set({ holder: h.holder, slot: h.lock }, 1);
      },
    );
    gauge('lifeboat_alerts_firing', 'Alerts currently firing, by severity.', ['severity'], (g, v) => {
      for (const s of ['critical', 'warning']) g.set({ severity: s }, v.alerts.filter((a) => a.severity === s).length);
    });
    gauge('lifeboat_config_valid', '1 when the config file last read is valid.', [], (g, v) =>
      g.set(v.configOk ? 1 : 0),
    );
    gauge(
      'lifeboat_etcdlog_lag_seconds',
      'How long the oldest change not yet durable in the log has waited.',
      [],
      (g, v) => {
        if (v.follow) g.set(v.follow.lagSeconds);
      },
    );
    gauge('lifeboat_etcdlog_lag_revisions', 'Revisions etcd has that the change log does not hold yet.', [], (g, v) => {
      if (v.follow) g.set(v.follow.lagRevisions);
    });
    gauge(
      'lifeboat_etcdlog_durable_revision',
      'Newest revision the change log holds: the end of the restorable window.',
      [],
      (g, v) => {
        if (v.follow) g.set(v.follow.durableRevision);
      },
    );
    gauge(
      'lifeboat_etcdlog_durable_timestamp_seconds',
      'When the change log last made revisions durable.',
      [],
      (g, v) => {
        if (v.follow) g.set(v.follow.durableAt / 1000);
      },
    );
    gauge('lifeboat_etcdlog_gaps', 'Gaps (history lost, a new chain begun) since serve started.', [], (g, v) => {
      if (v.follow) g.set(v.follow.gaps);
    });
    this.jobRuns = new Counter({
      name: 'lifeboat_job_runs_total',
      help: 'Scheduled job runs, by job and result.',
      labelNames: ['job', 'result'],
      registers,
    });
    this.jobFailures = new Counter({
      name: 'lifeboat_job_failures_total',
      help: 'Scheduled job runs that failed (etcd-verify: restore drills that failed).',
      labelNames: ['job'],
      registers,
    });
    this.jobDuration = new Histogram({
      name: 'lifeboat_job_duration_seconds',
      help: 'How long scheduled job runs take.',
      labelNames: ['job'],
      buckets: [1, 5, 15, 30, 60, 300, 900, 3600],
      registers,
    });
    this.deliveries = new Counter({
      name: 'lifeboat_alert_notifications_total',
      help: 'Webhook notifications, by result.',
      labelNames: ['result'],
      registers,
    });
    collectDefaultMetrics({ register: this.registry, prefix: 'lifeboat_' });
  }

  leaderChanged(n: number): void {
    if (n > 0) this.leaderChanges.inc(n);
  }

  jobRecorded(r: JobRecord): void {
    this.jobRuns.inc({ job: r.job, result: r.ok ? 'ok' : 'failed' });
    if (!r.ok) this.jobFailures.inc({ job: r.job });
    this.jobDuration.observe({ job: r.job }, (r.finishedAt - r.startedAt) / 1000);
    const v = r.outcome?.verify;
    if (v) {
      this.jobRuns.inc({ job: `${r.job}-verify`, result: v.ok ? 'ok' : 'failed' });
      if (!v.ok) this.jobFailures.inc({ job: `${r.job}-verify` });
    }
  }

  delivered(ok: boolean): void {
    this.deliveries.inc({ result: ok ? 'ok' : 'failed' });
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
