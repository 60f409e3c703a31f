import type { Command } from 'commander';
import { openDestination } from '../adapters/snapshot/setup.js';
import { pruneStore, readDumps, readHelmCaptures } from '../app/prune.js';
import { logWindowOf } from '../domain/etcdlog/retention.js';
import { dumpRetention } from '../domain/mysql/config.js';
import type { RetentionPolicy } from '../domain/retention.js';
import { renderPrune } from '../render/backup.js';
import { logPruneLines } from '../render/etcdlog.js';
import { action } from './context.js';

interface PruneOpts {
  dryRun?: boolean;
  to?: string;
}

export function registerPrune(program: Command): void {
  program
    .command('prune')
    .description('delete the backups (etcd, MySQL, Helm) their retention policies no longer keep')
    .option('--dry-run', 'show what would be deleted; delete nothing')
    .option('--to <dest>', 'backup store: directory or s3://bucket/prefix (default: first of backups.to)')
    .addHelpText(
      'after',
      `
Retention is grandfather-father-son (keepLast, hourly, daily, weekly, monthly), one policy per kind of backup in
lifeboat.yaml: backups.retention for etcd snapshots, databases[].retention for each database's dumps,
backups.helm.retention for Helm captures. A kind without a policy is kept whole. The newest backup, and the newest
whose restore drill passed, are never deleted (for each database too), so a store is never emptied; a policy whose
rules are all 0 is refused. A backup goes with its manifest, a Helm capture with all its files.

Examples:
  lifeboat -c lifeboat.yaml prune --dry-run
  lifeboat prune --to /mnt/nfs/lifeboat --json

Exit codes: 0 ok, 1 a deletion failed, 2 bad input.`,
    )
    .action(
      action<PruneOpts>(async (ctx, opts) => {
        const config = ctx.config()?.config;
        const store = await openDestination(opts.to, ctx.config());
        const policy: RetentionPolicy = config?.backups?.retention ?? {};
        const helmPolicy: RetentionPolicy = config?.backups?.helm?.retention ?? {};
        const dryRun = Boolean(opts.dryRun);
        const now = Date.now();
        const etcd = await pruneStore(store, policy, now, dryRun, undefined, logWindowOf(config?.backups));
        const mysql = await pruneStore(store, dumpRetention(config?.databases), now, dryRun, readDumps);
        const helm = await pruneStore(store, helmPolicy, now, dryRun, readHelmCaptures);
        if (ctx.out.json) {
          const databases = Object.fromEntries((config?.databases ?? []).map((d) => [d.name, d.retention ?? {}]));
          ctx.out.printJson({
            location: store.location,
            dryRun,
            policy,
            ...etcd,
            mysql: { policies: databases, ...mysql },
            helm: { policy: helmPolicy, ...helm },
          });
        } else {
          if (Object.keys(policy).length === 0)
            ctx.out.warn('note: no backups.retention in the config: keeping every etcd snapshot');
          ctx.out.print(renderPrune(etcd.plan, dryRun));
          const log = etcd.log && logPruneLines(etcd.log, dryRun);
          if (log) ctx.out.print(log);
          // The other kinds are named only when the store holds some.
          for (const [result, noun] of [
            [mysql, 'MySQL dump'],
            [helm, 'Helm capture'],
          ] as const) {
            const { keep, remove, orphanManifests } = result.plan;
            if (keep.length + remove.length + orphanManifests.length > 0) {
              ctx.out.print(renderPrune(result.plan, dryRun, noun));
            }
          }
        }
        return 0;
      }),
    );
}
