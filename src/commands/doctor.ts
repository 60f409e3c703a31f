import type { Command } from 'commander';
import { diagnoseAndPlan } from '../app/recover/assess.js';
import type { ClusterState } from '../domain/quorum.js';
import { renderDiagnosis } from '../render/cluster.js';
import { action, parseTimeout } from './context.js';

const EXIT_BY_STATE: Record<ClusterState, number> = { healthy: 0, degraded: 1, 'quorum-lost': 3, unreachable: 3 };

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('explain what state etcd is in, in plain words, and what to do first')
    .option('--timeout <ms>', 'per-endpoint deadline in milliseconds', '2000')
    .addHelpText(
      'after',
      `
Examples:
  lifeboat doctor --endpoints https://10.0.0.11:2379 --cacert ca.crt --cert client.crt --key client.key
  lifeboat -c lab/lifeboat.yaml doctor --json

Exit codes: 0 healthy, 1 degraded, 3 quorum lost or unreachable.`,
    )
    .action(
      action<{ timeout: string }>(async (ctx, opts) => {
        const timeout = parseTimeout(opts.timeout);
        const config = ctx.config();
        const maxRaftLag = config?.config.maintenance?.maxRaftLag;
        const d = await diagnoseAndPlan({ target: ctx.etcdTarget(), config, probeTimeoutMs: timeout, maxRaftLag });
        if (ctx.out.json) ctx.out.printJson(d);
        else ctx.out.print(renderDiagnosis(d, ctx.out.color));
        return EXIT_BY_STATE[d.state];
      }),
    );
}
