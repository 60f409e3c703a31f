import * as v from 'valibot';
import { formatDuration, parseDuration } from './duration.js';
import { keepsNothing } from './retention.js';

/**
 * Small glue around valibot, the schema library of lifeboat.yaml, manifests and maintenance records (ADR 008 says
 * why valibot: every command starts ~35 ms sooner than with zod).
 */

/** Issue path for an issue a whole-document check adds (`nodes[3].name`): only the keys are ever read back. */
export function issuePath(
  keys: readonly [string | number, ...(string | number)[]],
): [v.UnknownPathItem, ...v.UnknownPathItem[]] {
  const [first, ...rest] = keys.map(
    (key): v.UnknownPathItem => ({ type: 'unknown', origin: 'value', input: undefined, key, value: undefined }),
  );
  return [first!, ...rest];
}

/** The keys along an issue's path: `['nodes', 0, 'reboot', 1, 'cron']`. */
export function issueKeys(issue: v.BaseIssue<unknown>): (string | number)[] {
  return (issue.path ?? []).map((item) => item.key as string | number);
}

/** `verified.at: Invalid type: Expected string but received 3` for the first issue. */
export function describeFirstIssue(issues: readonly [v.BaseIssue<unknown>, ...v.BaseIssue<unknown>[]]): string {
  const issue = issues[0];
  return `${issueKeys(issue).join('.') || '(top)'}: ${issue.message}`;
}

/** JSON text checked against a schema: the value, or a one-line reason (`not valid JSON`, `keys: Invalid type: ...`). */
export function parseJson<S extends v.GenericSchema>(
  schema: S,
  text: string,
): { value: v.InferOutput<S> } | { error: string } {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return { error: 'not valid JSON' };
  }
  const result = v.safeParse(schema, data);
  return result.success ? { value: result.output } : { error: describeFirstIssue(result.issues) };
}

/** An http(s) URL with a host (webhooks, S3 endpoints). */
export function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

export const nonEmptyString = v.pipe(v.string(), v.minLength(1));

/** A name shown on pages, in alerts and lines (a cluster, a node): no control characters, which would garble them. */
export const printableName = v.pipe(
  nonEmptyString,
  v.check((s) => !/[\u0000-\u001f\u007f-\u009f]/.test(s), 'control characters in a name'),
);

/** Kubernetes object names, as the API server checks them: a wrong one is found at load, not at the first GET. */
export const kubeNamespace = v.pipe(
  v.string(),
  v.regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'not a Kubernetes namespace name (example: lifeboat)'),
);
export const kubeName = v.pipe(
  v.string(),
  v.regex(/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/, 'not a Kubernetes object name (example: shop-mysql)'),
);
/** A key of a Secret's data. */
export const kubeDataKey = v.pipe(
  v.string(),
  v.regex(/^[-._a-zA-Z0-9]{1,253}$/, 'not a Secret key (letters, digits, "-", "_" and "." only)'),
);

/** `30s`, `10m`, `1h30m`, `7d`. */
export const durationText = v.pipe(
  v.string(),
  v.check((s) => parseDuration(s) !== undefined, 'not a duration (examples: 30s, 10m, 1h30m, 7d)'),
);

/** A duration between `min` and `max` milliseconds (deadlines, intervals: a value outside makes no sense). */
export function boundedDuration(min: number, max: number) {
  return v.pipe(
    durationText,
    v.check(
      (s) => {
        const ms = parseDuration(s)!;
        return ms >= min && ms <= max;
      },
      `out of range: between ${formatDuration(min)} and ${formatDuration(max)}`,
    ),
  );
}

/**
 * A number of backups, days, runs: a whole number, 0 or more. Bounded: 1e300 is a whole number to JavaScript, and
 * a count past a billion is a typo, not a policy.
 */
export const COUNT_MAX = 1_000_000_000;
export const count = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(COUNT_MAX));

/**
 * Grandfather-father-son retention (src/domain/retention.ts): how many of the newest, hourly, daily... to keep. A
 * policy whose every rule is 0 would keep nothing: refused here, so it never reaches a prune.
 */
export const retentionPolicy = v.pipe(
  v.strictObject({
    keepLast: v.optional(count),
    hourly: v.optional(count),
    daily: v.optional(count),
    weekly: v.optional(count),
    monthly: v.optional(count),
  }),
  v.check(
    (policy) => !keepsNothing(policy),
    'this policy keeps no backup at all: give at least one rule a count of 1 or more (example: { keepLast: 24 }), or remove it to keep every backup',
  ),
);

/** How long a node may be down per reboot: past a week it is not a reboot (and the schedule sweep would not end). */
export const DOWNTIME_LIMITS = { min: 1_000, max: 7 * 86_400_000 } as const;
/** How often a scheduled backup may run: a second at least (labs and tests run that fast), a year at most. */
export const EVERY_LIMITS = { min: 1_000, max: 366 * 86_400_000 } as const;
export const downtimeText = boundedDuration(DOWNTIME_LIMITS.min, DOWNTIME_LIMITS.max);

/**
 * Bounds of the other durations people type. A timer past 2^31 ms (24.8 days) fires at once in Node, so an
 * unbounded poll interval or TTL of 999999999h meant a tight loop; the rest are periods and windows where a value
 * past ten years is a typo. Each is `{ min, max }` in ms.
 */
export const DURATION_LIMITS = {
  /** How often an agent looks (maintenance.pollInterval, agent --poll). */
  poll: { min: 50, max: 3_600_000 },
  /** The maintenance lock's TTL: etcd's minimum lease, to a week. */
  ttl: { min: 2_000, max: 7 * 86_400_000 },
  /** Wait after a node is back before the next one goes. */
  settle: { min: 0, max: 86_400_000 },
  /** How often serve probes etcd (serve --probe-interval). */
  probeInterval: { min: 100, max: 3_600_000 },
  /** How long one probe may take (serve --probe-timeout). */
  probeTimeout: { min: 100, max: 60_000 },
  /** How often the change-log follower makes revisions durable (its RPO). */
  followEvery: { min: 50, max: 60_000 },
  /** Periods and windows: a reboot every N, a backup no older than N, a point-in-time window. */
  period: { min: 1_000, max: 3660 * 86_400_000 },
} as const;

export function limitedDuration(limits: { min: number; max: number }) {
  return boundedDuration(limits.min, limits.max);
}
export const everyText = boundedDuration(EVERY_LIMITS.min, EVERY_LIMITS.max);
