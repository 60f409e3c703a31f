import { type Command, Option } from 'commander';
import { runInSmallHeapWorker, wantsSmallHeapWorker } from '../adapters/proc/small-heap.js';
import { readCatalog, readCatalogOf } from '../adapters/snapshot/catalog.js';
import { decryptionFor, type Encryption, encryptionFor, openDestination } from '../adapters/snapshot/setup.js';
import type { BackupStore } from '../adapters/store/types.js';
import { onStopSignals } from '../adapters/verify/signals.js';
import { backupCluster } from '../app/backup/etcd.js';
import { parseDuration } from '../domain/duration.js';
import { HELM_PREFIX, helmCaptureCatalog } from '../domain/helm/captures.js';
import type { RetentionPolicy } from '../domain/retention.js';
import { EVERY_LIMITS } from '../domain/validation.js';
import { errorMessage, UserError } from '../errors.js';
import {
  backupDocument,
  backupLine,
  captureListDocument,
  listDocument,
  progressMeter,
  renderCaptureList,
  renderList,
  scheduledRunDocument,
  scheduledRunLine,
} from '../render/backup.js';
import { action, type CommandContext, collect, commandGroup, wholeNumber } from './context.js';

/** A drill after every Nth backup: past this, say 0 (never) instead. */
const VERIFY_EVERY_MAX = 100_000;

interface EtcdOpts {
  to?: string;
  recipient?: string[];
  every?: string | true;
  verifyEvery?: string;
  identity?: string;
  follow?: boolean;
  followEvery?: string;
  sealEvery?: string;
}

export function registerBackup(program: Command): void {
  const backup = commandGroup(program, 'backup');
  backup
    .command('etcd')
    .description('stream a hash-verified etcd snapshot and its manifest into the backup store')
    .option('--to <dest>', 'directory or s3://bucket/prefix (default: first of backups.to)')
    .option('--recipient <age1...>', 'encrypt to this age recipient; repeatable (default: backups.encryption)', collect)
    .option('--every [duration]', 'keep running: back up now and every DURATION (default: backups.etcd.every)')
    .option('--verify-every <n>', 'with --every: restore drill after every Nth backup, 0 = never (default 1)')
    .option('--identity <file>', `with --every: age identity for drills of encrypted backups ($LIFEBOAT_AGE_IDENTITY)`)
    .option('--follow', 'keep going: a snapshot, then every change into the change log (point-in-time restore)')
    .option('--follow-every <duration>', 'with --follow: make new changes durable this often, the RPO (default 1s)')
    // Tests and drills seal segments sooner than the 5 min default to exercise sealing.
    .addOption(new Option('--seal-every <duration>').hideHelp())
    .addHelpText(
      'after',
      `
A healthy follower (else the leader; without quorum, any member that answers) streams its database; the bytes are
hashed on the way and checked against the SHA-256 etcd sends last. Only a snapshot that checks out is committed;
then NAME.manifest.json is written beside it. With --every it runs until SIGINT/SIGTERM: one line per run, pruning
(backups.retention) and a restore drill (--verify-every) after each backup. With --follow (or backups.etcd.follow
in serve) it then watches every change and writes it to etcd-log/ beside the snapshots, durable every second:
lifeboat restore etcd --at REVISION|TIME rebuilds any point since (ADR 010).

Examples:
  lifeboat -c lifeboat.yaml backup etcd
  lifeboat --endpoints 10.0.0.11:2379 backup etcd --to /mnt/nfs/lifeboat --json
  lifeboat -c lifeboat.yaml backup etcd --every 1h --verify-every 24
  lifeboat -c lifeboat.yaml backup etcd --follow        # snapshot + change log, until stopped

Exit codes: 0 stored, 1 failed (nothing stored), 2 bad input.`,
    )
    .action(action<EtcdOpts>(backupCommand));
  backup
    .command('list')
    .description('backups in the store (etcd snapshots, MySQL dumps, Helm captures): when, size, verified?')
    .option('--to <dest>', 'directory or s3://bucket/prefix (default: first of backups.to)')
    .action(
      action<{ to?: string }>(async (ctx, opts) => {
        const store = await openDestination(opts.to, ctx.config());
        // Loaded here, not at the top: a one-shot `backup etcd` never needs them.
        const [{ MYSQL_DUMPS }, report] = await Promise.all([
          import('../adapters/mysql/catalog.js'),
          import('../render/mysql.js'),
        ]);
        const [{ entries }, dumps, captures, log] = await Promise.all([
          readCatalog(store),
          readCatalogOf(store, MYSQL_DUMPS),
          store.list(HELM_PREFIX).then(helmCaptureCatalog),
          import('../app/etcdlog/restore.js').then((m) => m.chainWindows(store)),
        ]);
        if (ctx.out.json) {
          ctx.out.printJson({
            ...listDocument(store, entries),
            mysql: report.dumpListDocument(store, dumps.entries),
            helm: captureListDocument(store, captures.entries),
            chains: log.chains,
          });
        } else {
          ctx.out.print(renderList(ctx.out, store.location, entries));
          if (dumps.entries.length > 0) ctx.out.print(report.renderDumpList(ctx.out, dumps.entries));
          if (captures.entries.length > 0) ctx.out.print(renderCaptureList(captures.entries));
          if (log.chains.length > 0) ctx.out.print((await import('../render/etcdlog.js')).chainLines(log.chains));
          for (const p of log.problems) ctx.out.warn(`warning: ${p}`);
        }
        return 0;
      }),
    );
}

interface Setup {
  store: BackupStore;
  encryption: Encryption | undefined;
  retention: RetentionPolicy;
  identity?: string;
}

async function backupCommand(ctx: CommandContext, opts: EtcdOpts): Promise<number> {
  // The follower runs for days: in a worker thread with a small young generation (peak RSS, issue 19).
  if (opts.follow && wantsSmallHeapWorker()) return runInSmallHeapWorker();
  const backups = ctx.config()?.config.backups;
  // Flags for a schedule are checked before anything runs: a one-shot backup used to ignore them silently.
  if (opts.verifyEvery !== undefined && opts.every === undefined) {
    throw new UserError('--verify-every goes with --every', 'a one-shot backup is verified by `lifeboat verify`');
  }
  if (opts.sealEvery !== undefined && !opts.follow) throw new UserError('--seal-every goes with --follow');
  const verifyFlag = opts.verifyEvery === undefined ? undefined : wholeNumber(opts.verifyEvery);
  if (opts.verifyEvery !== undefined && (verifyFlag === undefined || verifyFlag > VERIFY_EVERY_MAX)) {
    throw new UserError(
      `--verify-every needs a whole number from 0 (never) to ${VERIFY_EVERY_MAX}, got "${opts.verifyEvery}"`,
    );
  }
  const verifyEvery = verifyFlag ?? backups?.etcd?.verifyEvery ?? 1;
  // The identity serves the drills; a missing or wrong one is found now, not after the first backup.
  if (opts.identity !== undefined) await decryptionFor(opts.identity);
  const recipients = opts.recipient?.length ? opts.recipient : (backups?.encryption?.recipients ?? []);
  const setup: Setup = {
    store: await openDestination(opts.to, ctx.config()),
    encryption: await encryptionFor(recipients),
    retention: backups?.retention ?? {},
    identity: opts.identity,
  };
  if (opts.follow) {
    if (opts.every !== undefined) throw new UserError('--follow and --every go separately', 'pick one');
    const { followCommand } = await import('./etcdlog.js');
    return followCommand(ctx, {
      store: setup.store,
      encryption: setup.encryption,
      identity: setup.identity,
      followEvery: opts.followEvery,
      sealEvery: opts.sealEvery,
      snapshot: (signal) => backupOnce(ctx, setup, signal),
    });
  }
  if (opts.followEvery !== undefined) throw new UserError('--follow-every goes with --follow');
  if (opts.every === undefined) {
    // Ctrl-C mid-stream: abort the pending object (no temp file left behind), then exit 130.
    const controller = new AbortController();
    const removeHandlers = onStopSignals(() => controller.abort());
    try {
      const manifest = await backupOnce(ctx, setup, controller.signal);
      if (ctx.out.json) ctx.out.printJson(backupDocument(manifest));
      else ctx.out.print(backupLine(manifest));
      return 0;
    } catch (err) {
      if (controller.signal.aborted) {
        ctx.out.warn('lifeboat: interrupted: nothing was stored');
        return 130;
      }
      if (err instanceof UserError) throw err;
      ctx.out.warn(`lifeboat: error: ${errorMessage(err)}`);
      return 1;
    } finally {
      removeHandlers();
    }
  }
  const everyText = opts.every === true ? backups?.etcd?.every : opts.every;
  const everyMs = everyText ? parseDuration(everyText) : undefined;
  if (!everyMs || everyMs < EVERY_LIMITS.min || everyMs > EVERY_LIMITS.max)
    throw new UserError(
      `--every needs a duration between 1s and 366d, like 1h or 30m${everyText ? `, got "${everyText}"` : ''}`,
    );
  // Only --every prunes and drills: one-shot backups do not load that code.
  const [{ runEvery }, { etcdCycleSteps, scheduledRun }] = await Promise.all([
    import('../adapters/snapshot/every.js'),
    import('../app/backup/scheduled.js'),
  ]);
  const controller = new AbortController();
  const removeHandlers = onStopSignals(() => controller.abort());
  try {
    const steps = etcdCycleSteps({ ...setup, settings: ctx, now: Date.now }, (source) => warnSource(ctx, source));
    await runEvery({
      everyMs,
      signal: controller.signal,
      run: async (n, signal) => {
        const report = await scheduledRun(steps, n, verifyEvery, signal);
        ctx.out.print(ctx.out.json ? JSON.stringify(scheduledRunDocument(report)) : scheduledRunLine(report));
      },
    });
  } finally {
    removeHandlers();
  }
  ctx.out.warn('lifeboat: stopped');
  return 0;
}

async function backupOnce(ctx: CommandContext, setup: Setup, signal: AbortSignal) {
  let progress: ReturnType<typeof progressMeter> | undefined;
  const request = {
    store: setup.store,
    encryption: setup.encryption,
    onProgress: (bytes: number, total: number) => progress?.update(bytes, total),
    signal,
  };
  try {
    return await backupCluster(ctx, request, (source) => {
      warnSource(ctx, source);
      progress = progressMeter(ctx.out, `snapshot of ${source.memberName || source.endpoint}`);
    });
  } finally {
    progress?.done();
  }
}

function warnSource(ctx: CommandContext, source: { warnings: string[] }): void {
  for (const w of source.warnings) ctx.out.warn(`warning: ${w}`);
}
