import type { LifeboatConfig, RebootSpec } from '../config.js';
import { formatDuration, parseDuration } from '../duration.js';
import { parseCalendar } from './calendar.js';
import type { CheckNode, RebootSource } from './check.js';
import { parseCron } from './cron.js';
import type { RebootPlan } from './occurrences.js';
import { describeWindow, parseWindow } from './window.js';

export const DEFAULT_DOWNTIME_MS = 10 * 60_000;

/** lifeboat.yaml nodes -> check inputs. `label` names the file in origins: `lifeboat.yaml nodes[0].reboot[1]`. */
export function configInventory(
  config: LifeboatConfig,
  label: string,
): { nodes: CheckNode[]; sources: RebootSource[] } {
  const nodes: CheckNode[] = [];
  const sources: RebootSource[] = [];
  (config.nodes ?? []).forEach((node, i) => {
    nodes.push({ name: node.name, roles: node.roles });
    (node.reboot ?? []).forEach((spec, j) => {
      const plan = planOf(spec);
      sources.push({ node: node.name, origin: `${label} nodes[${i}].reboot[${j}]`, text: planText(plan), plan });
    });
  });
  return { nodes, sources };
}

export function planOf(spec: RebootSpec): RebootPlan {
  const downtimeMs =
    spec.downtime !== undefined ? (parseDuration(spec.downtime) ?? DEFAULT_DOWNTIME_MS) : DEFAULT_DOWNTIME_MS;
  if ('cron' in spec) {
    return { kind: 'cron', cron: parseCron(spec.cron), timezone: spec.timezone ?? 'UTC', downtimeMs };
  }
  if ('calendar' in spec) {
    const calendar = parseCalendar(spec.calendar);
    const jitterMs = spec.randomizedDelay ? (parseDuration(spec.randomizedDelay) ?? 0) : 0;
    return { kind: 'calendar', calendar, timezone: calendar.timezone ?? spec.timezone ?? 'UTC', downtimeMs, jitterMs };
  }
  const every = spec.every ?? spec.period;
  const window = parseWindow({ ...spec.window, everyMs: every ? parseDuration(every) : undefined });
  return { kind: 'window', window, downtimeMs };
}

/** `cron "0 4 * * 1" Asia/Tokyo, downtime 10m` */
export function planText(plan: RebootPlan): string {
  const down = `downtime ${formatDuration(plan.downtimeMs)}`;
  if (plan.kind === 'cron') {
    const extra = [
      plan.offsetMs ? `+${formatDuration(plan.offsetMs)} delay` : '',
      plan.jitterMs ? `up to ${formatDuration(plan.jitterMs)} random delay` : '',
    ].filter(Boolean);
    return `cron "${plan.cron.source}" ${plan.timezone}, ${[down, ...extra].join(', ')}`;
  }
  if (plan.kind === 'calendar') {
    const delay = plan.jitterMs ? `, randomized delay up to ${formatDuration(plan.jitterMs)}` : '';
    return `OnCalendar "${plan.calendar.source}" ${plan.timezone}, ${down}${delay}`;
  }
  const every = plan.window.everyMs ? `, at most every ${formatDuration(plan.window.everyMs)}` : '';
  return `${describeWindow(plan.window)}, ${down}${every}`;
}
