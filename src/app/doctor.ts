import type { LoadedConfig } from '../adapters/config-file.js';
import { type Diagnosis, diagnose, type Finding } from '../domain/diagnosis.js';
import type { EndpointProbe } from '../domain/probe.js';
import {
  type BackupsView,
  backupFindings,
  type DestinationView,
  doctorExitCode,
  hostIsMember,
  isOffNode,
  memberHosts,
  scheduleFindings,
  verifiedBackupMaxAge,
  worstSeverity,
} from '../domain/root-causes.js';
import { type CheckResult, runCheck } from '../domain/schedule/check.js';
import { configInventory } from '../domain/schedule/inventory.js';
import { DAY } from '../domain/schedule/types.js';
import { probeWithDiscovery } from './probe.js';
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
  const probes = await probeWithDiscovery(settings.etcdTarget(), deadlineMs);
  const d = diagnose(probes, diagnosisOptions(settings));
  return withRootCauses(d, probes, settings.config(), now, Math.max(deadlineMs, MIN_STORE_DEADLINE_MS));
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
  const schedule = scheduleCheck(loaded, now);
  const backups = await backupsView(loaded, probes, storeDeadlineMs);
  const findings = [...d.findings, ...(schedule ? scheduleFindings(schedule) : []), ...backupFindings(backups, now)];
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
      destinations: backups.destinations.map((x) => ({
        ...x,
        offNode: isOffNode(x, backups.hostIsEtcdMember),
        newestVerifiedAt: x.newestVerifiedAt === undefined ? null : new Date(x.newestVerifiedAt).toISOString(),
      })),
    },
    worst: worstSeverity(findings),
    exitCode: doctorExitCode(d.state, findings),
  };
}

function scheduleCheck(loaded: LoadedConfig | undefined, now: number): CheckResult | undefined {
  if (!loaded?.config.nodes?.some((n) => n.reboot?.length)) return undefined;
  const inventory = configInventory(loaded.config, loaded.path);
  return runCheck({ ...inventory, from: now, to: now + SCHEDULE_DAYS * DAY });
}

async function backupsView(
  loaded: LoadedConfig | undefined,
  probes: EndpointProbe[],
  deadlineMs: number,
): Promise<BackupsView> {
  const { localHost, observeDestinations } = await import('../adapters/snapshot/destinations.js');
  const configured = Boolean(loaded?.config.backups?.to.length);
  return {
    configured,
    maxAgeMs: verifiedBackupMaxAge(loaded?.config),
    hostIsEtcdMember: hostIsMember(memberHosts(probes), localHost()),
    destinations: configured && loaded ? await observeDestinations(loaded, deadlineMs) : [],
  };
}
