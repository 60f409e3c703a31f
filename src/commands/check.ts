import { isAbsolute, relative } from 'node:path';
import type { Command } from 'commander';
import { type Imported, readCrontabFile, readTimerFile } from '../adapters/crontab.js';
import { parseDuration } from '../domain/duration.js';
import { parseCommonIso } from '../domain/iso-time.js';
import { type CheckInput, runCheck } from '../domain/schedule/check.js';
import { configInventory } from '../domain/schedule/inventory.js';
import { suggestSchedule } from '../domain/schedule/suggest.js';
import { DAY } from '../domain/schedule/types.js';
import { isKnownTimeZone } from '../domain/schedule/tz.js';
import { DOWNTIME_LIMITS } from '../domain/validation.js';
import { UserError } from '../errors.js';
import { renderReport, reportJson } from '../render/check.js';
import { action, collect, wholeNumber } from './context.js';

interface CheckOptions {
  from?: string;
  days: string;
  suggest?: boolean;
  crontab: string[];
  timer: string[];
  timezone: string;
  downtime: string;
}

const DEFAULT_SETTLE_MS = 5 * 60_000;

export function registerCheck(program: Command): void {
  program
    .command('check')
    .description('simulate every planned reboot against etcd quorum and report the moments it breaks')
    .option('--from <iso>', 'start of the simulated horizon, ISO-8601 (default: now)')
    .option('--days <n>', 'length of the horizon in days, 1..3660', '366')
    .option('--suggest', 'propose cron lines that keep every etcd member on its own slot (the proposal passes check)')
    .option(
      '--crontab <node=file>',
      "also read a node's crontab (user, /etc/crontab or cron.d format); repeatable",
      collect,
      [],
    )
    .option(
      '--timer <node=file>',
      "also read a node's systemd .timer (OnCalendar=, RandomizedDelaySec=); repeatable",
      collect,
      [],
    )
    .option('--timezone <zone>', 'IANA time zone of the machines whose crontabs/timers are imported', 'UTC')
    .option('--downtime <duration>', 'how long a node is gone per imported reboot', '10m')
    .addHelpText(
      'after',
      `
Examples:
  lifeboat -c examples/incident.yaml check
  lifeboat -c lifeboat.yaml check --crontab cp1=/etc/cron.d/reboot --crontab cp2=./cp2.crontab --timezone Europe/Berlin
  lifeboat -c lifeboat.yaml check --timer w1=/etc/systemd/system/reboot.timer --days 30
  lifeboat -c examples/incident.yaml check --suggest
  lifeboat -c lifeboat.yaml --json check --from 2026-01-05T00:00:00Z   (CI: exit 1 when quorum can be lost)

Nodes and roles come from lifeboat.yaml (roles: etcd = voting member, worker = runs pods); reboot entries there
(cron / calendar / window) are checked together with imported files.
Exit codes: 0 no error finding, 1 an error finding (quorum loss, boot loop), 2 bad input.`,
    )
    .action(
      action<CheckOptions>(async (ctx, opts) => {
        const from = await parseFrom(opts.from);
        const days = wholeNumber(opts.days);
        if (days === undefined || days < 1 || days > 3660) {
          throw new UserError(`invalid --days "${opts.days}" (a whole number of days, 1..3660)`);
        }
        if (!isKnownTimeZone(opts.timezone)) {
          throw new UserError(`unknown time zone "${opts.timezone}" in --timezone`, 'examples: UTC, Europe/Berlin');
        }
        const downtimeMs = parseDuration(opts.downtime);
        if (downtimeMs === undefined || downtimeMs < DOWNTIME_LIMITS.min || downtimeMs > DOWNTIME_LIMITS.max) {
          throw new UserError(`invalid --downtime "${opts.downtime}" (between 1s and 7d; examples: 10m, 1h)`);
        }
        const loaded = ctx.config();
        if (!loaded?.config.nodes?.length) {
          const where = loaded ? `${loaded.path} has no nodes` : 'no lifeboat.yaml found';
          throw new UserError(
            `nothing to check: ${where}`,
            'pass -c FILE listing nodes with roles; see examples/incident.yaml',
          );
        }
        const inventory = configInventory(loaded.config, displayPath(loaded.path));
        const input: CheckInput = { ...inventory, from, to: from + days * DAY, notes: [] };
        const names = inventory.nodes.map((n) => n.name);
        const imports: [string, string, typeof readCrontabFile][] = [
          ...opts.crontab.map((s): [string, string, typeof readCrontabFile] => [s, '--crontab', readCrontabFile]),
          ...opts.timer.map((s): [string, string, typeof readTimerFile] => [s, '--timer', readTimerFile]),
        ];
        for (const [spec, flag, reader] of imports) {
          const eq = spec.indexOf('=');
          const node = spec.slice(0, eq);
          const file = spec.slice(eq + 1);
          if (eq <= 0 || file === '')
            throw new UserError(`invalid ${flag} "${spec}" (NODE=FILE, e.g. cp1=./cp1.crontab)`);
          if (!names.includes(node)) {
            throw new UserError(
              `${flag} ${spec}: unknown node "${node}"`,
              `nodes in ${loaded.path}: ${names.join(', ')}`,
            );
          }
          const imported: Imported = reader(node, file, opts.timezone, downtimeMs);
          input.sources.push(...imported.sources);
          input.notes!.push(...imported.notes);
        }

        const result = runCheck(input);
        const settle = loaded.config.maintenance?.settle;
        const settleMs = settle ? (parseDuration(settle) ?? DEFAULT_SETTLE_MS) : DEFAULT_SETTLE_MS;
        const suggestion = opts.suggest ? suggestSchedule(input, settleMs) : undefined;
        if (ctx.out.json) ctx.out.printJson(reportJson(result, suggestion));
        else ctx.out.print(renderReport(result, ctx.out.color, suggestion));
        return result.ok ? 0 : 1;
      }),
    );
}

/** Paths in the report as the user would type them: relative to the working directory when inside it. */
function displayPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

/**
 * --from as epoch ms; no offset means UTC. The common ISO-8601 forms are read here: luxon (and through it Intl and
 * ICU, ~40 ms of start-up) is loaded only for the rare others, so that they keep working as they always have.
 */
export async function parseFrom(text: string | undefined): Promise<number> {
  // The only clock read of `check`: the domain gets time as a parameter.
  if (text === undefined) return Date.now();
  const trimmed = text.trim();
  let instant = parseCommonIso(trimmed);
  if (instant === undefined) {
    const { DateTime } = await import('luxon');
    const dt = DateTime.fromISO(trimmed, { zone: 'UTC', setZone: true });
    instant = dt.isValid ? dt.toMillis() : Number.NaN;
  }
  if (Number.isNaN(instant)) {
    throw new UserError(`invalid --from "${text}" (ISO-8601, e.g. 2026-01-05 or 2026-01-05T04:00:00+09:00)`);
  }
  return instant;
}
