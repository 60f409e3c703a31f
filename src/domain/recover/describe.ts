import type { Blocker, Candidate, ExecutablePlan, PlanDecision, PlanStep } from './types.js';

/** The words `lifeboat recover` prints: the plan before anything runs, and the JSON of a dry run. Pure. */

/** `done`: steps an earlier run finished; `interrupted`: the step an earlier run was killed inside (done again). */
export function describePlan(plan: ExecutablePlan, opts: { done?: Set<string>; interrupted?: string } = {}): string[] {
  const lines = [
    `Plan: ${plan.name} - ${plan.title}`,
    `Why: ${plan.why}.`,
    `Data loss: ${plan.dataLoss}.`,
    `Estimated time: about ${plan.estimateSeconds} s.`,
    'Steps:',
    ...plan.steps.map(
      (s, i) =>
        `  ${String(i + 1).padStart(2)}. ${opts.done?.has(s.id) ? '(done) ' : opts.interrupted === s.id ? '(interrupted: again) ' : ''}${stepLine(s)}`,
    ),
  ];
  for (const note of plan.notes) lines.push(`Note: ${note}.`);
  return lines;
}

function stepLine(step: PlanStep): string {
  return `[${step.node}] ${step.title}`;
}

export function describeCandidates(candidates: Candidate[]): string[] {
  return [
    'Plans considered:',
    ...candidates.map((c) => `  ${c.applies ? 'yes' : 'no '} ${c.name.padEnd(8)} ${c.reason}`),
  ];
}

export function describeBlockers(blockers: Blocker[], plan: string): string {
  const who = blockers.map((b) => b.why).join('; ');
  return `refusing the ${plan} plan: ${who}. Stop ${blockers.length === 1 ? 'it' : 'them'} first, or pass --force to let recover stop ${blockers.length === 1 ? 'it' : 'them'}`;
}

/** `recover --json` without --yes: the plan that would run, nothing executed. */
export function dryRunDocument(decision: PlanDecision, resumed = false) {
  if (decision.kind !== 'plan') {
    return {
      ok: decision.kind === 'nothing-to-do',
      plan: null,
      dataLoss: null,
      seconds: 0,
      steps: [],
      executed: false,
      reason: decision.reason,
      candidates: decision.candidates,
    };
  }
  const { plan } = decision;
  return {
    ok: decision.blockers.length === 0,
    plan: plan.name,
    dataLoss: plan.dataLoss,
    seconds: 0,
    executed: false,
    title: plan.title,
    why: plan.why,
    estimateSeconds: plan.estimateSeconds,
    steps: plan.steps.map((s) => ({
      name: s.name,
      title: s.title,
      node: s.node,
      ok: false,
      seconds: 0,
      pending: true,
    })),
    notes: plan.notes,
    blockers: decision.blockers,
    candidates: decision.candidates,
    ...(plan.snapshot ? { snapshot: plan.snapshot } : {}),
    ...(resumed ? { resumed } : {}),
  };
}

/** The outcome of a run, as `recover` prints it (the shape of `recover --json`). */
export interface RunSummary {
  ok: boolean;
  plan: string;
  dataLoss: string;
  seconds: number;
  steps: Array<{ name: string; ok: boolean; seconds: number; skipped?: boolean; earlier?: boolean; pending?: boolean }>;
  resumed: boolean;
  /** The step an earlier run was killed inside, done again by this run (it checks what was already done). */
  redone?: string;
  interrupted?: boolean;
  failed?: { step: string; error: string; next: string };
  journal: string;
}

export function describeRun(r: RunSummary): string[] {
  const done = r.steps.filter((s) => s.ok).length;
  if (r.ok) {
    return [
      `Recovered with the ${r.plan} plan in ${r.seconds} s${r.resumed ? ` (continued an interrupted run${r.redone ? `; step "${r.redone}", cut short, done again` : ''})` : ''}: ${done} steps done.`,
      `Data loss: ${r.dataLoss}.`,
      'Check with: lifeboat doctor',
    ];
  }
  if (r.interrupted) {
    return [
      `Interrupted after ${done} of ${r.steps.length} steps; the journal (${r.journal}) remembers where.`,
      'Run the same command again to continue.',
    ];
  }
  return [
    `Stopped at step "${r.failed?.step}" (${done} of ${r.steps.length} done): ${r.failed?.error}`,
    `What to do next: ${r.failed?.next}.`,
  ];
}
