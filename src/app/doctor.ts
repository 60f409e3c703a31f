import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LoadedConfig } from '../adapters/config-file.js';
import { openExecutor } from '../adapters/executors/open.js';
import type { RunbookExecutor, StepExecutor } from '../adapters/executors/types.js';
import { localHost } from '../adapters/host/local.js';
import type { Diagnosis, Finding } from '../domain/diagnosis.js';
import type { EndpointProbe } from '../domain/probe.js';
import { rankedPlans } from '../domain/recover/plan.js';
import {
  type BackupsView,
  backupFindings,
  type DestinationView,
  dataLostFinding,
  doctorExitCode,
  hostIsMember,
  isOffNode,
  memberHosts,
  newestVerifiedContents,
  scheduleFindings,
  verifiedBackupMaxAge,
  worstSeverity,
} from '../domain/root-causes.js';
import type { CheckResult } from '../domain/schedule/check.js';
import { DAY } from '../domain/schedule/types.js';
import { UserError } from '../errors.js';
import { assessRecovery } from './recover/assess.js';
import { diagnosisOptions, type Settings } from './settings.js';

/** How far ahead doctor runs the schedule check: the same year `lifeboat check` looks at. */
const SCHEDULE_DAYS = 366;
/** Reading a backup catalog (S3 may be slow) gets at least this long, whatever the probe deadline is. */
const MIN_STORE_DEADLINE_MS = 5000;

/**
 * `lifeboat doctor` as a use case: etcd's state today (probe + diagnose), plus the incident's root causes (the
 * reboot schedule, no verified backup, no off-node copy). `now` is the one clock read, by the caller.
 */
export async function runDoctor(settings: Settings, deadlineMs: number, now: number): Promise<DoctorReport> {
  const { diagnosis, probes } = await diagnoseAndPlan(settings, deadlineMs);
  return withRootCauses(diagnosis, probes, settings.config(), now, Math.max(deadlineMs, MIN_STORE_DEADLINE_MS));
}

/**
 * etcd's diagnosis with its recovery plans ranked by the one planner `recover` uses: the same assessment, with what
 * the configured executor sees of each machine (none configured: disks are unknown, and the plans say so) and, when
 * nothing answers, the newest verified snapshot in backups.to. Nothing is planned to run; nothing is changed.
 */
async function diagnoseAndPlan(
  settings: Settings,
  deadlineMs: number,
): Promise<{ diagnosis: Diagnosis; probes: EndpointProbe[] }> {
  const loaded = settings.config();
  // A snapshot that must be fetched or decrypted to be checked goes here, and is gone when doctor is.
  const workDir = mkdtempSync(join(tmpdir(), 'lifeboat-doctor-'));
  try {
    const assessment = await assessRecovery({
      target: settings.etcdTarget(),
      executor: executorIfConfigured(loaded),
      choice: 'auto',
      force: false,
      backupTargets: loaded?.config.backups?.to,
      loaded,
      workDir,
      fresh: true,
      probeTimeoutMs: deadlineMs,
      ...diagnosisOptions(settings),
    });
    if (assessment.kind !== 'decision') throw new Error('a fresh assessment never resumes a journal');
    const { diagnosis, input, probes } = assessment;
    return { diagnosis: { ...diagnosis, plans: diagnosis.state === 'healthy' ? [] : rankedPlans(input) }, probes };
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

/** The configured executor, when there is one that can look (a lab that is gone is no executor: disks unknown). */
function executorIfConfigured(loaded: LoadedConfig | undefined): StepExecutor | RunbookExecutor | undefined {
  if (!loaded?.config.etcd?.executor) return undefined;
  try {
    return openExecutor(loaded, {});
  } catch (err) {
    if (err instanceof UserError) return undefined;
    throw err;
  }
}

export interface DoctorReport extends Diagnosis {
  /** The schedule check of the config's nodes (`checked: false` without reboot schedules). */
  schedule: { checked: boolean; days: number; errors: number; warnings: number };
  backups: {
    configured: boolean;
    maxAgeMs: number;
    hostIsEtcdMember: boolean;
    newestVerifiedAt: string | null;
    /** How old the newest verified backup was at `now`. */
    newestVerifiedAgeMs: number | null;
    destinations: Array<
      Omit<DestinationView, 'newestVerifiedAt'> & { offNode: boolean; newestVerifiedAt: string | null }
    >;
  };
  /** The worst finding's severity, and the exit code it gives with etcd's state. */
  worst: Finding['severity'];
  exitCode: number;
}

/** etcd's diagnosis plus the incident's root causes (schedule, backups, off-node copies). */
export async function withRootCauses(
  d: Diagnosis,
  probes: EndpointProbe[],
  loaded: LoadedConfig | undefined,
  now: number,
  storeDeadlineMs: number,
): Promise<DoctorReport> {
  const schedule = await scheduleCheck(loaded, now);
  const backups = await backupsView(loaded, probes, storeDeadlineMs);
  const lost = dataLostFinding(probes, newestVerifiedContents(backups.destinations));
  const findings = [
    ...(lost ? [lost] : []),
    ...d.findings,
    ...(schedule ? scheduleFindings(schedule) : []),
    ...backupFindings(backups, now),
  ];
  const newest = Math.max(...backups.destinations.map((x) => x.newestVerifiedAt ?? Number.NEGATIVE_INFINITY));
  return {
    ...d,
    findings,
    schedule: {
      checked: schedule !== undefined,
      days: SCHEDULE_DAYS,
      errors: schedule?.findings.filter((f) => f.severity === 'error').length ?? 0,
      warnings: schedule?.findings.filter((f) => f.severity === 'warning').length ?? 0,
    },
    backups: {
      configured: backups.configured,
      maxAgeMs: backups.maxAgeMs,
      hostIsEtcdMember: backups.hostIsEtcdMember,
      newestVerifiedAt: Number.isFinite(newest) ? new Date(newest).toISOString() : null,
      newestVerifiedAgeMs: Number.isFinite(newest) ? now - newest : null,
      // What the newest verified backup holds feeds the data-lost finding; the JSON shape stays as it was.
      destinations: backups.destinations.map(({ newestVerified: _, ...x }) => ({
        ...x,
        offNode: isOffNode(x, backups.hostIsEtcdMember),
        newestVerifiedAt: x.newestVerifiedAt === undefined ? null : new Date(x.newestVerifiedAt).toISOString(),
      })),
    },
    worst: worstSeverity(findings),
    exitCode: doctorExitCode(d.state, findings),
  };
}

/** The schedule check of the config's nodes; its modules load only when there are reboot rules to check. */
async function scheduleCheck(loaded: LoadedConfig | undefined, now: number): Promise<CheckResult | undefined> {
  if (!loaded?.config.nodes?.some((n) => n.reboot?.length)) return undefined;
  const [{ runCheck }, { configInventory }] = await Promise.all([
    import('../domain/schedule/check.js'),
    import('../domain/schedule/inventory.js'),
  ]);
  const inventory = configInventory(loaded.config, loaded.path);
  return runCheck({ ...inventory, from: now, to: now + SCHEDULE_DAYS * DAY });
}

async function backupsView(
  loaded: LoadedConfig | undefined,
  probes: EndpointProbe[],
  deadlineMs: number,
): Promise<BackupsView> {
  const configured = Boolean(loaded?.config.backups?.to.length);
  // The store adapters (S3 client and all) load only when there is a store to read: doctor at 3 a.m. must be quick.
  const observe =
    configured && loaded ? (await import('../adapters/snapshot/destinations.js')).observeDestinations : undefined;
  return {
    configured,
    maxAgeMs: verifiedBackupMaxAge(loaded?.config),
    hostIsEtcdMember: hostIsMember(memberHosts(probes), localHost()),
    destinations: observe && loaded ? await observe(loaded, deadlineMs) : [],
  };
}
