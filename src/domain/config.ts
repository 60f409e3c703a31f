import { z } from 'zod';
import { alertsConfigSchema } from './alerts.js';
import { parseDuration } from './duration.js';
import { databasesSchema } from './mysql/config.js';
import { parseCalendar } from './schedule/calendar.js';
import { parseCron } from './schedule/cron.js';
import { isKnownTimeZone } from './schedule/tz.js';

/** The lifeboat.yaml schema (DESIGN.md). Strict everywhere: an unknown key is a typo until proven otherwise. */

const duration = z.string().refine((s) => parseDuration(s) !== undefined, {
  message: 'not a duration (examples: 30s, 10m, 1h30m, 7d)',
});

const endpointUrl = z.string().refine(isEndpointUrl, {
  message: 'not an etcd client URL (example: https://10.0.0.11:2379)',
});

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
const timezone = z.string().refine(
  (name) => {
    let valid = zoneValidity.get(name);
    if (valid === undefined) {
      valid = isKnownTimeZone(name);
      zoneValidity.set(name, valid);
    }
    return valid;
  },
  { message: 'not an IANA time zone (examples: UTC, Asia/Tokyo)' },
);

const dayName = z.enum(['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat']);
const clockTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'not a time of day HH:MM (example: 03:00)');

/** A schedule expression checked by its parser, so the error names the field: `invalid minute field "61" (0-59)`. */
function parsedBy(parse: (text: string) => unknown) {
  return z
    .string()
    .min(1)
    .superRefine((text, ctx) => {
      try {
        parse(text);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: err instanceof Error ? err.message : String(err) });
      }
    });
}

/** Reboot entries (`lifeboat check`). timezone defaults to UTC, downtime to 10m. */
const cronReboot = z.strictObject({
  cron: parsedBy(parseCron),
  timezone: timezone.optional(),
  downtime: duration.optional(),
});
const calendarReboot = z.strictObject({
  calendar: parsedBy(parseCalendar),
  timezone: timezone.optional(),
  downtime: duration.optional(),
  randomizedDelay: duration.optional(),
});
/**
 * kured-style window: the node may reboot at any moment between start and end (end <= start runs past midnight).
 * `every` (kured's period) says how often at most; which window is unknown, so every window counts as possible.
 * `period` is accepted as kured's own name for the same thing.
 */
const windowReboot = z.strictObject({
  window: z.strictObject({
    days: z.array(dayName).min(1),
    start: clockTime,
    end: clockTime,
    timezone: timezone.optional(),
  }),
  every: duration.optional(),
  period: duration.optional(),
  downtime: duration.optional(),
});

export const rebootSchema = z.union([cronReboot, calendarReboot, windowReboot]);
export type RebootSpec = z.infer<typeof rebootSchema>;

export const nodeRoleSchema = z.enum(['control-plane', 'etcd', 'worker']);
export type NodeRole = z.infer<typeof nodeRoleSchema>;

/**
 * What `lifeboat agent --node NAME` does on this node (the replacement for a reboot cron job). Reboot is wanted when
 * the sentinel file exists, the sentinel command exits 0, `every` has passed since the last maintenance (inside the
 * window), or an operator asked (`lifeboat maintain request`). The window, when set, bounds every reboot.
 */
const nodeMaintenanceSchema = z.strictObject({
  every: duration.optional(),
  window: z
    .strictObject({
      days: z.array(dayName).min(1),
      start: clockTime,
      end: clockTime,
      timezone: timezone.optional(),
    })
    .optional(),
  sentinel: z.string().min(1).optional(),
  sentinelCommand: z.string().min(1).optional(),
  rebootCommand: z.string().min(1).optional(),
});
export type NodeMaintenanceConfig = z.infer<typeof nodeMaintenanceSchema>;

const nodeSchema = z.strictObject({
  name: z.string().min(1),
  roles: z.array(nodeRoleSchema).min(1),
  /** etcd member name when it differs from the node name. */
  etcdMember: z.string().optional(),
  reboot: z.array(rebootSchema).optional(),
  maintenance: nodeMaintenanceSchema.optional(),
});
export type NodeConfig = z.infer<typeof nodeSchema>;

export const executorSchema = z.enum(['lab', 'systemd', 'kubeadm', 'k3s']);

const etcdSchema = z.strictObject({
  endpoints: z.array(endpointUrl).min(1),
  tls: z
    .strictObject({
      ca: z.string().optional(),
      cert: z.string().optional(),
      key: z.string().optional(),
    })
    .optional(),
  user: z.string().optional(),
  /** Path of a file holding the password (never the password itself in the config). */
  passwordFile: z.string().optional(),
  executor: executorSchema.optional(),
  /** Lab directory, for executor: lab. */
  lab: z.strictObject({ dir: z.string() }).optional(),
});

/**
 * Shape only (the age adapter checks the checksum): catches the classic mistake of pasting the secret key, which
 * must never sit in lifeboat.yaml.
 */
const ageRecipient = z
  .string()
  .refine((s) => !s.startsWith('AGE-SECRET-KEY-'), {
    message: 'this is an age SECRET key; put its public key here (age-keygen -y KEYFILE prints it)',
  })
  .refine((s) => s.startsWith('AGE-SECRET-KEY-') || /^age1[0-9a-z]{20,}$/.test(s), {
    message: 'not an age recipient (age1..., as printed by age-keygen)',
  });

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

const backupsSchema = z.strictObject({
  to: z.array(z.string().min(1)).min(1),
  etcd: z
    .strictObject({
      every: duration.optional(),
      /** With a schedule: run the restore drill after every Nth backup (0 = never; default 1). */
      verifyEvery: z.number().int().nonnegative().optional(),
    })
    .optional(),
  retention: z
    .strictObject({
      keepLast: z.number().int().nonnegative().optional(),
      hourly: z.number().int().nonnegative().optional(),
      daily: z.number().int().nonnegative().optional(),
      weekly: z.number().int().nonnegative().optional(),
      monthly: z.number().int().nonnegative().optional(),
    })
    .optional(),
  /** Whole-release Helm captures scheduled by `lifeboat serve` (`lifeboat backup helm` runs them by hand). */
  helm: z.strictObject({ every: duration.optional() }).optional(),
  encryption: z.strictObject({ recipients: z.array(ageRecipient).min(1) }).optional(),
  /** How to reach s3:// destinations in `to`. Credentials: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or this file. */
  s3: z
    .strictObject({
      endpoint: z
        .string()
        .refine(isHttpUrl, { message: 'not an http(s) URL (example: http://minio.local:9000)' })
        .optional(),
      region: z.string().min(1).optional(),
      forcePathStyle: z.boolean().optional(),
      /** AWS-format credentials file (never the keys themselves in lifeboat.yaml). */
      credentialsFile: z.string().min(1).optional(),
    })
    .optional(),
});

const maintenanceSchema = z.strictObject({
  lock: z.enum(['etcd', 'kubernetes']).optional(),
  /** Kubernetes namespace of the Lease lock (lock: kubernetes); default lifeboat. */
  namespace: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, { message: 'not a Kubernetes namespace name (example: lifeboat)' })
    .optional(),
  settle: duration.optional(),
  maxRaftLag: z.number().int().nonnegative().optional(),
  requireVerifiedBackupWithin: duration.optional(),
  maxConcurrentWorkers: z.number().int().positive().optional(),
  /** What a missing or stale verified backup does before an etcd member goes down (default block). */
  onStaleBackup: z.enum(['block', 'warn']).optional(),
  /** Lock TTL: must outlast a reboot; the lock frees itself this long after its holder stops renewing. */
  ttl: duration.optional(),
  /** How often agents look at their node and the cluster. */
  pollInterval: duration.optional(),
  /** Defaults for every node (a node's own `maintenance` wins). */
  sentinel: z.string().min(1).optional(),
  sentinelCommand: z.string().min(1).optional(),
  rebootCommand: z.string().min(1).optional(),
});

export const configSchema = z
  .strictObject({
    cluster: z.strictObject({ name: z.string().min(1) }).optional(),
    etcd: etcdSchema.optional(),
    nodes: z.array(nodeSchema).optional(),
    backups: backupsSchema.optional(),
    maintenance: maintenanceSchema.optional(),
    /** Webhook notifications from `lifeboat serve` (src/domain/alerts.ts). */
    alerts: alertsConfigSchema.optional(),
    /** MySQL/MariaDB databases to dump (src/domain/mysql/config.ts). */
    databases: databasesSchema.optional(),
  })
  .superRefine((config, ctx) => {
    const seen = new Set<string>();
    config.nodes?.forEach((node, i) => {
      if (seen.has(node.name)) {
        ctx.addIssue({ code: 'custom', path: ['nodes', i, 'name'], message: `duplicate node name "${node.name}"` });
      }
      seen.add(node.name);
    });
  });

export type LifeboatConfig = z.infer<typeof configSchema>;
