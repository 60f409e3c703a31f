import { type CronExpr, parseCron } from './cron.js';
import { classifyCommand } from './reboot-command.js';
import { ScheduleSyntaxError, SourceLineError } from './types.js';
import { isKnownTimeZone } from './tz.js';

/**
 * Crontab text as cron reads it: user crontabs (`MIN HOUR DOM MON DOW command`) and /etc/crontab or /etc/cron.d
 * lines with a user field (`... DOW user command`), environment lines, comments, @keywords. `CRON_TZ=Zone` (cronie)
 * sets the zone of the lines after it. Every line is classified; nothing is dropped silently.
 */
export type CrontabLine =
  | { line: number; text: string; kind: 'blank' | 'comment' | 'env' }
  | {
      line: number;
      text: string;
      kind: 'reboot';
      cron: CronExpr;
      timezone: string;
      offsetMs: number;
      jitterMs: number;
      user?: string;
      command: string;
    }
  | { line: number; text: string; kind: 'job' | 'power-off'; command: string }
  | { line: number; text: string; kind: 'unrecognised'; reason: string };

const FIELD_TOKEN = /^[0-9*,/\-A-Za-z]+$/;
const USER = /^[a-z_][a-z0-9_.-]*\$?$/;

export function parseCrontab(text: string, defaultTimezone: string): CrontabLine[] {
  let timezone = defaultTimezone;
  return text.split(/\r?\n/).map((raw, index): CrontabLine => {
    const line = index + 1;
    const trimmed = raw.trim();
    if (trimmed === '') return { line, text: raw, kind: 'blank' };
    if (trimmed.startsWith('#')) return { line, text: raw, kind: 'comment' };
    const env = /^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(trimmed);
    if (env) {
      if (env[1] === 'CRON_TZ') {
        const zone = env[2]!.replace(/^["']|["']$/g, '').trim();
        if (!isKnownTimeZone(zone)) {
          throw new SourceLineError(line, `unknown time zone "${zone}" in CRON_TZ (examples: UTC, Europe/Berlin)`);
        }
        timezone = zone;
      }
      return { line, text: raw, kind: 'env' };
    }
    const tokens = trimmed.split(/\s+/);
    const nFields = tokens[0]!.startsWith('@') ? 1 : 5;
    const fieldTokens = tokens.slice(0, nFields);
    const rest = tokens.slice(nFields);
    if (fieldTokens.length < nFields || (nFields === 5 && !fieldTokens.every((t) => FIELD_TOKEN.test(t)))) {
      return { line, text: raw, kind: 'unrecognised', reason: 'not a cron line (5 time fields, then a command)' };
    }
    if (rest.length === 0) return { line, text: raw, kind: 'unrecognised', reason: 'no command after the schedule' };
    const scheduleText = fieldTokens.join(' ');
    // With or without a user field: whichever reading makes the command a reboot (or a power-off) wins.
    let user: string | undefined;
    let command = rest.join(' ');
    let kind = classifyCommand(command);
    if (kind.kind === 'other' && rest.length > 1 && USER.test(rest[0]!)) {
      const withUser = classifyCommand(rest.slice(1).join(' '));
      if (withUser.kind !== 'other') {
        user = rest[0];
        command = rest.slice(1).join(' ');
        kind = withUser;
      }
    }
    let cron: CronExpr;
    try {
      cron = parseCron(scheduleText);
    } catch (err) {
      if (!(err instanceof ScheduleSyntaxError)) throw err;
      if (kind.kind === 'other') return { line, text: raw, kind: 'unrecognised', reason: err.message };
      throw new SourceLineError(line, err.message);
    }
    if (kind.kind === 'reboot') {
      return {
        line,
        text: raw,
        kind: 'reboot',
        cron,
        timezone,
        offsetMs: kind.offsetMs,
        jitterMs: kind.jitterMs,
        user,
        command,
      };
    }
    return { line, text: raw, kind: kind.kind === 'power-off' ? 'power-off' : 'job', command };
  });
}
