import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import type { LoadedConfig } from '../../adapters/config-file.js';
import { openExecutor } from '../../adapters/executors/open.js';
import { inspectSnapshot, newestVerifiedLocal, restoreTool } from '../../adapters/executors/snapshot-file.js';
import type { RunbookExecutor, StepExecutor } from '../../adapters/executors/types.js';
import { type Diagnosis, diagnose } from '../../domain/diagnosis.js';
import type { MemberEntry } from '../../domain/probe.js';
import { isUnfinished, type Journal } from '../../domain/recover/journal.js';
import { mergeMembers } from '../../domain/recover/members.js';
import { planRecovery, rankedPlans } from '../../domain/recover/plan.js';
import type { PlanChoice, PlanDecision, RecoverInput, SnapshotInfo } from '../../domain/recover/types.js';
import { errorMessage, UserError } from '../../errors.js';
import { probeWithDiscovery } from '../probe.js';
import type { EtcdTarget } from '../settings.js';
import { readJournal } from './runner.js';

/** From "where is etcd" to a recovery decision: journal first, else probe, diagnose, merge with the executor, plan. */

export interface AssessRequest {
  target: EtcdTarget;
  /** None: nothing sees the machines, so every missing member's disk is unknown. */
  executor: StepExecutor | RunbookExecutor | undefined;
  choice: PlanChoice;
  force: boolean;
  snapshotFile?: string;
  /** backups.to of the config: where the newest verified snapshot is looked for. */
  backupTargets?: string[];
  /** Ignore an unfinished journal and plan from the cluster as it is. */
  fresh: boolean;
  /** Members the user says lost their disk (runbook executors cannot look). */
  lost?: string[];
  probeTimeoutMs: number;
  maxRaftLag?: number;
}

export type Assessment =
  | { kind: 'resume'; journal: Journal }
  | { kind: 'decision'; decision: PlanDecision; diagnosis: Diagnosis; input: RecoverInput };

export async function assessRecovery(req: AssessRequest): Promise<Assessment> {
  if (req.executor && 'journalPath' in req.executor && !req.fresh) {
    const journal = readJournal(req.executor.journalPath);
    if (isUnfinished(journal)) return { kind: 'resume', journal };
  }
  const probes = await probeWithDiscovery(req.target, req.probeTimeoutMs);
  const diagnosis = diagnose(probes, req.maxRaftLag === undefined ? {} : { maxRaftLag: req.maxRaftLag });
  const entries: MemberEntry[] = probes.flatMap((p) => (p.error ? [] : (p.members ?? [])));
  const members = mergeMembers(diagnosis.members, entries, req.executor?.members() ?? undefined).map((m) =>
    req.lost?.includes(m.name) ? { ...m, hasData: false } : m,
  );
  const unknown = req.lost?.filter((n) => !members.some((m) => m.name === n));
  if (unknown?.length) throw new UserError(`--lost names no member: ${unknown.join(', ')}`);
  const local = restoreTool();
  const tool =
    req.executor && 'restoreTool' in req.executor && req.executor.restoreTool ? req.executor.restoreTool() : local;
  const input: RecoverInput = {
    state: diagnosis.state,
    members,
    force: req.force,
    newToken: `lifeboat-restore-${randomBytes(6).toString('hex')}`,
    now: Date.now(),
    ...(tool ? { restoreTool: { tool: tool.tool, version: tool.version } } : {}),
  };
  // Quorum lost or nothing answers: a snapshot is one of the plans, so look for one (doctor ranks it too).
  if (
    req.snapshotFile ||
    req.choice === 'snapshot' ||
    diagnosis.state === 'unreachable' ||
    diagnosis.state === 'quorum-lost'
  ) {
    const found = await findSnapshot(req);
    if (found.info) input.snapshot = found.info;
    if (found.problem) input.snapshotProblem = found.problem;
  }
  return { kind: 'decision', decision: planRecovery(input, req.choice), diagnosis, input };
}

async function findSnapshot(req: AssessRequest): Promise<{ info?: SnapshotInfo; problem?: string }> {
  if (req.snapshotFile) {
    try {
      return { info: await inspectSnapshot(req.snapshotFile) };
    } catch (err) {
      return { problem: `cannot use ${req.snapshotFile}: ${errorMessage(err)}` };
    }
  }
  if (req.backupTargets?.length) return newestVerifiedLocal(req.backupTargets);
  return { problem: 'no --snapshot FILE given and no backups.to in the config' };
}

/** backups.to of the config, local directories resolved against the config file: where snapshots are looked for. */
export function backupTargetsOf(config: LoadedConfig | undefined): string[] | undefined {
  return config?.config.backups?.to.map((t) => (t.includes('://') ? t : resolve(config.path, '..', t)));
}

/**
 * `doctor`: the diagnosis, its plans ranked by the one planner `recover` uses, with what the configured executor sees
 * of each machine (none configured: disks are unknown, and the plans say so) and the newest verified backup.
 */
export async function diagnoseAndPlan(req: {
  target: EtcdTarget;
  config: LoadedConfig | undefined;
  probeTimeoutMs: number;
  maxRaftLag?: number;
}): Promise<Diagnosis> {
  const assessment = await assessRecovery({
    target: req.target,
    executor: executorIfConfigured(req.config),
    choice: 'auto',
    force: false,
    backupTargets: backupTargetsOf(req.config),
    fresh: true,
    probeTimeoutMs: req.probeTimeoutMs,
    maxRaftLag: req.maxRaftLag,
  });
  if (assessment.kind !== 'decision') throw new Error('unreachable: a fresh assessment never resumes');
  const { diagnosis, input } = assessment;
  return { ...diagnosis, plans: diagnosis.state === 'healthy' ? [] : rankedPlans(input) };
}

/** The configured executor, when there is one that can look (a lab that is gone is no executor: disks unknown). */
function executorIfConfigured(config: LoadedConfig | undefined): StepExecutor | RunbookExecutor | undefined {
  if (!config?.config.etcd?.executor) return undefined;
  try {
    return openExecutor(config, {});
  } catch (err) {
    if (err instanceof UserError) return undefined;
    throw err;
  }
}
