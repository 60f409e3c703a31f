import type { ExecutablePlan, PlanStep } from './types.js';

/**
 * The recovery journal: the plan being walked and the steps already done. A recovery interrupted half-way leaves the
 * cluster in a shape no fresh diagnosis would plan from (after --force-new-cluster it looks like a healthy one-member
 * cluster), so a re-run continues the journal's plan instead of planning again. Each step also checks its own
 * completion, which covers the step that was running when the interruption came.
 */

export const JOURNAL_VERSION = 1;

export interface StepRecord {
  ok: boolean;
  seconds: number;
  at: string;
  /** The step found its work already done. */
  skipped?: boolean;
  error?: string;
}

export interface Journal {
  version: typeof JOURNAL_VERSION;
  plan: ExecutablePlan;
  startedAt: string;
  updatedAt: string;
  /** Completed (ok) and failed steps by id; a failed step is retried on the next run. */
  steps: Record<string, StepRecord>;
  /**
   * The step under way, written before it starts acting and cleared by its record. Still there when the journal is
   * read again: that run was killed inside the step, which the next run does again (each step checks what is done).
   */
  running?: { step: string; since: string };
  /** Set when every step is done. */
  finishedAt?: string;
  /** How many runs walked this journal (1 = never interrupted). */
  runs: number;
}

export function newJournal(plan: ExecutablePlan, now: Date): Journal {
  const at = now.toISOString();
  return { version: JOURNAL_VERSION, plan, startedAt: at, updatedAt: at, steps: {}, runs: 0 };
}

export function isUnfinished(journal: Journal | undefined): journal is Journal {
  return journal !== undefined && journal.finishedAt === undefined;
}

/** Steps not yet done, in plan order. */
export function remainingSteps(journal: Journal): PlanStep[] {
  return journal.plan.steps.filter((s) => !journal.steps[s.id]?.ok);
}

/** The journal saying `step` is under way (written before the step acts). */
export function startStep(journal: Journal, step: PlanStep, now: Date): Journal {
  const since = now.toISOString();
  return { ...journal, running: { step: step.id, since }, updatedAt: since };
}

export function recordStep(journal: Journal, step: PlanStep, record: StepRecord): Journal {
  const steps = { ...journal.steps, [step.id]: record };
  const done = journal.plan.steps.every((s) => steps[s.id]?.ok);
  const { running: _done, ...rest } = journal;
  return { ...rest, steps, updatedAt: record.at, ...(done ? { finishedAt: record.at } : {}) };
}

/** The step an earlier run was killed inside (started, never recorded), if any. */
export function interruptedStep(journal: Journal): PlanStep | undefined {
  const id = journal.running?.step;
  return id === undefined || journal.steps[id]?.ok ? undefined : journal.plan.steps.find((s) => s.id === id);
}

/** A journal read from disk that is not one of ours (hand-edited, other version) must not drive a recovery. */
export function journalProblem(value: unknown): string | undefined {
  const j = value as Partial<Journal> | null;
  if (!j || typeof j !== 'object') return 'not an object';
  if (j.version !== JOURNAL_VERSION) return `version ${String(j.version)} (this lifeboat writes ${JOURNAL_VERSION})`;
  if (!j.plan || !Array.isArray(j.plan.steps) || typeof j.steps !== 'object') return 'no plan or steps';
  return undefined;
}

/** What to do when a step failed: the step's own advice, then how to continue. */
export function nextAfterFailure(step: PlanStep, rerun: string): string {
  const advice: Partial<Record<PlanStep['kind'], string>> = {
    'ensure-stopped': `stop ${'members' in step ? step.members.join(', ') : ''} yourself (or pass --force)`,
    'force-new-cluster': `read ${step.node}'s etcd log; its data is untouched (a copy sits beside its data dir)`,
    'wait-writable': `check ${step.node}'s log for "no space" or disk errors`,
    join: `read ${step.node}'s etcd log ("member count is unequal" means the membership changed meanwhile)`,
    'wait-caught-up': `check disk space and the network between ${step.node} and the leader`,
    promote: 'a learner is promoted only once in sync; wait, then re-run',
    restore: 'check that the snapshot file is readable and the disk has room',
    'wait-healthy': "read the members' etcd logs; every member must reach the others on its peer URL",
  };
  const own = advice[step.kind];
  return `${own ? `${own}; then ` : ''}re-run \`${rerun}\`: it continues at this step`;
}
