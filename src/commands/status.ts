import type { Command } from 'commander';
import { diagnose } from '../domain/diagnosis.js';
import { renderHeadline, renderMembers } from '../render/cluster.js';
import { diagnosisOptions, parseTimeout, probeWithDiscovery } from './cluster-probe.js';
import { action } from './context.js';

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('show every etcd member: reachable, leader, learner, raft index, db size, version')
    .option('--timeout <ms>', 'per-endpoint deadline in milliseconds', '2000')
    .addHelpText(
      'after',
      '\nExamples:\n  lifeboat status --endpoints 10.0.0.11:2379\n  lifeboat -c lab/lifeboat.yaml status --json\n\nExit codes: 0 answered, 3 no endpoint answered.',
    )
    .action(
      action<{ timeout: string }>(async (ctx, opts) => {
        const timeout = parseTimeout(opts.timeout);
        const d = diagnose(await probeWithDiscovery(ctx.etcdTarget(), timeout), diagnosisOptions(ctx));
        if (ctx.out.json) ctx.out.printJson(d);
        else ctx.out.print(`${renderHeadline(d, ctx.out.color)}\n\n${renderMembers(d.members, ctx.out.color)}`);
        return d.state === 'unreachable' ? 3 : 0;
      }),
    );
}
