import type { Encryption } from '../../adapters/snapshot/setup.js';
import type { BackupStore } from '../../adapters/store/types.js';
import type { BackupManifest } from '../../domain/backup/manifest.js';
import { shouldVerify } from '../../domain/backup/schedule.js';
import { logWindowOf } from '../../domain/etcdlog/retention.js';
import type { RetentionPolicy } from '../../domain/retention.js';
import { errorMessage } from '../../errors.js';
import { pruneStore } from '../prune.js';
import { drillAuth, type Settings } from '../settings.js';
import { type VerifyOutcome, verifyAndRecord } from '../verify.js';
import { backupCluster } from './etcd.js';

/**
 * One run of a backup schedule: back up, prune, and (every Nth run) the restore drill, reported as one log line and
 * one JSON object (render/backup.ts words both). The steps are injected, so `backup etcd --every` and `serve` share it and tests can fake them.
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
  /** The backup this run took (absent when the backup itself failed). */
  manifest?: BackupManifest;
  pruned?: string[];
  verify?: VerifyOutcome;
  error?: string;
}

export async function scheduledRun(
  steps: ScheduledSteps,
  run: number,
  verifyEvery: number,
  signal: AbortSignal,
  now: () => number = Date.now,
): Promise<RunReport> {
  const at = new Date(now()).toISOString();
  const report: RunReport = { at, run, ok: false };
  try {
    const manifest = await steps.backup(signal);
    Object.assign(report, { ok: true, manifest });
    report.pruned = await steps.prune();
    if (shouldVerify(run, verifyEvery)) {
      const v = await steps.verify(manifest.name, signal);
      Object.assign(report, { ok: v.ok, verify: v });
    }
  } catch (err) {
    if (signal.aborted) throw err;
    report.error = errorMessage(err);
  }
  return report;
}

/** What an etcd schedule needs beyond the settings: where backups go, how they are sealed and kept, drill identity. */
export interface EtcdCycle {
  settings: Settings;
  store: BackupStore;
  encryption: Encryption | undefined;
  retention: RetentionPolicy;
  /** age identity file for drills of encrypted snapshots. */
  identity?: string;
  now: () => number;
}

/**
 * The steps of one etcd run, wired once for `backup etcd --every` and serve: a snapshot of a healthy follower
 * (`backupCluster`), retention by backups.retention (`pruneStore`), the restore drill recorded in the manifest
 * (`verifyAndRecord`). `onSource` hears which member streams and any warning about that choice.
 */
export function etcdCycleSteps(cycle: EtcdCycle, onSource?: Parameters<typeof backupCluster>[2]): ScheduledSteps {
  const { settings, store } = cycle;
  return {
    backup: (signal) => backupCluster(settings, { store, encryption: cycle.encryption, signal }, onSource),
    prune: async () => {
      const window = logWindowOf(settings.config()?.config.backups);
      const done = await pruneStore(store, cycle.retention, cycle.now(), false, undefined, window);
      return done.plan.remove.map((r) => r.name);
    },
    verify: async (name, signal) =>
      (await verifyAndRecord({ store, name, identity: cycle.identity, signal, auth: drillAuth(settings) })).outcome,
  };
}
