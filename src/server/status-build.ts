import type { FollowStatus } from '../app/etcdlog/follow.js';
import type { ChainInfo } from '../app/etcdlog/restore.js';
import type { AlertState } from '../domain/alerts.js';
import type { Diagnosis } from '../domain/diagnosis.js';
import { VERSION } from '../version.js';
import type { ScheduleReport } from './calendar.js';
import type { ServeEvent } from './events.js';
import type { LockInfo } from './locks.js';
import type { Runtime } from './runtime.js';
import type { JobRecord, JobView } from './scheduler.js';
import { etcdPanel, pointInTimePanel, type StatusDocument } from './status.js';
import { type BackupItem, buildTimeline, type KindSummary } from './timeline.js';

/** Assembles `/api/status` from what serve holds right now. Pure. */
export interface StatusInput {
  now: number;
  startedAt: number;
  runtime: Runtime;
  zone: string;
  config: { error: string | null; loadedAt: number | null };
  diagnosis: { d: Diagnosis; probedAt: number; probeMs: number; leaderChanges: number } | undefined;
  items: BackupItem[];
  inventoryError: string | null;
  records: readonly JobRecord[];
  jobs: JobView[];
  kinds: KindSummary[];
  schedule: ScheduleReport | null;
  scheduleError: string | null;
  locks: LockInfo[] | null;
  alerts: AlertState;
  events: ServeEvent[];
  staleGraceMs?: (everyMs: number) => number;
  follow?: FollowStatus;
  chains?: ChainInfo[];
}

const iso = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : new Date(ms).toISOString());

export function buildStatus(input: StatusInput): StatusDocument {
  const { runtime, diagnosis } = input;
  const grace = input.staleGraceMs ?? ((every: number) => Math.max(every / 2, 10 * 60_000));
  const failures = input.records
    .filter((r) => !r.ok)
    .map((r) => ({ kind: r.job, at: r.finishedAt, error: r.error ?? 'failed' }));
  const kinds = input.kinds.map((k) => k.kind);
  const plans = diagnosis?.d.plans ?? [];
  return {
    version: VERSION,
    cluster: runtime.cluster,
    generatedAt: new Date(input.now).toISOString(),
    startedAt: new Date(input.startedAt).toISOString(),
    zone: input.zone,
    config: {
      path: runtime.loaded?.path ?? null,
      ok: input.config.error === null,
      error: input.config.error,
      loadedAt: iso(input.config.loadedAt),
    },
    etcd: diagnosis ? etcdPanel(diagnosis.d, diagnosis) : null,
    plan: plans[0] ?? null,
    otherPlans: plans.slice(1).map((p) => p.title),
    backups: {
      destination: runtime.store?.location ?? null,
      kinds: input.kinds.map((k) => ({
        ...k,
        lastSuccessAt: iso(k.lastSuccessAt),
        lastVerifiedAt: iso(k.lastVerifiedAt),
        stale: k.everyMs !== null && input.now - (k.lastSuccessAt ?? input.startedAt) > k.everyMs + grace(k.everyMs),
      })),
      timeline:
        runtime.store || input.items.length ? buildTimeline(input.items, failures, kinds, input.now, input.zone) : null,
      error: runtime.storeError ?? input.inventoryError,
    },
    jobs: input.jobs.map((j) => ({
      name: j.name,
      every: j.everyMs,
      running: j.running,
      runs: j.runs,
      nextRunAt: iso(j.nextRunAt),
      last: j.last
        ? {
            at: new Date(j.last.finishedAt).toISOString(),
            ok: j.last.ok,
            seconds: (j.last.finishedAt - j.last.startedAt) / 1000,
            summary: j.last.ok ? (j.last.outcome?.summary ?? 'ok') : (j.last.error ?? 'failed'),
          }
        : null,
    })),
    check: input.schedule?.check ?? null,
    calendar: input.schedule?.calendar ?? null,
    locks: input.locks,
    alerts: {
      webhooks: runtime.webhooks.length,
      firing: Object.entries(input.alerts.active).map(([key, a]) => ({
        ...a,
        key,
        sinceIso: new Date(a.since).toISOString(),
      })),
    },
    events: input.events,
    pointInTime: pointInTimePanel(input.follow, input.chains ?? []),
  };
}
