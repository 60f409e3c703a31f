import type { LoadedConfig } from '../adapters/config-file.js';
import { encryptionFor, openDestination } from '../adapters/snapshot/setup.js';
import { mysqlBackupJobs } from '../app/backup/mysql.js';
import { etcdCycleSteps, scheduledRun } from '../app/backup/scheduled.js';
import { type CatalogReader, pruneStore, readDumps, readHelmCaptures } from '../app/prune.js';
import type { Settings } from '../app/settings.js';
import { parseDuration } from '../domain/duration.js';
import { dumpRetention } from '../domain/mysql/config.js';
import type { RetentionPolicy } from '../domain/retention.js';
import { formatBytes } from '../domain/units.js';
import { errorMessage } from '../errors.js';
import { scheduledRunLine } from '../render/backup.js';

/**
 * The scheduled work of `serve`, built from lifeboat.yaml with the same adapters the CLI commands use. An etcd run
 * is `backup etcd --every`'s run (snapshot from a healthy follower, prune by backups.retention, restore drill every
 * backups.etcd.verifyEvery-th run); a database run is `backup mysql NAME`, then that database's retention; a Helm
 * run is `backup helm`, then backups.helm.retention. Each job reports what it did as data; the scheduler records it,
 * the page and metrics read the records.
 */

export interface JobOutcome {
  ok: boolean;
  /** One line for the event log. */
  summary: string;
  error?: string;
  backup?: { name: string; location: string; size: number; at: number };
  verify?: { ok: boolean; problems: string[]; at: number };
  pruned?: number;
}

export interface JobSpec {
  /** Also the backup kind: `etcd`, `mysql/shop`. */
  name: string;
  everyMs: number;
  /** Identity of the schedule: a job whose key changes on reload is restarted. */
  key: string;
  run(run: number, signal: AbortSignal): Promise<JobOutcome>;
}

export interface JobContext {
  settings: Settings;
  loaded: LoadedConfig;
  /** age identity file for drills of encrypted snapshots. */
  identity?: string;
  now: () => number;
}

export function jobsFromConfig(jc: JobContext): JobSpec[] {
  const jobs: JobSpec[] = [];
  const backups = jc.loaded.config.backups;
  const every = backups?.etcd?.every ? parseDuration(backups.etcd.every) : undefined;
  if (backups && every) {
    const verifyEvery = backups.etcd?.verifyEvery ?? 1;
    jobs.push({
      name: 'etcd',
      everyMs: every,
      key: JSON.stringify({ backups, endpoints: jc.loaded.config.etcd?.endpoints }),
      run: (run, signal) => etcdRun(jc, run, verifyEvery, signal),
    });
  }
  const databases = jc.loaded.config.databases ?? [];
  for (const job of mysqlBackupJobs(jc.loaded)) {
    const entry = databases.find((d) => d.name === job.name);
    jobs.push({
      name: `mysql/${job.name}`,
      everyMs: job.everyMs,
      key: JSON.stringify({ entry, to: backups?.to, encryption: backups?.encryption }),
      run: async (_run, signal) => {
        const { manifest, warnings } = await job.run({ signal });
        const note = warnings.length ? ` (${warnings.join('; ')})` : '';
        // After each dump, this database's dumps are pruned by its own retention (none: all kept); others untouched.
        const prune = await pruneAfter(jc, dumpRetention(entry ? [entry] : []), readDumps);
        return {
          ok: true,
          summary: `dumped ${manifest.databases.join(', ')}: ${formatBytes(manifest.size)}, ${manifest.rows} rows${note}; ${prune.text}`,
          pruned: prune.count,
          backup: {
            name: manifest.name,
            location: manifest.location,
            size: manifest.size,
            at: Date.parse(manifest.createdAt),
          },
        };
      },
    });
  }
  const helmEvery = helmSchedule(jc.loaded);
  if (backups && helmEvery) {
    jobs.push({
      name: 'helm',
      everyMs: helmEvery,
      key: JSON.stringify({ helm: helmEvery, to: backups.to, encryption: backups.encryption }),
      run: () => helmRun(jc),
    });
  }
  return jobs;
}

/**
 * Retention over one kind of backup in the primary destination, after a backup of that kind succeeded. A prune that
 * fails does not undo the backup: the run stays a success and says what went wrong.
 */
export async function pruneAfter(
  jc: JobContext,
  policy: RetentionPolicy | ((group: string) => RetentionPolicy),
  read: CatalogReader,
): Promise<{ count?: number; text: string }> {
  try {
    const store = await openDestination(undefined, jc.loaded);
    const count = (await pruneStore(store, policy, jc.now(), false, read)).plan.remove.length;
    return { count, text: `pruned ${count}` };
  } catch (err) {
    return { text: `prune failed: ${errorMessage(err)}` };
  }
}

/** `backups.helm.every`: how often serve captures every Helm release. */
function helmSchedule(loaded: LoadedConfig): number | undefined {
  const every = loaded.config.backups?.helm?.every;
  return every === undefined ? undefined : parseDuration(every);
}

/** One `lifeboat backup helm` (every namespace, the config's kube context and encryption). */
async function helmRun(jc: JobContext): Promise<JobOutcome> {
  const { KubeApi } = await import('../adapters/kube/api.js');
  const { captureHelmReleases } = await import('../app/backup/helm.js');
  const backups = jc.loaded.config.backups!;
  const store = await openDestination(undefined, jc.loaded);
  const encryption = await encryptionFor(backups.encryption?.recipients ?? []);
  const api = await KubeApi.connect({});
  const result = await captureHelmReleases(api, { store, encryption, cluster: jc.loaded.config.cluster?.name });
  const warn = result.warnings.length ? `; ${result.warnings.length} warning(s): ${result.warnings[0]}` : '';
  const prune = await pruneAfter(jc, jc.loaded.config.backups?.helm?.retention ?? {}, readHelmCaptures);
  return {
    ok: true,
    pruned: prune.count,
    summary: `captured ${result.index.releases.length} Helm release(s) into ${result.prefix}${warn}; ${prune.text}`,
    backup: { name: result.prefix, location: result.location, size: 0, at: Date.parse(result.index.createdAt) },
  };
}

/**
 * One run of the etcd schedule: `scheduledRun`, the very run `backup etcd --every` makes (backup, prune, a drill every
 * Nth run), with the steps the CLI gives it: a snapshot of a healthy follower, `pruneStore`, `verifyAndRecord`.
 */
async function etcdRun(jc: JobContext, run: number, verifyEvery: number, signal: AbortSignal): Promise<JobOutcome> {
  const backups = jc.loaded.config.backups!;
  const store = await openDestination(undefined, jc.loaded);
  const encryption = await encryptionFor(backups.encryption?.recipients ?? []);
  const warnings: string[] = [];
  const cycle = { settings: jc.settings, store, encryption, retention: backups.retention ?? {}, identity: jc.identity };
  const steps = etcdCycleSteps({ ...cycle, now: jc.now }, (source) => warnings.push(...source.warnings));
  const report = await scheduledRun(steps, run, verifyEvery, signal, jc.now);
  const b = report.manifest;
  if (!b) return { ok: false, summary: scheduledRunLine(report), error: report.error ?? 'backup failed' };
  const parts = [
    `snapshot ${b.name}: ${formatBytes(b.size)} at revision ${b.revision} (${b.keys} keys) from ${b.memberName || b.endpoint}`,
  ];
  parts.push(...warnings.map((w) => `warning: ${w}`));
  if (report.pruned?.length) parts.push(`pruned ${report.pruned.length}`);
  const v = report.verify;
  if (v) {
    parts.push(
      v.ok
        ? `restore drill ok (${v.keys} keys, ${v.seconds.toFixed(1)}s)`
        : `restore drill FAILED: ${v.problems.join('; ')}`,
    );
  } else if (report.error) parts.push(`after the backup: ${report.error}`);
  return {
    ok: true,
    summary: parts.join('; '),
    backup: { name: b.name, location: b.location, size: b.size, at: Date.parse(b.createdAt) },
    verify: v && { ok: v.ok, problems: v.problems, at: jc.now() },
    pruned: report.pruned?.length,
  };
}
