import { readFileSync } from 'node:fs';
import type { StepExecutor } from '../../adapters/executors/types.js';
import { writeFileAtomic } from '../../adapters/host/atomic-file.js';
import type { RunSummary } from '../../domain/recover/describe.js';
import {
  interruptedStep,
  type Journal,
  journalProblem,
  nextAfterFailure,
  recordStep,
  remainingSteps,
  type StepRecord,
  startStep,
} from '../../domain/recover/journal.js';
import type { PlanStep } from '../../domain/recover/types.js';
import { errorMessage, UserError } from '../../errors.js';

/** Walks a plan's remaining steps with an executor, journaling each one, timing each one, stopping on request. */

export interface StepReport {
  name: string;
  title: string;
  ok: boolean;
  seconds: number;
  skipped?: boolean;
  /** Done by an earlier, interrupted run. */
  earlier?: boolean;
  /** Not reached (a failure or an interruption came first). */
  pending?: boolean;
  detail?: string;
  error?: string;
}

export interface RunReport extends RunSummary {
  steps: StepReport[];
}

export interface RunEvents {
  /** `interruptedAt`: an earlier run was killed inside this step at that time; it runs again. */
  onStart?(index: number, total: number, step: PlanStep, interruptedAt?: string): void;
  onEnd?(index: number, total: number, step: PlanStep, record: StepRecord & { detail?: string }): void;
}

export function readJournal(path: string): Journal | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new UserError(`${path} is not valid JSON`, 'inspect it, then remove it or pass --fresh to plan again');
  }
  const problem = journalProblem(value);
  if (problem) throw new UserError(`${path} is not a recovery journal this version understands (${problem})`);
  return value as Journal;
}

export function writeJournal(path: string, journal: Journal): void {
  writeFileAtomic(path, `${JSON.stringify(journal, null, 2)}\n`);
}

export async function runPlan(
  start: Journal,
  executor: StepExecutor,
  opts: { rerun: string; interrupted: () => boolean; events?: RunEvents; now?: () => number },
): Promise<RunReport> {
  const now = opts.now ?? Date.now;
  const began = now();
  const cutShort = interruptedStep(start);
  const resumed = cutShort !== undefined || Object.keys(start.steps).some((id) => start.steps[id]?.ok);
  let journal: Journal = { ...start, runs: start.runs + 1 };
  const cutAt = journal.running?.since;
  writeJournal(executor.journalPath, journal);
  const total = journal.plan.steps.length;
  const thisRun = new Map<string, StepReport>();
  let failed: RunReport['failed'];
  let interrupted = false;
  for (const step of remainingSteps(journal)) {
    if (opts.interrupted()) {
      interrupted = true;
      break;
    }
    const index = journal.plan.steps.indexOf(step) + 1;
    opts.events?.onStart?.(index, total, step, step.id === cutShort?.id ? cutAt : undefined);
    // Journaled before it acts: a run killed inside this step leaves this record, and the next run says so.
    journal = startStep(journal, step, new Date(now()));
    writeJournal(executor.journalPath, journal);
    const t0 = now();
    let record: StepRecord & { detail?: string };
    try {
      const outcome = await executor.run(step, journal.plan);
      record = { ok: true, seconds: secs(now() - t0), at: new Date(now()).toISOString() };
      if (outcome.skipped) record.skipped = true;
      if (outcome.detail) record.detail = outcome.detail;
    } catch (err) {
      record = { ok: false, seconds: secs(now() - t0), at: new Date(now()).toISOString(), error: errorMessage(err) };
    }
    const { detail, ...stored } = record;
    journal = recordStep(journal, step, stored);
    writeJournal(executor.journalPath, journal);
    thisRun.set(step.id, { name: step.name, title: step.title, ...record });
    opts.events?.onEnd?.(index, total, step, record);
    if (!record.ok) {
      failed = { step: step.name, error: record.error!, next: nextAfterFailure(step, opts.rerun) };
      break;
    }
  }
  const steps = journal.plan.steps.map((s): StepReport => {
    const mine = thisRun.get(s.id);
    if (mine) return mine;
    const earlier = journal.steps[s.id];
    if (earlier?.ok) return { name: s.name, title: s.title, ok: true, seconds: earlier.seconds, earlier: true };
    return { name: s.name, title: s.title, ok: false, seconds: 0, pending: true };
  });
  return {
    ok: journal.finishedAt !== undefined,
    plan: journal.plan.name,
    dataLoss: journal.plan.dataLoss,
    seconds: secs(now() - began),
    steps,
    resumed,
    ...(cutShort ? { redone: cutShort.name } : {}),
    ...(interrupted ? { interrupted } : {}),
    ...(failed ? { failed } : {}),
    journal: executor.journalPath,
  };
}

function secs(ms: number): number {
  return Math.round(ms / 100) / 10;
}

/**
 * runPlan for a command: the first SIGINT stops after the current step (the journal remembers where), a second one
 * ends the process at once; each step is logged as it starts and ends, with its duration.
 */
export async function runInteractive(
  journal: Journal,
  executor: StepExecutor,
  opts: { rerun: string; log: (line: string) => void },
): Promise<RunReport> {
  let interrupted = false;
  const onSigint = () => {
    interrupted = true;
    opts.log('lifeboat: interrupted: stopping after the current step (Ctrl-C again to abort at once)');
  };
  process.once('SIGINT', onSigint);
  try {
    return await runPlan(journal, executor, {
      rerun: opts.rerun,
      interrupted: () => interrupted,
      events: {
        onStart: (i, n, step, interruptedAt) =>
          opts.log(
            interruptedAt
              ? `[${i}/${n}] ${step.name}: ${step.title} (again: a run was killed inside this step at ${interruptedAt})`
              : `[${i}/${n}] ${step.name}: ${step.title}`,
          ),
        onEnd: (i, n, step, r) =>
          opts.log(
            `[${i}/${n}] ${step.name}: ${r.ok ? (r.skipped ? 'already done' : 'ok') : 'FAILED'} in ${r.seconds} s` +
              `${r.detail ? ` (${r.detail})` : ''}${r.error ? `: ${r.error}` : ''}`,
          ),
      },
    });
  } finally {
    process.off('SIGINT', onSigint);
  }
}
