import { randomBytes } from 'node:crypto';
import type { EtcdConnectionOptions } from '../../adapters/etcd/client.js';
import { probeCluster } from '../../adapters/etcd/probe.js';
import { inspectSnapshot, newestVerifiedLocal, restoreTool } from '../../adapters/executors/snapshot-file.js';
import type { RunbookExecutor, StepExecutor } from '../../adapters/executors/types.js';
import { type Diagnosis, diagnose, sameUrl } from '../../domain/diagnosis.js';
import type { EndpointProbe, MemberEntry } from '../../domain/probe.js';
import { isUnfinished, type Journal } from '../../domain/recover/journal.js';
import { mergeMembers } from '../../domain/recover/members.js';
import { planRecovery } from '../../domain/recover/plan.js';
import type { PlanChoice, PlanDecision, RecoverInput, SnapshotInfo } from '../../domain/recover/types.js';
import { errorMessage, UserError } from '../../errors.js';
import { readJournal } from './runner.js';

/** From "where is etcd" to a recovery decision: journal first, else probe, diagnose, merge with the executor, plan. */

export interface AssessRequest {
  endpoints: string[];
  connection: EtcdConnectionOptions;
  executor: StepExecutor | RunbookExecutor;
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
  if ('journalPath' in req.executor && !req.fresh) {
    const journal = readJournal(req.executor.journalPath);
    if (isUnfinished(journal)) return { kind: 'resume', journal };
  }
  const probes = await probeAll(req.endpoints, req.connection, req.probeTimeoutMs);
  const diagnosis = diagnose(probes, req.maxRaftLag === undefined ? {} : { maxRaftLag: req.maxRaftLag });
  const entries: MemberEntry[] = probes.flatMap((p) => (p.error ? [] : (p.members ?? [])));
  const members = mergeMembers(diagnosis.members, entries, req.executor.members() ?? undefined).map((m) =>
    req.lost?.includes(m.name) ? { ...m, hasData: false } : m,
  );
  const unknown = req.lost?.filter((n) => !members.some((m) => m.name === n));
  if (unknown?.length) throw new UserError(`--lost names no member: ${unknown.join(', ')}`);
  const local = restoreTool();
  const tool = 'restoreTool' in req.executor && req.executor.restoreTool ? req.executor.restoreTool() : local;
  const input: RecoverInput = {
    state: diagnosis.state,
    members,
    force: req.force,
    newToken: `lifeboat-restore-${randomBytes(6).toString('hex')}`,
    now: Date.now(),
    ...(tool ? { restoreTool: { tool: tool.tool, version: tool.version } } : {}),
  };
  if (req.snapshotFile || req.choice === 'snapshot' || diagnosis.state === 'unreachable') {
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

/** The given endpoints, then any member client URL they reveal: one endpoint is enough to see every member. */
async function probeAll(endpoints: string[], conn: EtcdConnectionOptions, ms: number): Promise<EndpointProbe[]> {
  const first = await probeCluster(endpoints, conn, ms);
  const more = [...new Set(first.flatMap((p) => p.members ?? []).flatMap((m) => m.clientURLs))].filter(
    (url) => !first.some((p) => sameUrl(p.endpoint, url)),
  );
  return more.length ? [...first, ...(await probeCluster(more, conn, ms))] : first;
}
