import type { Command } from 'commander';
import { probeWithDiscovery } from '../app/probe.js';
import { diagnosisOptions } from '../app/settings.js';
import { diagnose, type MemberView } from '../domain/diagnosis.js';
import { renderHeadline, renderMembers } from '../render/cluster.js';
import { action, parseTimeout } from './context.js';

interface StatusOpts {
  timeout: string;
  kubeconfig?: string;
  context?: string;
}

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('show every etcd member: reachable, leader, learner, raft index, db size, version (and its node)')
    .option('--timeout <ms>', 'per-endpoint deadline in milliseconds', '2000')
    .option('--kubeconfig <file>', 'kubeconfig used to show the Kubernetes node of each member')
    .option('--context <name>', 'kubeconfig context')
    .addHelpText(
      'after',
      `
Examples:
  lifeboat status --endpoints 10.0.0.11:2379
  lifeboat -c lab/lifeboat.yaml status --json

Node names appear when a kubeconfig is found ($KUBECONFIG, ~/.kube/config, in-cluster) and the API answers
within 2 s; etcd trouble often takes the API server down too, so status never waits longer for it.
Exit codes: 0 answered, 3 no endpoint answered.`,
    )
    .action(
      action<StatusOpts>(async (ctx, opts) => {
        const timeout = parseTimeout(opts.timeout);
        const d = diagnose(await probeWithDiscovery(ctx.etcdTarget(), timeout), diagnosisOptions(ctx));
        const members = await withNodeNames(d.members, opts);
        if (ctx.out.json) ctx.out.printJson({ ...d, members });
        else ctx.out.print(`${renderHeadline(d, ctx.out.color)}\n\n${renderMembers(members, ctx.out.color)}`);
        return d.state === 'unreachable' ? 3 : 0;
      }),
    );
}

/** Adds `node` to each member when a Kubernetes cluster answers; never fails the command. */
async function withNodeNames(
  members: MemberView[],
  opts: StatusOpts,
): Promise<Array<MemberView & { node: string | null }>> {
  // Loaded on demand: the Kubernetes client is the slowest module to import, and most runs have no cluster.
  const { memberNodesIfReachable } = await import('../adapters/kube/nodes.js');
  const found = await memberNodesIfReachable(
    members.map((m) => ({ name: m.name, id: m.id, clientURLs: m.endpoint ? [m.endpoint] : [] })),
    { kubeconfig: opts.kubeconfig, context: opts.context, timeoutMs: 2000 },
  );
  const nodeOf = new Map('nodes' in found ? found.nodes.map((n) => [n.member, n.node]) : []);
  return members.map((m) => ({ ...m, node: nodeOf.get(m.name) ?? null }));
}
