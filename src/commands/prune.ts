import type { Command } from 'commander';
import { MYSQL_DUMPS } from '../adapters/mysql/catalog.js';
import { type BackupKind, ETCD_SNAPSHOTS, executePrune, readCatalogOf } from '../adapters/snapshot/catalog.js';
import { renderPrune } from '../adapters/snapshot/report.js';
import { openDestination } from '../adapters/snapshot/setup.js';
import type { BackupStore } from '../adapters/store/types.js';
import { type Drilled, type PrunePlan, planPrune } from '../domain/backup/catalog.js';
import type { RetentionPolicy } from '../domain/retention.js';
import { action } from './context.js';

interface PruneOpts {
  dryRun?: boolean;
  to?: string;
}

export function registerPrune(program: Command): void {
  program
    .command('prune')
    .description('delete etcd backups and MySQL dumps the retention policy (backups.retention) no longer keeps')
    .option('--dry-run', 'show what would be deleted; delete nothing')
    .option('--to <dest>', 'backup store: directory or s3://bucket/prefix (default: first of backups.to)')
    .addHelpText(
      'after',
      `
Retention is grandfather-father-son (keepLast, hourly, daily, weekly, monthly in lifeboat.yaml). It applies to the
etcd snapshots, and to the MySQL dumps of each database on its own. The newest backup whose restore drill passed is
never deleted (for each database too), and a backup goes together with its manifest.

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
        const dryRun = Boolean(opts.dryRun);
        const now = Date.now();
        const etcd = await pruneStore(store, policy, now, dryRun);
        const mysql = await pruneStore(store, policy, now, dryRun, MYSQL_DUMPS);
        if (ctx.out.json) {
          ctx.out.printJson({ location: store.location, dryRun, policy, ...etcd, mysql });
        } else {
          if (Object.keys(policy).length === 0)
            ctx.out.warn('note: no backups.retention in the config: keeping everything');
          ctx.out.print(renderPrune(etcd.plan, dryRun));
          const { keep, remove, orphanManifests } = mysql.plan;
          if (keep.length + remove.length + orphanManifests.length > 0) {
            ctx.out.print(renderPrune(mysql.plan, dryRun, 'MySQL dump'));
          }
        }
        return 0;
      }),
    );
}

/**
 * Plan retention over the store's backups of one kind (etcd snapshots unless told) and, unless dry-run, carry it out.
 * Shared with `backup etcd --every` and serve's schedules.
 */
export async function pruneStore(
  store: BackupStore,
  policy: RetentionPolicy,
  now: number,
  dryRun: boolean,
  kind: BackupKind<Drilled> = ETCD_SNAPSHOTS,
): Promise<{ plan: PrunePlan; deleted: string[] }> {
  const plan = planPrune(await readCatalogOf(store, kind), policy, now);
  const deleted = dryRun ? [] : await executePrune(store, plan);
  return { plan, deleted };
}
