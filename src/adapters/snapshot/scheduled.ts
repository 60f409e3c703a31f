import type { BackupManifest } from '../../domain/backup/manifest.js';
import { shouldVerify } from '../../domain/backup/schedule.js';
import { errorMessage } from '../../errors.js';
import type { VerifyOutcome } from '../verify/verify.js';
import { backupDocument, backupLine } from './report.js';

/**
 * One run of a backup schedule: back up, prune, and (every Nth run) the restore drill, reported as one log line and
 * one JSON object. The steps are injected, so `backup etcd --every` and `serve` share it and tests can fake them.
 * A failed step ends the run, not the schedule; an abort (shutdown) is rethrown.
 */

export interface ScheduledSteps {
  backup(signal: AbortSignal): Promise<BackupManifest>;
  /** Applies retention; returns the snapshots removed. */
  prune(): Promise<string[]>;
  verify(name: string, signal: AbortSignal): Promise<VerifyOutcome>;
}

export interface RunReport {
  at: string;
  run: number;
  ok: boolean;
  backup?: ReturnType<typeof backupDocument>;
  pruned?: string[];
  verify?: VerifyOutcome;
  error?: string;
  /** The human log line. */
  line: string;
}

export async function scheduledRun(
  steps: ScheduledSteps,
  run: number,
  verifyEvery: number,
  signal: AbortSignal,
  now: () => number = Date.now,
): Promise<RunReport> {
  const at = new Date(now()).toISOString();
  const report: RunReport = { at, run, ok: false, line: '' };
  const parts: string[] = [];
  try {
    const manifest = await steps.backup(signal);
    Object.assign(report, { ok: true, backup: backupDocument(manifest) });
    parts.push(`backup ok ${backupLine(manifest)}`);
    report.pruned = await steps.prune();
    parts.push(`pruned ${report.pruned.length}`);
    if (shouldVerify(run, verifyEvery)) {
      const v = await steps.verify(manifest.name, signal);
      Object.assign(report, { ok: v.ok, verify: v });
      parts.push(v.ok ? 'verified ok' : `verify FAILED: ${v.problems.join('; ')}`);
    }
  } catch (err) {
    if (signal.aborted) throw err;
    report.error = errorMessage(err);
    parts.push(`FAILED: ${report.error}`);
  }
  report.line = `${at} run ${run}: ${parts.join('; ')}`;
  return report;
}
