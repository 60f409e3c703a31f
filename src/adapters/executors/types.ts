import type { ExecutorMember } from '../../domain/recover/members.js';
import type { ExecutablePlan, PlanStep, RestoreTool } from '../../domain/recover/types.js';

export type ExecutorKind = 'lab' | 'systemd' | 'kubeadm' | 'k3s';

export interface StepOutcome {
  /** The step found its work already done (a re-run after an interruption). */
  skipped: boolean;
  detail?: string;
}

/** An executor that acts on every member itself (the lab: local processes). */
export interface StepExecutor {
  readonly kind: ExecutorKind;
  /** Where the recovery journal lives. */
  readonly journalPath: string;
  members(): ExecutorMember[];
  run(step: PlanStep, plan: ExecutablePlan): Promise<StepOutcome>;
}

/** One shell script of a runbook: the steps one node runs, each checked before the next. */
export interface RunbookScript {
  node: string;
  file: string;
  text: string;
}

/** An executor that cannot reach other hosts: it writes what each node must run. */
export interface RunbookExecutor {
  readonly kind: ExecutorKind;
  /** What the executor read on this host (manifest, unit, config) and where. */
  readonly source: string;
  members(): ExecutorMember[] | undefined;
  /** The cluster's restore tool and version, when the node's files tell (decides --bump-revision). */
  restoreTool?(): RestoreTool | undefined;
  /** `writtenAt` is part of the runbook's identity (its done-marker folder): a new incident, new markers. */
  runbook(plan: ExecutablePlan, writtenAt?: Date): RunbookScript[];
}
