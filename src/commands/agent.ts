import type { Command } from 'commander';
import { type AgentKubeOptions, openAgent } from '../app/agent/open.js';
import { connectionOptions } from '../app/settings.js';
import { parseDuration } from '../domain/duration.js';
import { agentSettings, SettingsProblem } from '../domain/maintenance/settings.js';
import { UserError } from '../errors.js';
import { action, type CommandContext } from './context.js';

interface AgentOpts {
  node: string;
  dryRun?: boolean;
  once?: boolean;
  poll?: string;
  settle?: string;
  ttl?: string;
  sentinel?: string;
  rebootCommand?: string;
  labDowntime?: string;
  kubeconfig?: string;
  context?: string;
  kubeNode?: string;
  drainTimeout?: string;
  deleteEmptydirData?: boolean;
  forceDrain?: boolean;
}

export function registerAgent(program: Command): void {
  program
    .command('agent')
    .description('quorum-safe maintenance daemon for one node: reboots only when etcd can afford it, one at a time')
    .requiredOption('--node <name>', "this node's name (as in lifeboat.yaml nodes)")
    .option('--dry-run', 'log what would be done; never take the lock, move leadership or reboot')
    .option('--once', 'look once, act if due, and exit (for cron-less testing)')
    .option('--poll <duration>', 'how often to look (default 30s; env LIFEBOAT_AGENT_POLL)')
    .option('--settle <duration>', 'how long a rebooted member must stay healthy before the next (default 2m)')
    .option('--ttl <duration>', 'lock TTL: must outlast a reboot (default 15m; env LIFEBOAT_AGENT_TTL)')
    .option('--sentinel <file>', 'reboot-required file (default /var/run/reboot-required)')
    .option('--reboot-command <cmd>', 'how to reboot (default: systemctl reboot; the lab restarts the member)')
    .option('--lab-downtime <range>', 'lab only: how long a "reboot" keeps the node down (default 2s-8s)')
    .option('--kubeconfig <file>', 'kubeconfig (default: $KUBECONFIG, ~/.kube/config, in-cluster service account)')
    .option('--context <name>', 'kubeconfig context')
    .option('--kube-node <name>', 'Kubernetes node name when it differs from --node')
    .option('--drain-timeout <duration>', 'give up draining after this long: a refusal, nothing goes down (default 5m)')
    .option('--delete-emptydir-data', 'drain: evict pods with emptyDir volumes (their data is lost)')
    .option('--force-drain', 'drain: evict pods that no controller recreates')
    .addHelpText(
      'after',
      `
Reboot is wanted when the sentinel file exists, the sentinel command exits 0, the node's maintenance.every is due
inside its window, or someone ran \`lifeboat maintain request NODE\`. Before an etcd member goes down every member
must answer, no alarm may be active, no member may lag, quorum must survive the loss, and (when required) a
verified backup must be recent. Logs go to stdout (JSON lines with --json).

When a Kubernetes cluster is found (kubectl's rules) the node is cordoned and drained like \`kubectl drain
--ignore-daemonsets\` before it goes down (a PodDisruptionBudget that holds past --drain-timeout refuses the
maintenance; the node is uncordoned again) and uncordoned once its member has caught up and settled. With
maintenance.lock: kubernetes the lock is one Lease per slot in the lifeboat namespace (maintenance.namespace).

Examples:
  lifeboat -c /etc/lifeboat/lifeboat.yaml agent --node cp1
  lifeboat -c lab/lifeboat.yaml --json agent --node cp2 --dry-run --once`,
    )
    .action(action<AgentOpts>(runAgent));
}

async function runAgent(ctx: CommandContext, opts: AgentOpts): Promise<number> {
  const loaded = ctx.config();
  let settings: ReturnType<typeof agentSettings>;
  try {
    settings = agentSettings(loaded?.config, { ...opts, node: opts.node }, process.env);
  } catch (err) {
    if (err instanceof SettingsProblem) throw new UserError(err.message);
    throw err;
  }
  const target = ctx.etcdTarget();
  const connection = connectionOptions(target); // its TLS files were checked by etcdTarget()
  const { agent, stop, close } = await openAgent({
    loaded,
    settings,
    endpoints: target.endpoints,
    connection,
    json: ctx.out.json,
    ...(opts.labDowntime ? { labDowntime: opts.labDowntime } : {}),
    kube: kubeOptions(opts),
  });
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  try {
    await agent.run({ once: Boolean(opts.once) });
  } finally {
    process.off('SIGTERM', stop);
    process.off('SIGINT', stop);
    close();
  }
  return 0;
}

function kubeOptions(opts: AgentOpts): AgentKubeOptions {
  const timeoutMs = opts.drainTimeout === undefined ? undefined : parseDuration(opts.drainTimeout);
  if (timeoutMs === 0 || (opts.drainTimeout !== undefined && timeoutMs === undefined)) {
    throw new UserError(`--drain-timeout "${opts.drainTimeout}" is not a positive duration`, 'examples: 90s, 5m');
  }
  return {
    ...(opts.kubeconfig ? { kubeconfig: opts.kubeconfig } : {}),
    ...(opts.context ? { context: opts.context } : {}),
    ...(opts.kubeNode ? { kubeNode: opts.kubeNode } : {}),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    ...(opts.deleteEmptydirData ? { deleteEmptyDirData: true } : {}),
    ...(opts.forceDrain ? { force: true } : {}),
  };
}
