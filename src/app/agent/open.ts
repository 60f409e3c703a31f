import { ClusterAccess } from '../../adapters/agent/cluster.js';
import { KubeDrainer, type KubeDrainOptions } from '../../adapters/agent/kube-drain.js';
import { LocalHost } from '../../adapters/agent/local.js';
import { type AgentLog, createAgentLog } from '../../adapters/agent/log.js';
import {
  CommandRebooter,
  DEFAULT_LAB_DOWNTIME,
  LabMemberRebooter,
  LabWorkerRebooter,
  parseDowntime,
} from '../../adapters/agent/reboot.js';
import { MaintenanceRecords } from '../../adapters/agent/state.js';
import type { LoadedConfig } from '../../adapters/config-file.js';
import type { EtcdConnectionOptions } from '../../adapters/etcd/connection.js';
import { KubeApi } from '../../adapters/kube/api.js';
import { type KubeTarget, NoKubeConfigError } from '../../adapters/kube/config.js';
import { resolveLabDir } from '../../adapters/lab/state.js';
import { EtcdKv } from '../../adapters/lock/etcd-kv.js';
import { openLockBackend, openLocks } from '../../adapters/lock/open.js';
import { NO_DRAIN } from '../../domain/maintenance/drain-port.js';
import { MaintenanceMetrics } from '../../domain/maintenance/metrics.js';
import type { Rebooter } from '../../domain/maintenance/ports.js';
import { type AgentSettings, DEFAULT_REBOOT_COMMAND } from '../../domain/maintenance/settings.js';
import { errorMessage, UserError } from '../../errors.js';
import { Agent } from './agent.js';
import { readBackupFreshness } from './backup.js';

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

/** How the agent reaches Kubernetes and drains its node (flags of `lifeboat agent`). */
export interface AgentKubeOptions extends KubeTarget, KubeDrainOptions {}

export interface OpenedAgent {
  agent: Agent;
  /** Stops the agent (a drain in progress ends as a refusal, the node uncordoned). */
  stop(): void;
  /** Ends every connection (after `agent.run` returned). */
  close(): void;
}

/** Everything an agent needs, connected. */
export async function openAgent(input: {
  loaded: LoadedConfig | undefined;
  settings: AgentSettings;
  endpoints: string[];
  connection: EtcdConnectionOptions;
  json: boolean;
  labDowntime?: string;
  kube?: AgentKubeOptions;
}): Promise<OpenedAgent> {
  const { settings, loaded } = input;
  const log = createAgentLog({ node: settings.node, json: input.json });
  const kube = await connectKube(input.kube ?? {});
  const kv = new EtcdKv(input.endpoints, input.connection, 2000);
  try {
    const backend = await openLockBackend(loaded?.config, kv, kube);
    const locks = openLocks(backend, settings.kind, settings.maxConcurrentWorkers);
    const records = new MaintenanceRecords(kv);
    const drainer = kube ? new KubeDrainer(kube, log, input.kube ?? {}) : undefined;
    if (!drainer) {
      log.info('no-kubernetes', `no Kubernetes cluster found (${NO_CLUSTER_HINT}): nodes are not cordoned or drained`);
    } else if (!settings.dryRun) {
      await releaseLeftoverCordon(drainer, records, settings.node, log);
    }
    const cluster = new ClusterAccess(input.endpoints, input.connection, 2000);
    if (settings.kind === 'etcd-member') await checkMember(cluster, settings.member!);
    const agent = new Agent({
      settings,
      records,
      locks,
      host: new LocalHost(settings.sentinel, settings.sentinelCommand),
      cluster,
      rebooter: chooseRebooter(loaded, settings, input.labDowntime),
      drainer: drainer ?? NO_DRAIN,
      backup: () => readBackupFreshness(loaded),
      log,
      metrics: new MaintenanceMetrics(settings.node),
    });
    return {
      agent,
      stop: () => {
        agent.stop();
        drainer?.abort();
      },
      close: () => kv.close(),
    };
  } catch (err) {
    kv.close();
    throw err;
  }
}

/**
 * An agent for a member etcd does not have would watch a cluster it can never take part in, for ever (`--node nosuch`
 * ran silently): refuse to start. When etcd does not answer yet, start anyway: the agent waits for it.
 */
async function checkMember(cluster: ClusterAccess, member: string): Promise<void> {
  const probes = await cluster.probe().catch(() => []);
  const listed = probes.flatMap((p) => p.members ?? []);
  // No answer yet, or a member added but not started (no name yet: it may be this one, about to start).
  if (listed.length === 0 || listed.some((m) => !m.name)) return;
  const names = [...new Set(listed.map((m) => m.name).filter(Boolean))].sort();
  if (names.includes(member)) return;
  throw new UserError(
    `etcd has no member named "${member}" (members: ${names.join(', ')})`,
    "give --node this machine's etcd member name, or list the node in lifeboat.yaml (nodes[].etcdMember, roles)",
  );
}

const NO_CLUSTER_HINT = 'no --kubeconfig, $KUBECONFIG, ~/.kube/config or service account';

/** The Kubernetes API when a cluster is configured (kubectl's rules); undefined when none is. */
async function connectKube(target: KubeTarget): Promise<KubeApi | undefined> {
  try {
    return await KubeApi.connect({ kubeconfig: target.kubeconfig, context: target.context });
  } catch (err) {
    if (err instanceof NoKubeConfigError) return undefined;
    throw err;
  }
}

/** A cordon of ours outside any maintenance was left by a run that died before going down: undo it (best effort). */
async function releaseLeftoverCordon(
  drainer: KubeDrainer,
  records: MaintenanceRecords,
  node: string,
  log: AgentLog,
): Promise<void> {
  try {
    if ((await records.node(node)).phase === 'rebooting') return; // finishing the maintenance uncordons
    await drainer.releaseLeftoverCordon(node);
  } catch (err) {
    log.warn('kube-check', `cannot check ${drainer.nodeName(node)} for a leftover cordon: ${errorMessage(err)}`);
  }
}
