import { z } from 'zod';
import { parseDuration } from './duration.js';

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

const timezone = z.string().refine(isTimeZone, { message: 'not an IANA time zone (examples: UTC, Asia/Tokyo)' });

export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

const dayName = z.enum(['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat']);
const clockTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'not a time of day HH:MM (example: 03:00)');

const cronReboot = z.strictObject({
  cron: z.string().min(1),
  timezone: timezone.optional(),
  downtime: duration.optional(),
});
const calendarReboot = z.strictObject({
  calendar: z.string().min(1),
  timezone: timezone.optional(),
  downtime: duration.optional(),
  randomizedDelay: duration.optional(),
});
const windowReboot = z.strictObject({
  window: z.strictObject({
    days: z.array(dayName).min(1),
    start: clockTime,
    end: clockTime,
    timezone: timezone.optional(),
  }),
  every: duration.optional(),
  downtime: duration.optional(),
});

export const rebootSchema = z.union([cronReboot, calendarReboot, windowReboot]);
export type RebootSpec = z.infer<typeof rebootSchema>;

export const nodeRoleSchema = z.enum(['control-plane', 'etcd', 'worker']);
export type NodeRole = z.infer<typeof nodeRoleSchema>;

const nodeSchema = z.strictObject({
  name: z.string().min(1),
  roles: z.array(nodeRoleSchema).min(1),
  /** etcd member name when it differs from the node name. */
  etcdMember: z.string().optional(),
  reboot: z.array(rebootSchema).optional(),
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

const backupsSchema = z.strictObject({
  to: z.array(z.string().min(1)).min(1),
  etcd: z.strictObject({ every: duration.optional() }).optional(),
  retention: z
    .strictObject({
      keepLast: z.number().int().nonnegative().optional(),
      hourly: z.number().int().nonnegative().optional(),
      daily: z.number().int().nonnegative().optional(),
      weekly: z.number().int().nonnegative().optional(),
      monthly: z.number().int().nonnegative().optional(),
    })
    .optional(),
  encryption: z.strictObject({ recipients: z.array(z.string().min(1)).min(1) }).optional(),
});

const maintenanceSchema = z.strictObject({
  lock: z.enum(['etcd', 'kubernetes']).optional(),
  settle: duration.optional(),
  maxRaftLag: z.number().int().nonnegative().optional(),
  requireVerifiedBackupWithin: duration.optional(),
  maxConcurrentWorkers: z.number().int().positive().optional(),
});

export const configSchema = z
  .strictObject({
    cluster: z.strictObject({ name: z.string().min(1) }).optional(),
    etcd: etcdSchema.optional(),
    nodes: z.array(nodeSchema).optional(),
    backups: backupsSchema.optional(),
    maintenance: maintenanceSchema.optional(),
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
