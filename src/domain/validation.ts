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

/** A number of backups, days, runs: a whole number, 0 or more. */
export const count = v.pipe(v.number(), v.integer(), v.minValue(0));

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
export const everyText = boundedDuration(EVERY_LIMITS.min, EVERY_LIMITS.max);
