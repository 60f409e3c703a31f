import type { Command } from 'commander';
import { runDoctor } from '../app/doctor.js';
import { renderBackupsSummary, renderDiagnosis } from '../render/cluster.js';
import { action, parseTimeout } from './context.js';

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description(
      "explain etcd's state in plain words, with the incident's root causes: reboot schedule, backups, off-node copies",
    )
    .option('--timeout <ms>', 'per-endpoint deadline in milliseconds', '2000')
    .addHelpText(
      'after',
      `
Besides etcd's state today, doctor runs the reboot schedule check on the config's nodes (as \`lifeboat check\`),
looks for a verified backup within maintenance.requireVerifiedBackupWithin (default: 2 backup intervals, at least
24h) in every backups.to destination, and warns when every destination is a local directory on an etcd member.

Examples:
  lifeboat doctor --endpoints https://10.0.0.11:2379 --cacert ca.crt --cert client.crt --key client.key
  lifeboat -c lab/lifeboat.yaml doctor --json

Exit codes: 0 healthy, 1 degraded or any ERROR finding (schedule, no verified backup), 3 quorum lost or
unreachable.`,
    )
    .action(
      action<{ timeout: string }>(async (ctx, opts) => {
        // The only clock read of doctor: the use case gets time as a parameter.
        const report = await runDoctor(ctx, parseTimeout(opts.timeout), Date.now());
        if (ctx.out.json) ctx.out.printJson(report);
        else
          ctx.out.print(
            `${renderDiagnosis(report, ctx.out.color)}\n\n${renderBackupsSummary(report.backups, ctx.out.color)}`,
          );
        return report.exitCode;
      }),
    );
}
