import type { RebootSource } from '../domain/schedule/check.js';
import { parseCrontab } from '../domain/schedule/crontab.js';
import type { CheckFinding } from '../domain/schedule/findings.js';
import { planText } from '../domain/schedule/inventory.js';
import type { RebootPlan } from '../domain/schedule/occurrences.js';
import { parseTimerUnit } from '../domain/schedule/timer.js';
import { SourceLineError } from '../domain/schedule/types.js';
import { UserError } from '../errors.js';
import { readInputFile } from './host/input-file.js';

/**
 * Reads the reboot schedules people really have: crontab files (user crontabs, /etc/crontab, /etc/cron.d) and
 * systemd .timer units, for one node each. Problems that stop the check are one-line UserErrors naming file:line;
 * lines that are not understood become findings, never silently dropped.
 */
export interface Imported {
  sources: RebootSource[];
  notes: CheckFinding[];
}

/**
 * Bounds on what one file may hold. Real crontabs and timer units are a few KiB with a handful of reboot lines; a
 * 200k-line file (a log given by mistake, a generator gone wrong) overflowed the stack and would take minutes to
 * simulate. Past these it is refused with one line; unrecognised lines are reported up to a count, then summed up.
 */
export const SCHEDULE_FILE_MAX_BYTES = 1024 * 1024;
export const REBOOT_LINES_MAX = 200;
const UNRECOGNISED_SHOWN = 20;

function read(path: string, what: string): string {
  return readInputFile(path, what, { maxBytes: SCHEDULE_FILE_MAX_BYTES }).toString('utf8');
}

function atLine<T>(path: string, body: () => T): T {
  try {
    return body();
  } catch (err) {
    if (err instanceof SourceLineError) throw new UserError(`${path}:${err.line}: ${err.message}`);
    throw err;
  }
}

function note(severity: CheckFinding['severity'], code: string, node: string, message: string): CheckFinding {
  return { severity, code, nodes: [node], first: null, occurrences: 0, message, sources: [] };
}

export function readCrontabFile(node: string, path: string, timezone: string, downtimeMs: number): Imported {
  const lines = atLine(path, () => parseCrontab(read(path, 'crontab'), timezone));
  const sources: RebootSource[] = [];
  const notes: CheckFinding[] = [];
  const jobs: number[] = [];
  let unrecognised = 0;
  for (const l of lines) {
    if (l.kind === 'reboot') {
      const plan: RebootPlan = {
        kind: 'cron',
        cron: l.cron,
        timezone: l.timezone,
        downtimeMs,
        offsetMs: l.offsetMs,
        jitterMs: l.jitterMs,
      };
      sources.push({ node, origin: `${path}:${l.line}`, text: `${l.text.trim()}  (${planText(plan)})`, plan });
    } else if (l.kind === 'unrecognised') {
      if (++unrecognised > UNRECOGNISED_SHOWN) continue;
      notes.push(note('warning', 'unrecognised-line', node, `${path}:${l.line}: ${l.reason}: "${l.text.trim()}"`));
    } else if (l.kind === 'power-off') {
      notes.push(
        note(
          'warning',
          'power-off',
          node,
          `${path}:${l.line}: "${l.command}" powers ${node} off instead of rebooting it: it stays down until ` +
            'someone starts it again (not simulated).',
        ),
      );
    } else if (l.kind === 'job') jobs.push(l.line);
  }
  if (sources.length > REBOOT_LINES_MAX) {
    throw new UserError(
      `${path}: ${sources.length} reboot lines; a schedule has at most ${REBOOT_LINES_MAX}`,
      `is ${path} really ${node}'s crontab?`,
    );
  }
  if (unrecognised > UNRECOGNISED_SHOWN) {
    const more = unrecognised - UNRECOGNISED_SHOWN;
    notes.push(note('warning', 'unrecognised-line', node, `${path}: ${more} more lines not understood (not shown).`));
  }
  if (jobs.length > 0) {
    const which = jobs.length > 8 ? `${jobs.slice(0, 8).join(', ')}...` : jobs.join(', ');
    const what = jobs.length === 1 ? `line ${which} is a job that does not` : `lines ${which} are jobs that do not`;
    notes.push(note('info', 'not-a-reboot', node, `${path}: ${what} reboot; ignored.`));
  }
  if (sources.length === 0) {
    notes.push(
      note(
        'warning',
        'no-reboot-lines',
        node,
        `${path}: no line reboots the machine (looked for reboot, shutdown -r, systemctl reboot, init 6).`,
      ),
    );
  }
  return { sources, notes };
}

export function readTimerFile(node: string, path: string, timezone: string, downtimeMs: number): Imported {
  const unit = atLine(path, () => parseTimerUnit(read(path, 'timer')));
  if (unit.calendars.length === 0) {
    throw new UserError(`${path}: no OnCalendar= in the [Timer] section`, 'only calendar timers can be checked');
  }
  if (unit.calendars.length > REBOOT_LINES_MAX) {
    throw new UserError(
      `${path}: ${unit.calendars.length} OnCalendar= lines; a schedule has at most ${REBOOT_LINES_MAX}`,
    );
  }
  const sources: RebootSource[] = unit.calendars.map(({ line, expr }) => {
    const plan: RebootPlan = {
      kind: 'calendar',
      calendar: expr,
      timezone: expr.timezone ?? timezone,
      downtimeMs,
      jitterMs: unit.jitterMs,
    };
    return { node, origin: `${path}:${line}`, text: planText(plan), plan };
  });
  const notes = unit.notes.map((n) =>
    note('warning', 'unrecognised-line', node, `${path}:${n.line}: ${n.reason}: "${n.text}"`),
  );
  return { sources, notes };
}
