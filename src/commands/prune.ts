import type { Command } from 'commander';
import { executePrune, readCatalog } from '../adapters/snapshot/catalog.js';
import { renderPrune } from '../adapters/snapshot/report.js';
import { openDestination } from '../adapters/snapshot/setup.js';
import type { BackupStore } from '../adapters/store/types.js';
import { type PrunePlan, planPrune } from '../domain/backup/catalog.js';
import type { RetentionPolicy } from '../domain/retention.js';
import { action } from './context.js';

interface PruneOpts {
  dryRun?: boolean;
  to?: string;
}

export function registerPrune(program: Command): void {
  program
    .command('prune')
    .description('delete etcd backups the retention policy (backups.retention) no longer keeps')
    .option('--dry-run', 'show what would be deleted; delete nothing')
    .option('--to <dest>', 'backup store: directory or s3://bucket/prefix (default: first of backups.to)')
    .addHelpText(
      'after',
      `
Retention is grandfather-father-son (keepLast, hourly, daily, weekly, monthly in lifeboat.yaml). The newest backup
whose restore drill passed is never deleted, and a snapshot goes together with its manifest.

Examples:
  lifeboat -c lifeboat.yaml prune --dry-run
  lifeboat prune --to /mnt/nfs/lifeboat --json

Exit codes: 0 ok, 1 a deletion failed, 2 bad input.`,
    )
    .action(
      action<PruneOpts>(async (ctx, opts) => {
        const backups = ctx.config()?.config.backups;
        const store = await openDestination(opts.to, ctx.config());
        const policy: RetentionPolicy = backups?.retention ?? {};
        const result = await pruneStore(store, policy, Date.now(), Boolean(opts.dryRun));
        if (ctx.out.json) {
          ctx.out.printJson({ location: store.location, dryRun: Boolean(opts.dryRun), policy, ...result });
        } else {
          if (Object.keys(policy).length === 0)
            ctx.out.warn('note: no backups.retention in the config: keeping everything');
          ctx.out.print(renderPrune(result.plan, Boolean(opts.dryRun)));
        }
        return 0;
      }),
    );
}

/** Plan retention over the store's snapshots and (unless dry-run) carry it out. Shared with `backup etcd --every`. */
export async function pruneStore(
  store: BackupStore,
  policy: RetentionPolicy,
  now: number,
  dryRun: boolean,
): Promise<{ plan: PrunePlan; deleted: string[] }> {
  const plan = planPrune(await readCatalog(store), policy, now);
  const deleted = dryRun ? [] : await executePrune(store, plan);
  return { plan, deleted };
}
