import { NO_DRAIN } from '../../domain/maintenance/drain-port.js';
import { MaintenanceMetrics } from '../../domain/maintenance/metrics.js';
import { type AgentSettings, DEFAULT_REBOOT_COMMAND } from '../../domain/maintenance/settings.js';
import { UserError } from '../../errors.js';
import type { LoadedConfig } from '../config-file.js';
import type { EtcdConnectionOptions } from '../etcd/connection.js';
import { resolveLabDir } from '../lab/state.js';
import { EtcdKv } from '../lock/etcd-kv.js';
import { openLocks } from '../lock/open.js';
import { Agent } from './agent.js';
import { readBackupFreshness } from './backup.js';
import { ClusterAccess } from './cluster.js';
import { createAgentLog } from './log.js';
import {
  CommandRebooter,
  DEFAULT_LAB_DOWNTIME,
  LabMemberRebooter,
  LabWorkerRebooter,
  parseDowntime,
  type Rebooter,
} from './reboot.js';
import { MaintenanceRecords } from './state.js';

export const LAB_DOWNTIME_ENV = 'LIFEBOAT_LAB_DOWNTIME';

/**
 * How this node reboots: a configured command wins; in a lab (executor: lab) the lab adapter stops and starts the
 * member (or marks a worker down); otherwise `systemctl reboot`.
 */
export function chooseRebooter(
  loaded: LoadedConfig | undefined,
  settings: AgentSettings,
  labDowntime: string | undefined,
): Rebooter {
  if (settings.rebootCommand) return new CommandRebooter(settings.rebootCommand);
  if (loaded?.config.etcd?.executor !== 'lab') return new CommandRebooter(DEFAULT_REBOOT_COMMAND);
  const text = labDowntime ?? process.env[LAB_DOWNTIME_ENV];
  const downtime = text === undefined ? DEFAULT_LAB_DOWNTIME : parseDowntime(text);
  if (!downtime) throw new UserError(`--lab-downtime "${text}" is not a duration range`, 'example: 2s-8s');
  const dir = resolveLabDir(undefined, loaded);
  return settings.kind === 'etcd-member'
    ? new LabMemberRebooter(dir, settings.member!, downtime)
    : new LabWorkerRebooter(dir, settings.node, downtime);
}

/** Everything an agent needs, connected; `close()` ends every connection. */
export function openAgent(input: {
  loaded: LoadedConfig | undefined;
  settings: AgentSettings;
  endpoints: string[];
  connection: EtcdConnectionOptions;
  json: boolean;
  labDowntime?: string;
}): { agent: Agent; close(): void } {
  const { settings, loaded } = input;
  const kv = new EtcdKv(input.endpoints, input.connection, 2000);
  const locks = openLocks(kv, loaded?.config.maintenance?.lock, settings.kind, settings.maxConcurrentWorkers);
  const agent = new Agent({
    settings,
    kv,
    records: new MaintenanceRecords(kv),
    locks,
    cluster: new ClusterAccess(input.endpoints, input.connection, 2000),
    rebooter: chooseRebooter(loaded, settings, input.labDowntime),
    drainer: NO_DRAIN,
    backup: () => readBackupFreshness(loaded),
    log: createAgentLog({ node: settings.node, json: input.json }),
    metrics: new MaintenanceMetrics(settings.node),
  });
  return { agent, close: () => kv.close() };
}
