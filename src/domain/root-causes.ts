import type { LifeboatConfig } from './config.js';
import type { Finding, Severity } from './diagnosis.js';
import { formatAge, formatDuration, parseDuration } from './duration.js';
import type { EndpointProbe } from './probe.js';
import type { ClusterState } from './quorum.js';
import type { CheckResult } from './schedule/check.js';

/**
 * The incident's root causes, as doctor findings beside etcd's state today: a reboot schedule that takes quorum away
 * (the cron slip), no verified backup (no snapshot had ever been taken), and backups that live only on the etcd
 * nodes themselves (lost with them). Pure: the command gathers the schedule check, the catalogs and this host's
 * addresses; time is a parameter.
 */

const DAY_MS = 86_400_000;

/** One `backups.to` destination as doctor saw it. */
export interface DestinationView {
  /** As written in backups.to. */
  location: string;
  kind: 'directory' | 's3';
  /** Directories: the filesystem type of the mount holding it (`ext4`, `nfs4`), when known. */
  fsType?: string;
  /** Backups found (etcd snapshots). */
  backups: number;
  /** Creation time of the newest backup whose restore drill passed. */
  newestVerifiedAt?: number;
  /** What that backup holds, from its manifest. */
  newestVerified?: BackupContents;
  /** The catalog could not be read (unreachable S3, permissions...). */
  error?: string;
}

export interface BackupsView {
  /** backups.to is set. */
  configured: boolean;
  /** A verified backup older than this is a finding. */
  maxAgeMs: number;
  /** This host is an etcd member (a local directory here is on a member's disk). */
  hostIsEtcdMember: boolean;
  destinations: DestinationView[];
}

/** Filesystems whose data lives on another machine: a directory on one of them is an off-node copy. */
const NETWORK_FILESYSTEMS = new Set([
  'nfs',
  'nfs4',
  'cifs',
  'smb3',
  'smbfs',
  'ceph',
  'glusterfs',
  'fuse.glusterfs',
  'fuse.sshfs',
  'fuse.s3fs',
  'fuse.rclone',
  'lustre',
  '9p',
]);

/** Whether a destination survives the loss of the etcd members: S3, a network mount, or a disk on another host. */
export function isOffNode(d: Pick<DestinationView, 'kind' | 'fsType'>, hostIsEtcdMember: boolean): boolean {
  if (d.kind === 's3') return true;
  if (d.fsType !== undefined && NETWORK_FILESYSTEMS.has(d.fsType)) return true;
  return !hostIsEtcdMember;
}

/**
 * How old the newest verified backup may be: maintenance.requireVerifiedBackupWithin when set (the agent refuses
 * reboots past it), else two backup intervals (one missed run is not yet a problem), and never less than a day.
 */
export function verifiedBackupMaxAge(config: LifeboatConfig | undefined): number {
  const within = config?.maintenance?.requireVerifiedBackupWithin;
  const withinMs = within === undefined ? undefined : parseDuration(within);
  if (withinMs !== undefined) return withinMs;
  const every = config?.backups?.etcd?.every;
  const everyMs = every === undefined ? undefined : parseDuration(every);
  return Math.max(DAY_MS, everyMs === undefined ? 0 : 2 * everyMs);
}

/** Host names and addresses of the etcd members, from their client and peer URLs. */
export function memberHosts(probes: EndpointProbe[]): string[] {
  const urls = [
    ...probes.map((p) => p.endpoint),
    ...probes.flatMap((p) => p.members ?? []).flatMap((m) => [...m.clientURLs, ...m.peerURLs]),
  ];
  const hosts = new Set<string>();
  for (const url of urls) {
    try {
      hosts.add(new URL(url).hostname.replace(/^\[|\]$/g, '').toLowerCase());
    } catch {
      // not a URL: nothing to compare
    }
  }
  return [...hosts];
}

/** This host is one of the members: a member URL names one of its addresses or its host name. */
export function hostIsMember(hosts: string[], local: { addresses: string[]; hostname: string }): boolean {
  const mine = new Set([...local.addresses, local.hostname, 'localhost'].map((a) => a.toLowerCase()));
  return hosts.some((h) => mine.has(h) || h.startsWith('127.') || h === '::1');
}

/** The schedule check's errors, as doctor findings: the same words `lifeboat check` prints. */
export function scheduleFindings(result: CheckResult): Finding[] {
  return result.findings
    .filter((f) => f.severity === 'error')
    .map((f) => ({
      severity: 'error' as const,
      code: `schedule-${f.code}`,
      members: f.nodes,
      message:
        `Reboot schedule: ${f.message}` +
        (f.sources.length ? ` (from ${f.sources.map((s) => s.origin).join(', ')})` : '') +
        ' First: run `lifeboat check --suggest` for a schedule that keeps members apart, and fix the cron lines or timers.',
    }));
}

/** No verified backup, a stale one, unreadable stores, no off-node copy. */
/** What a verified etcd backup holds, as its manifest says. */
export interface BackupContents {
  revision: number;
  keys: number;
  /** Decimal, as the API gives it. */
  clusterId: string;
  /** Epoch milliseconds. */
  createdAt: number;
}

/** The newest verified backup over every destination that could be read. */
export function newestVerifiedContents(destinations: DestinationView[]): BackupContents | undefined {
  return destinations
    .flatMap((d) => (d.error || !d.newestVerified ? [] : [d.newestVerified]))
    .sort((a, b) => b.createdAt - a.createdAt)[0];
}

/**
 * Data lost: every member that answers holds an older store revision than the newest verified backup of the same
 * cluster id. A cluster's
 * revision only grows, so etcd started empty or from an older copy. The case it was written for: after a total loss
 * kubeadm's init node boots on a new disk, its manifest bootstraps a one-member cluster (same cluster id, no keys),
 * and that answered as a healthy cluster with nothing to recover.
 */
export function dataLostFinding(probes: EndpointProbe[], newest: BackupContents | undefined): Finding | undefined {
  if (!newest) return undefined;
  // Another cluster's backups (a cluster rebuilt on purpose gets a new id) say nothing about this one's data.
  const answering = probes.flatMap((p) => (p.status ? [p.status] : []));
  if (answering.some((s) => s.clusterId !== undefined && s.clusterId !== newest.clusterId)) return undefined;
  const revisions = answering.flatMap((s) => (s.revision === undefined ? [] : [s.revision]));
  if (revisions.length === 0) return undefined;
  const highest = Math.max(...revisions);
  if (highest >= newest.revision) return undefined;
  return {
    severity: 'error',
    code: 'data-lost',
    message:
      `etcd has lost data: the members that answer are at store revision ${highest}, the newest verified backup ` +
      `(${new Date(newest.createdAt).toISOString()}) holds revision ${newest.revision} with ${newest.keys} keys. ` +
      'A cluster never goes back in revisions, so etcd started empty or from an older copy (after a total loss, a ' +
      'member on a new disk bootstraps a cluster of its own). First: keep writers away and restore the backup on ' +
      'every member: `lifeboat recover --plan snapshot --force --runbook DIR`.',
  };
}

export function backupFindings(view: BackupsView, now: number): Finding[] {
  if (!view.configured) {
    return [
      {
        severity: 'warning',
        code: 'backups-not-configured',
        message:
          'No backup destination is configured (backups.to in lifeboat.yaml), so doctor cannot tell whether a ' +
          'snapshot exists. Without one, a lost quorum that the members cannot repair means rebuilding the cluster. ' +
          'First: set backups.to (see `lifeboat init`), then `lifeboat backup etcd` and `lifeboat verify --latest`.',
      },
    ];
  }
  const findings: Finding[] = [];
  for (const d of view.destinations.filter((d) => d.error)) {
    findings.push({
      severity: 'warning',
      code: 'backup-store-unreadable',
      message: `Cannot read the backups in ${d.location}: ${d.error}. First: check that it is mounted or reachable.`,
    });
  }
  const read = view.destinations.filter((d) => !d.error);
  const verified = read.map((d) => d.newestVerifiedAt).filter((t): t is number => t !== undefined);
  const newest = verified.length ? Math.max(...verified) : undefined;
  const where = view.destinations.map((d) => d.location).join(', ');
  if (newest === undefined && read.length > 0) {
    const taken = read.reduce((n, d) => n + d.backups, 0);
    findings.push({
      severity: 'error',
      code: 'no-verified-backup',
      message:
        (taken === 0
          ? `No etcd backup at all in ${where}.`
          : `${taken} etcd backup${taken === 1 ? '' : 's'} in ${where}, none proven restorable (no passing restore drill).`) +
        ' If quorum is lost and the members cannot repair it, there is nothing to restore from. ' +
        'First: `lifeboat backup etcd`, then `lifeboat verify --latest`; schedule both with backups.etcd.every and `lifeboat serve`.',
    });
  } else if (newest !== undefined && now - newest > view.maxAgeMs) {
    findings.push({
      severity: 'error',
      code: 'backup-stale',
      message:
        `The newest verified etcd backup is ${formatAge(now - newest)} old (limit ${formatDuration(view.maxAgeMs)}): ` +
        'a restore would lose every change since. First: check that scheduled backups run (`lifeboat serve`, or the ' +
        'backup timer), then `lifeboat backup etcd` and `lifeboat verify --latest`.',
    });
  }
  if (view.destinations.length && view.destinations.every((d) => !isOffNode(d, view.hostIsEtcdMember))) {
    findings.push({
      severity: 'warning',
      code: 'backups-on-cluster-only',
      message:
        `Every backup destination (${where}) is a local directory on this etcd member: losing the machine loses the ` +
        'backups with it. First: add an off-node destination to backups.to (s3://bucket/prefix, or an NFS mount).',
    });
  }
  return findings;
}

const EXIT_BY_STATE: Record<ClusterState, number> = { healthy: 0, degraded: 1, 'quorum-lost': 3, unreachable: 3 };

/** doctor's exit code: etcd's state, raised to 1 by any error finding (a healthy cluster with no backup is not fine). */
export function doctorExitCode(state: ClusterState, findings: Finding[]): number {
  const fromFindings = findings.some((f) => f.severity === 'error') ? 1 : 0;
  return Math.max(EXIT_BY_STATE[state], fromFindings);
}

/** The worst severity among the findings ('info' when there are none). */
export function worstSeverity(findings: Finding[]): Severity {
  if (findings.some((f) => f.severity === 'error')) return 'error';
  if (findings.some((f) => f.severity === 'warning')) return 'warning';
  return 'info';
}
