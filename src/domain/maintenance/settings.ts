import type { LifeboatConfig } from '../config.js';
import { formatDuration, parseDuration } from '../duration.js';
import { parseWindow, type WindowSpec } from '../schedule/window.js';
import { DURATION_LIMITS } from '../validation.js';
import type { MaintenancePolicy } from './prechecks.js';

/** What one agent runs with: lifeboat.yaml, then environment, then flags (flags win). Pure. */

export const DEFAULT_SENTINEL = '/var/run/reboot-required';
export const DEFAULT_REBOOT_COMMAND = 'systemctl reboot';
export const DEFAULTS = {
  pollMs: 30_000,
  settleMs: 120_000,
  /** Long enough to outlast a reboot; the lock is renewed far more often than this while the agent runs. */
  ttlMs: 15 * 60_000,
  maxRaftLag: 1000,
  maxConcurrentWorkers: 1,
};

export interface AgentSettings {
  node: string;
  kind: 'etcd-member' | 'worker';
  /** etcd member name (etcd members only). */
  member?: string;
  sentinel: string;
  sentinelCommand?: string;
  /** Configured reboot command; undefined: the executor's way (lab) or DEFAULT_REBOOT_COMMAND. */
  rebootCommand?: string;
  everyMs?: number;
  window?: WindowSpec;
  pollMs: number;
  settleMs: number;
  ttlMs: number;
  maxConcurrentWorkers: number;
  policy: MaintenancePolicy;
  dryRun: boolean;
}

/** Flag values as typed (durations as text); env holds LIFEBOAT_AGENT_POLL/SETTLE/TTL for tests and unit files. */
export interface AgentFlags {
  node: string;
  dryRun?: boolean;
  poll?: string;
  settle?: string;
  ttl?: string;
  sentinel?: string;
  rebootCommand?: string;
}

export class SettingsProblem extends Error {}

export const ENV = { poll: 'LIFEBOAT_AGENT_POLL', settle: 'LIFEBOAT_AGENT_SETTLE', ttl: 'LIFEBOAT_AGENT_TTL' } as const;

export function agentSettings(
  config: LifeboatConfig | undefined,
  flags: AgentFlags,
  env: Record<string, string | undefined> = {},
): AgentSettings {
  const m = config?.maintenance ?? {};
  const nodes = config?.nodes ?? [];
  const node = nodes.find((n) => n.name === flags.node);
  if (!node && nodes.length > 0) {
    throw new SettingsProblem(
      `node "${flags.node}" is not in the config (nodes: ${nodes.map((n) => n.name).join(', ')})`,
    );
  }
  const isEtcd = !node || node.roles.includes('etcd') || node.etcdMember !== undefined;
  const nm = node?.maintenance ?? {};
  const duration = (what: string, ...texts: Array<string | undefined>): number | undefined => {
    const text = texts.find((t) => t !== undefined);
    if (text === undefined) return undefined;
    const ms = parseDuration(text);
    if (ms === undefined) throw new SettingsProblem(`${what} "${text}" is not a duration (examples: 500ms, 30s, 10m)`);
    return ms;
  };
  /** Flags and $LIFEBOAT_AGENT_* bounded as the config keys are (a timer past 24.8 days fires at once). */
  const bounded = (what: string, limits: { min: number; max: number }, ms: number): number => {
    if (ms < limits.min || ms > limits.max) {
      throw new SettingsProblem(
        `${what} must be between ${formatDuration(limits.min)} and ${formatDuration(limits.max)}, got ${formatDuration(ms)}`,
      );
    }
    return ms;
  };
  const ttlMs = bounded(
    "the lock TTL (etcd's minimum lease is 2s)",
    DURATION_LIMITS.ttl,
    duration('--ttl', flags.ttl, env[ENV.ttl], m.ttl) ?? DEFAULTS.ttlMs,
  );
  const pollMs = bounded(
    'the poll interval',
    DURATION_LIMITS.poll,
    duration('--poll', flags.poll, env[ENV.poll], m.pollInterval) ?? DEFAULTS.pollMs,
  );
  const settleMs = bounded(
    'the settle time',
    DURATION_LIMITS.settle,
    duration('--settle', flags.settle, env[ENV.settle], m.settle) ?? DEFAULTS.settleMs,
  );
  const everyMs = duration(`nodes.${flags.node}.maintenance.every`, nm.every);
  const reboot = flags.rebootCommand ?? nm.rebootCommand ?? m.rebootCommand;
  const within = duration('maintenance.requireVerifiedBackupWithin', m.requireVerifiedBackupWithin);
  return {
    node: flags.node,
    kind: isEtcd ? 'etcd-member' : 'worker',
    ...(isEtcd ? { member: node?.etcdMember ?? flags.node } : {}),
    sentinel: flags.sentinel ?? nm.sentinel ?? m.sentinel ?? DEFAULT_SENTINEL,
    ...(nm.sentinelCommand || m.sentinelCommand ? { sentinelCommand: nm.sentinelCommand ?? m.sentinelCommand } : {}),
    ...(reboot ? { rebootCommand: reboot } : {}),
    ...(everyMs !== undefined ? { everyMs } : {}),
    ...(nm.window ? { window: parseWindow(nm.window) } : {}),
    pollMs,
    settleMs,
    ttlMs,
    maxConcurrentWorkers: m.maxConcurrentWorkers ?? DEFAULTS.maxConcurrentWorkers,
    policy: {
      maxRaftLag: m.maxRaftLag ?? DEFAULTS.maxRaftLag,
      ...(within !== undefined ? { requireVerifiedBackupWithinMs: within } : {}),
      onStaleBackup: m.onStaleBackup ?? 'block',
    },
    dryRun: Boolean(flags.dryRun),
  };
}
