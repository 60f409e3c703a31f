import type { Command } from 'commander';
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
import { renderDiagnosis } from '../render/cluster.js';
import { diagnosisOptions, parseTimeout, probeWithDiscovery } from './cluster-probe.js';
import { action } from './context.js';

/** How far ahead doctor runs the schedule check: the same year `lifeboat check` looks at. */
const SCHEDULE_DAYS = 366;
/** Reading a backup catalog (S3 may be slow) gets at least this long, whatever --timeout says. */
const MIN_STORE_DEADLINE_MS = 5000;

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description(
      "explain etcd's state in plain words, with the incident's root causes: reboot schedule, backups, off-node copies",
    )
    .option('--timeout <ms>', 'per-endpoint deadline in milliseconds', '2000')
    .addHelpText(
      'after',
      `
Besides etcd's state today, doctor runs the reboot schedule check on the config's nodes (as \`lifeboat check\`),
looks for a verified backup within maintenance.requireVerifiedBackupWithin (default: 2 backup intervals, at least
24h) in every backups.to destination, and warns when every destination is a local directory on an etcd member.

Examples:
  lifeboat doctor --endpoints https://10.0.0.11:2379 --cacert ca.crt --cert client.crt --key client.key
  lifeboat -c lab/lifeboat.yaml doctor --json

Exit codes: 0 healthy, 1 degraded or any ERROR finding (schedule, no verified backup), 3 quorum lost or
unreachable.`,
    )
    .action(
      action<{ timeout: string }>(async (ctx, opts) => {
        const timeout = parseTimeout(opts.timeout);
        const probes = await probeWithDiscovery(ctx.etcdTarget(), timeout);
        const d = diagnose(probes, diagnosisOptions(ctx));
        const report = await withRootCauses(
          d,
          probes,
          ctx.config(),
          Date.now(),
          Math.max(timeout, MIN_STORE_DEADLINE_MS),
        );
        if (ctx.out.json) ctx.out.printJson(report);
        else ctx.out.print(renderDiagnosis(report, ctx.out.color));
        return report.exitCode;
      }),
    );
}

export interface DoctorReport extends Diagnosis {
  /** The schedule check of the config's nodes (`checked: false` without reboot schedules). */
  schedule: { checked: boolean; days: number; errors: number; warnings: number };
  backups: {
    configured: boolean;
    maxAgeMs: number;
    hostIsEtcdMember: boolean;
    newestVerifiedAt: string | null;
    destinations: Array<
      Omit<DestinationView, 'newestVerifiedAt'> & { offNode: boolean; newestVerifiedAt: string | null }
    >;
  };
  /** The worst finding's severity, and the exit code it gives with etcd's state. */
  worst: Finding['severity'];
  exitCode: number;
}

/** etcd's diagnosis plus the incident's root causes (schedule, backups, off-node copies). */
async function withRootCauses(
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
