import * as v from 'valibot';
import { alertsConfigSchema } from './alerts.js';
import { databasesSchema, mysqlToolsSchema } from './mysql/config.js';
import { parseCalendar } from './schedule/calendar.js';
import { parseCron } from './schedule/cron.js';
import { isKnownTimeZone } from './schedule/tz.js';
import {
  boundedDuration,
  COUNT_MAX,
  count,
  DURATION_LIMITS,
  downtimeText,
  everyText,
  isHttpUrl,
  issuePath,
  kubeNamespace,
  limitedDuration,
  nonEmptyString,
  printableName,
  retentionPolicy,
} from './validation.js';

/**
 * The lifeboat.yaml schema (every key explained in docs/CONFIG.md, from src/domain/config-docs.ts: a new key needs
 * its words there). Strict everywhere: an unknown key is a typo until proven otherwise.
 */

const endpointUrl = v.pipe(
  v.string(),
  v.check(isEndpointUrl, 'not an etcd client URL (example: https://10.0.0.11:2379)'),
);

export function isEndpointUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '' && url.pathname === '/';
  } catch {
    return false;
  }
}

/**
 * Zone names of reboot entries, checked against the installed zone rules source (the system's tz files in the CLI),
 * else Intl. Memoised: 5,000 nodes share a handful of zones.
 */
const zoneValidity = new Map<string, boolean>();
const timezone = v.pipe(
  v.string(),
  v.check((name) => {
    let valid = zoneValidity.get(name);
    if (valid === undefined) {
      valid = isKnownTimeZone(name);
      zoneValidity.set(name, valid);
    }
    return valid;
  }, 'not an IANA time zone (examples: UTC, Asia/Tokyo)'),
);

const dayName = v.picklist(['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat']);
const clockTime = v.pipe(v.string(), v.regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'not a time of day HH:MM (example: 03:00)'));
/** An array of at least one item. */
function someOf<T extends v.GenericSchema>(item: T) {
  return v.pipe(v.array(item), v.minLength(1));
}

/** A schedule expression checked by its parser, so the error names the field: `invalid minute field "61" (0-59)`. */
function parsedBy(parse: (text: string) => unknown) {
  return v.pipe(
    v.string(),
    v.minLength(1),
    v.rawCheck(({ dataset, addIssue }) => {
      if (!dataset.typed) return;
      try {
        parse(dataset.value);
      } catch (err) {
        addIssue({ message: err instanceof Error ? err.message : String(err) });
      }
    }),
  );
}

/** Reboot entries (`lifeboat check`). timezone defaults to UTC, downtime to 10m. */
const cronReboot = v.strictObject({
  cron: parsedBy(parseCron),
  timezone: v.optional(timezone),
  downtime: v.optional(downtimeText),
});
const calendarReboot = v.strictObject({
  calendar: parsedBy(parseCalendar),
  timezone: v.optional(timezone),
  downtime: v.optional(downtimeText),
  randomizedDelay: v.optional(downtimeText),
});
/**
 * kured-style window: the node may reboot at any moment between start and end (end <= start runs past midnight).
 * `every` (kured's period) says how often at most; which window is unknown, so every window counts as possible.
 * `period` is accepted as kured's own name for the same thing.
 */
const rebootWindow = v.strictObject({
  days: someOf(dayName),
  start: clockTime,
  end: clockTime,
  timezone: v.optional(timezone),
});
const period = limitedDuration(DURATION_LIMITS.period);
const windowReboot = v.strictObject({
  window: rebootWindow,
  every: v.optional(period),
  period: v.optional(period),
  downtime: v.optional(downtimeText),
});

export const rebootSchema = v.union([cronReboot, calendarReboot, windowReboot]);
export type RebootSpec = v.InferOutput<typeof rebootSchema>;

export const nodeRoleSchema = v.picklist(['control-plane', 'etcd', 'worker']);

/**
 * What `lifeboat agent --node NAME` does on this node (the replacement for a reboot cron job). Reboot is wanted when
 * the sentinel file exists, the sentinel command exits 0, `every` has passed since the last maintenance (inside the
 * window), or an operator asked (`lifeboat maintain request`). The window, when set, bounds every reboot.
 */
const nodeMaintenanceSchema = v.strictObject({
  every: v.optional(period),
  window: v.optional(rebootWindow),
  sentinel: v.optional(nonEmptyString),
  sentinelCommand: v.optional(nonEmptyString),
  rebootCommand: v.optional(nonEmptyString),
});
export type NodeMaintenanceConfig = v.InferOutput<typeof nodeMaintenanceSchema>;

const nodeSchema = v.strictObject({
  name: printableName,
  roles: someOf(nodeRoleSchema),
  /** etcd member name when it differs from the node name. */
  etcdMember: v.optional(printableName),
  reboot: v.optional(v.array(rebootSchema)),
  maintenance: v.optional(nodeMaintenanceSchema),
});

export const executorSchema = v.picklist(['lab', 'systemd', 'kubeadm', 'k3s']);

const etcdSchema = v.strictObject({
  endpoints: someOf(endpointUrl),
  tls: v.optional(
    v.strictObject({
      ca: v.optional(v.string()),
      cert: v.optional(v.string()),
      key: v.optional(v.string()),
    }),
  ),
  user: v.optional(v.string()),
  /** Path of a file holding the password (never the password itself in the config). */
  passwordFile: v.optional(v.string()),
  executor: v.optional(executorSchema),
  /** Lab directory, for executor: lab. */
  lab: v.optional(v.strictObject({ dir: v.string() })),
});

/**
 * Shape only (the age adapter checks the checksum): catches the classic mistake of pasting the secret key, which
 * must never sit in lifeboat.yaml.
 */
const ageRecipient = v.pipe(
  v.string(),
  v.check(
    (s) => !s.startsWith('AGE-SECRET-KEY-'),
    'this is an age SECRET key; put its public key here (age-keygen -y KEYFILE prints it)',
  ),
  v.check(
    (s) => s.startsWith('AGE-SECRET-KEY-') || /^age1[0-9a-z]{20,}$/.test(s),
    'not an age recipient (age1..., as printed by age-keygen)',
  ),
);

const backupsSchema = v.strictObject({
  to: someOf(nonEmptyString),
  etcd: v.optional(
    v.strictObject({
      every: v.optional(everyText),
      /** With a schedule: run the restore drill after every Nth backup (0 = never; default 1). */
      verifyEvery: v.optional(count),
      /** `serve` (and `backup etcd --follow`) keeps the change log for point-in-time restore (ADR 010). */
      follow: v.optional(v.boolean()),
      /** How often the follower makes new revisions durable: the RPO (default 1s). */
      followEvery: v.optional(limitedDuration(DURATION_LIMITS.followEvery)),
      /** How far back point-in-time restore reaches: retention keeps every point of this window (default 7d). */
      followKeep: v.optional(period),
    }),
  ),
  /** GFS retention of the etcd snapshots (MySQL dumps and Helm captures have their own; without one, all are kept). */
  retention: v.optional(retentionPolicy),
  /** Whole-release Helm captures scheduled by `lifeboat serve` (`lifeboat backup helm` runs them by hand). */
  helm: v.optional(v.strictObject({ every: v.optional(everyText), retention: v.optional(retentionPolicy) })),
  encryption: v.optional(v.strictObject({ recipients: someOf(ageRecipient) })),
  /** How to reach s3:// destinations in `to`. Credentials: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or this file. */
  s3: v.optional(
    v.strictObject({
      endpoint: v.optional(
        v.pipe(v.string(), v.check(isHttpUrl, 'not an http(s) URL (example: http://minio.local:9000)')),
      ),
      region: v.optional(nonEmptyString),
      forcePathStyle: v.optional(v.boolean()),
      /** AWS-format credentials file (never the keys themselves in lifeboat.yaml). */
      credentialsFile: v.optional(nonEmptyString),
      /** Deadline for each S3 request to make progress (connect, every part, every download); default 30s. */
      timeout: v.optional(boundedDuration(1_000, 3_600_000)),
    }),
  ),
});

const maintenanceSchema = v.strictObject({
  lock: v.optional(v.picklist(['etcd', 'kubernetes'])),
  /** Kubernetes namespace of the Lease lock (lock: kubernetes); default lifeboat. */
  namespace: v.optional(kubeNamespace),
  settle: v.optional(limitedDuration(DURATION_LIMITS.settle)),
  maxRaftLag: v.optional(count),
  requireVerifiedBackupWithin: v.optional(period),
  maxConcurrentWorkers: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(COUNT_MAX))),
  /** What a missing or stale verified backup does before an etcd member goes down (default block). */
  onStaleBackup: v.optional(v.picklist(['block', 'warn'])),
  /** Lock TTL: must outlast a reboot; the lock frees itself this long after its holder stops renewing. */
  ttl: v.optional(limitedDuration(DURATION_LIMITS.ttl)),
  /** How often agents look at their node and the cluster. */
  pollInterval: v.optional(limitedDuration(DURATION_LIMITS.poll)),
  /** Defaults for every node (a node's own `maintenance` wins). */
  sentinel: v.optional(nonEmptyString),
  sentinelCommand: v.optional(nonEmptyString),
  rebootCommand: v.optional(nonEmptyString),
});

export const configSchema = v.pipe(
  v.strictObject({
    cluster: v.optional(v.strictObject({ name: printableName })),
    etcd: v.optional(etcdSchema),
    nodes: v.optional(v.array(nodeSchema)),
    backups: v.optional(backupsSchema),
    maintenance: v.optional(maintenanceSchema),
    /** Webhook notifications from `lifeboat serve` (src/domain/alerts.ts). */
    alerts: v.optional(alertsConfigSchema),
    /** MySQL/MariaDB databases to dump (src/domain/mysql/config.ts). */
    databases: v.optional(databasesSchema),
    /** MySQL/MariaDB programs by path, when not the ones on PATH (src/domain/mysql/config.ts). */
    mysqlTools: v.optional(mysqlToolsSchema),
  }),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const seen = new Set<string>();
    dataset.value.nodes?.forEach((node, i) => {
      if (seen.has(node.name)) {
        addIssue({ message: `duplicate node name "${node.name}"`, path: issuePath(['nodes', i, 'name']) });
      }
      seen.add(node.name);
    });
  }),
);

export type LifeboatConfig = v.InferOutput<typeof configSchema>;
