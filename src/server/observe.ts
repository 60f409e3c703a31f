import type { Observations } from '../domain/alerts.js';
import type { Diagnosis } from '../domain/diagnosis.js';
import type { CheckDocument } from './calendar.js';
import type { JobView } from './scheduler.js';
import type { KindSummary } from './timeline.js';

/**
 * What the alert rules look at, from what serve holds: the latest diagnosis, each scheduled job with the newest
 * backup of its kind (the store's, or the last run's when the store has not been re-read yet) and its latest
 * drill, and the schedule check's findings. Pure.
 */
export function observations(input: {
  at: number;
  since: number;
  diagnosis: Diagnosis | undefined;
  jobs: JobView[];
  kinds: KindSummary[];
  check: CheckDocument | null;
}): Observations {
  const d = input.diagnosis;
  return {
    at: input.at,
    since: input.since,
    etcd: d && {
      state: d.state,
      margin: d.margin,
      votingMembers: d.votingMembers,
      reachableVoting: d.reachableVoting,
      down: d.members.filter((m) => !m.learner && !m.reachable).map((m) => m.name),
    },
    backups: input.jobs.map((j) => {
      const k = input.kinds.find((x) => x.kind === j.name);
      const success = Math.max(k?.lastSuccessAt ?? 0, j.lastSuccessAt ?? 0);
      return {
        kind: j.name,
        everyMs: j.everyMs,
        lastSuccessAt: success || undefined,
        lastRun: j.last ? { at: j.last.finishedAt, ok: j.last.ok, error: j.last.error } : undefined,
        lastVerify: k?.lastVerify ?? undefined,
      };
    }),
    findings: input.check?.findings ?? [],
  };
}
