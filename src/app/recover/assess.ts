import { randomBytes } from 'node:crypto';
import type { LoadedConfig } from '../../adapters/config-file.js';
import type { RunbookExecutor, StepExecutor } from '../../adapters/executors/types.js';
import { restoreToolVersion } from '../../adapters/verify/restore.js';
import { type Diagnosis, diagnose } from '../../domain/diagnosis.js';
import type { EndpointProbe, MemberEntry } from '../../domain/probe.js';
import { interruptedStep, isUnfinished, type Journal } from '../../domain/recover/journal.js';
import { mergeMembers } from '../../domain/recover/members.js';
import { planRecovery } from '../../domain/recover/plan.js';
import { snapshotFit } from '../../domain/recover/snapshot-fit.js';
import type { PlanChoice, PlanDecision, RecoverInput, SnapshotInfo } from '../../domain/recover/types.js';
import { dataLostFinding, newestVerifiedContents } from '../../domain/root-causes.js';
import { errorMessage, UserError } from '../../errors.js';
import { probeWithDiscovery } from '../probe.js';
import type { EtcdTarget } from '../settings.js';
import { readJournal } from './runner.js';
import { newestVerifiedSnapshot, snapshotFromFile } from './snapshots.js';

/** Reading the backup catalogs (S3 may be slow) to compare etcd with its newest verified backup. */
const STORE_DEADLINE_MS = 10_000;

/** From "where is etcd" to a recovery decision: journal first, else probe, diagnose, merge with the executor, plan. */

export interface AssessRequest {
  target: EtcdTarget;
  /** None: nothing sees the machines, so every missing member's disk is unknown (and the plans say so). */
  executor: StepExecutor | RunbookExecutor | undefined;
  choice: PlanChoice;
  force: boolean;
  snapshotFile?: string;
  /** backups.to of the config, as written: every store is searched for the newest verified snapshot. */
  backupTargets?: string[];
  loaded?: LoadedConfig;
  /** --identity FILE for age-encrypted snapshots (else $LIFEBOAT_AGE_IDENTITY). */
  identity?: string;
  /** Where a fetched or decrypted snapshot is kept until the restore has run. */
  workDir: string;
  /** Ignore an unfinished journal and plan from the cluster as it is. */
  fresh: boolean;
  /** Members the user says lost their disk (runbook executors cannot look). */
  lost?: string[];
  probeTimeoutMs: number;
  maxRaftLag?: number;
  /**
   * Compare the members that answer with the newest verified backup in backups.to (a catalog read): recover does, so
   * an empty cluster after a total loss gets the snapshot plan; doctor reports the same as a finding of its own.
   */
  checkDataLoss?: boolean;
}

export type Assessment =
  | { kind: 'resume'; journal: Journal }
  | { kind: 'decision'; decision: PlanDecision; diagnosis: Diagnosis; input: RecoverInput; probes: EndpointProbe[] };

export async function assessRecovery(req: AssessRequest): Promise<Assessment> {
  if (req.executor && 'journalPath' in req.executor && !req.fresh) {
    const journal = readJournal(req.executor.journalPath);
    // A journal whose steps all failed changed nothing: plan again from the cluster as it is (and check the snapshot
    // again), rather than repeat a plan that failed until the user thinks of --fresh. A run killed inside a step may
    // have changed things half-way: that journal is resumed even when no step is done yet.
    if (isUnfinished(journal) && (Object.values(journal.steps).some((s) => s?.ok) || interruptedStep(journal)))
      return { kind: 'resume', journal };
  }
  const probes = await probeWithDiscovery(req.target, req.probeTimeoutMs);
  const diagnosis = diagnose(probes, req.maxRaftLag === undefined ? {} : { maxRaftLag: req.maxRaftLag });
  // Members that answer are not a healthy cluster when they hold less than the newest verified backup.
  let dataLost: string | undefined;
  if (
    req.checkDataLoss &&
    diagnosis.state !== 'unreachable' &&
    diagnosis.state !== 'quorum-lost' &&
    req.loaded?.config.backups?.to.length
  ) {
    const { observeDestinations } = await import('../../adapters/snapshot/destinations.js');
    const seen = await observeDestinations(req.loaded, STORE_DEADLINE_MS);
    dataLost = dataLostFinding(probes, newestVerifiedContents(seen))?.message;
  }
  const entries: MemberEntry[] = probes.flatMap((p) => (p.error ? [] : (p.members ?? [])));
  const executorMembers = req.executor?.members() ?? undefined;
  const members = mergeMembers(diagnosis.members, entries, executorMembers, dataLost !== undefined).map((m) =>
    req.lost?.includes(m.name) ? { ...m, hasData: false } : m,
  );
  const unknown = req.lost?.filter((n) => !members.some((m) => m.name === n));
  if (unknown?.length) throw new UserError(`--lost names no member: ${unknown.join(', ')}`);
  const input: RecoverInput = {
    state: diagnosis.state,
    members,
    force: req.force,
    // --plan snapshot --force with a snapshot named (a file, or a point from the change log): a deliberate rollback.
    rollback: req.choice === 'snapshot' && req.force && req.snapshotFile !== undefined,
    newToken: `lifeboat-restore-${randomBytes(6).toString('hex')}`,
    now: Date.now(),
    ...(dataLost ? { dataLost } : {}),
  };
  if (req.snapshotFile || req.choice === 'snapshot' || diagnosis.state === 'unreachable' || dataLost) {
    // Only a snapshot restore depends on the tool's version (--bump-revision): ask it (a process spawn) only then.
    const fromExecutor = req.executor && 'restoreTool' in req.executor ? req.executor.restoreTool?.() : undefined;
    const tool = fromExecutor ?? restoreToolVersion();
    if (tool) input.restoreTool = { tool: tool.tool, version: tool.version };
    const found = await findSnapshot(req);
    if (found.info) {
      // Proved before anything is planned on it: the snapshot belongs to this cluster (or --force says restore it
      // anyway, with a warning in the plan), and how it compares with what the members still hold.
      const statuses = probes.flatMap((p) => (p.status ? [p.status] : []));
      const revisions = statuses.flatMap((s) => (s.revision === undefined ? [] : [s.revision]));
      const fit = snapshotFit(
        { revision: found.info.revision, clusterId: found.info.clusterId ?? null, clusterName: found.clusterName },
        {
          clusterIds: statuses.flatMap((s) => (s.clusterId ? [s.clusterId] : [])),
          ...(revisions.length ? { revision: Math.max(...revisions) } : {}),
          ...(req.loaded?.config.cluster?.name ? { name: req.loaded.config.cluster.name } : {}),
        },
        req.force,
      );
      if (fit.refuse) input.snapshotProblem = fit.refuse;
      else input.snapshot = { ...found.info, warnings: fit.warnings };
    }
    if (found.problem) input.snapshotProblem = found.problem;
  }
  return { kind: 'decision', decision: planRecovery(input, req.choice), diagnosis, input, probes };
}

async function findSnapshot(
  req: AssessRequest,
): Promise<{ info?: SnapshotInfo; clusterName?: string; problem?: string }> {
  if (req.snapshotFile) {
    try {
      const { info, manifest } = await snapshotFromFile(req.snapshotFile, {
        identity: req.identity,
        workDir: req.workDir,
      });
      return { info, ...(manifest?.clusterName ? { clusterName: manifest.clusterName } : {}) };
    } catch (err) {
      if (err instanceof UserError) throw err;
      return { problem: `cannot use ${req.snapshotFile}: ${errorMessage(err)}` };
    }
  }
  if (!req.backupTargets?.length) return { problem: 'no --snapshot FILE given and no backups.to in the config' };
  const { found, tried } = await newestVerifiedSnapshot({
    destinations: req.backupTargets,
    loaded: req.loaded,
    identity: req.identity,
    workDir: req.workDir,
  });
  if (found) {
    return { info: found.info, ...(found.manifest?.clusterName ? { clusterName: found.manifest.clusterName } : {}) };
  }
  return { problem: `no usable verified snapshot in ${req.backupTargets.join(', ')} (${tried.join('; ')})` };
}
