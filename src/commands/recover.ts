import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { openExecutor } from '../adapters/executors/open.js';
import { writeRunbook } from '../adapters/executors/runbook.js';
import type { RunbookExecutor } from '../adapters/executors/types.js';
import { IDENTITY_ENV } from '../adapters/snapshot/setup.js';
import { assessRecovery } from '../app/recover/assess.js';
import { runInteractive } from '../app/recover/runner.js';
import { type PointInTime, parsePoint } from '../domain/etcdlog/replay.js';
import {
  describeBlockers,
  describeCandidates,
  describePlan,
  describeRun,
  dryRunDocument,
} from '../domain/recover/describe.js';
import { interruptedStep, type Journal, newJournal } from '../domain/recover/journal.js';
import { type ExecutablePlan, PLAN_NAMES, type PlanChoice } from '../domain/recover/types.js';
import { errorMessage, UserError } from '../errors.js';
import { action, type CommandContext, parseTimeout } from './context.js';

interface RecoverOpts {
  plan: PlanChoice;
  yes?: boolean;
  force?: boolean;
  snapshot?: string;
  identity?: string;
  runbook?: string;
  fresh?: boolean;
  timeout: string;
  manifest?: string;
  unit?: string;
  k3sConfig?: string;
  lost?: string;
  at?: string;
}

export function registerRecover(program: Command): void {
  program
    .command('recover')
    .description('plan, then walk, the way from quorum loss back to a writable cluster')
    .addOption(new Option('--plan <plan>', 'which recovery').choices(['auto', ...PLAN_NAMES]).default('auto'))
    .option('--yes', 'run the plan (without --yes: print it and exit 0)')
    .option('--force', 'stop old members that still run instead of refusing (survivor, snapshot)')
    .option('--snapshot <file>', 'snapshot to restore (default: newest verified backup in any of backups.to)')
    .option('--at <revision|time>', 'snapshot plan: etcd as it was then, rebuilt from the change log (default: newest)')
    .option('--identity <file>', `age identity for encrypted snapshots (default: $${IDENTITY_ENV})`)
    .option('--runbook <dir>', 'write one shell script per node (systemd, kubeadm, k3s executors)')
    .option('--lost <members>', 'members whose disk is gone, comma-separated (for executors that cannot look)')
    .option('--fresh', 'ignore an unfinished recovery journal and plan from the cluster as it is now')
    .option('--timeout <ms>', 'per-endpoint probe deadline in milliseconds', '2000')
    .option('--manifest <file>', 'kubeadm: etcd static pod manifest (default /etc/kubernetes/manifests/etcd.yaml)')
    .option('--unit <file>', 'systemd: the etcd unit file (default /etc/systemd/system/etcd.service)')
    .option('--k3s-config <file>', 'k3s: the server config (default /etc/rancher/k3s/config.yaml)')
    .addHelpText(
      'after',
      `
Plans, safest first (--plan auto picks the first that applies):
  restart   missing members still have their data: start them            loses nothing
  replace   a member lost its disk: re-add it (after starting those
            that kept their data, when quorum needs them)                 loses nothing
  survivor  quorum lost: --force-new-cluster on the freshest member,
            then re-add the others one by one                            loses what it had not applied
  snapshot  no usable member: restore one snapshot on every member       loses changes after the snapshot
The snapshot plan takes the newest snapshot whose restore drill passed from any store in backups.to (directories,
NFS, S3; age-encrypted ones with --identity), and checks it as verify does (trailer, sha256 and size against its
manifest, revision) before anything stops; a snapshot of another cluster is refused unless --force. When the first
of backups.to holds a change log (backup etcd --follow) newer than that snapshot, the plan restores etcd as of the
log's newest point (or --at REVISION|TIME) instead, rebuilt first as restore etcd does.
A cluster that still works goes back in time only when asked outright: --plan snapshot --force with --at or
--snapshot (after a deleted namespace or a bad upgrade: every change after that point is discarded).
The lab executor runs the plan; systemd, kubeadm and k3s get a per-node runbook. An interrupted recovery
continues where it stopped when run again (the journal is in the lab dir).

Exit codes: 0 recovered (or plan printed), 1 failed or refused, 2 bad input, 3 etcd unreachable.`,
    )
    .action(action<RecoverOpts>(recover));
}

async function recover(ctx: CommandContext, opts: RecoverOpts): Promise<number> {
  const config = ctx.config();
  const executor = openExecutor(config, opts);
  const target = ctx.etcdTarget();
  const say = (lines: string[] | string) => (ctx.out.json ? ctx.out.warn : ctx.out.print)([lines].flat().join('\n'));
  const request = {
    target,
    executor,
    choice: opts.plan,
    force: Boolean(opts.force),
    snapshotFile: opts.snapshot && resolve(opts.snapshot),
    backupTargets: config?.config.backups?.to,
    loaded: config,
    identity: opts.identity,
    // A fetched or decrypted snapshot must outlive this run: an interrupted recovery resumes from the same file.
    workDir:
      'journalPath' in executor
        ? join(dirname(executor.journalPath), 'recover-snapshots')
        : (opts.runbook ?? join(tmpdir(), 'lifeboat-recover')),
    fresh: Boolean(opts.fresh),
    lost: opts.lost?.split(',').map((n) => n.trim()),
    probeTimeoutMs: parseTimeout(opts.timeout),
    checkDataLoss: true,
    maxRaftLag: config?.config.maintenance?.maxRaftLag,
  };
  const point = opts.at === undefined ? undefined : parsePoint(opts.at);
  if (point && 'error' in point) throw new UserError(`--at: ${point.error}`);
  if (point && opts.snapshot) throw new UserError('--at and --snapshot go separately', 'pick one');
  let assessment = point ? undefined : await assessRecovery(request);
  const snapshotPlan =
    assessment?.kind !== 'resume' &&
    assessment?.decision.kind === 'plan' &&
    assessment.decision.plan.name === 'snapshot';
  if (point || (snapshotPlan && !opts.snapshot && config?.config.backups?.to.length)) {
    // The change log can bring the snapshot plan closer to the moment of loss (ADR 010): build that point first.
    // Without --at a broken or unreadable log must not stand in the way of the ordinary snapshot: say so, go on.
    const built = await pointInTimeSnapshot(ctx, point, request.workDir, opts.identity).catch((err: unknown) => {
      if (point || err instanceof UserError) throw err;
      ctx.out.warn(`lifeboat: change log not used: ${errorMessage(err)}`);
      return undefined;
    });
    if (built) {
      say(
        `Change log: etcd rebuilt at revision ${built.revision} (${built.replayedRevisions} revisions after ${built.base}).`,
      );
      request.snapshotFile = built.file;
      assessment = undefined; // planned again on the rebuilt snapshot
    }
  }
  assessment ??= await assessRecovery(request);
  let journal: Journal;
  if (assessment.kind === 'resume') {
    journal = assessment.journal;
    if (opts.plan !== 'auto' && opts.plan !== journal.plan.name) {
      throw new UserError(
        `a ${journal.plan.name} recovery started ${journal.startedAt} is unfinished`,
        'run `lifeboat recover --yes` to finish it, or pass --fresh to plan again',
      );
    }
    const done = new Set(Object.keys(journal.steps).filter((id) => journal.steps[id]?.ok));
    const cut = interruptedStep(journal);
    say([
      `Unfinished recovery from ${journal.startedAt}: continuing it.`,
      ...describePlan(journal.plan, { done, ...(cut ? { interrupted: cut.id } : {}) }),
    ]);
    if (!opts.yes) {
      if (ctx.out.json)
        ctx.out.printJson(dryRunDocument({ kind: 'plan', plan: journal.plan, blockers: [], candidates: [] }, true));
      say('Run again with --yes to continue.');
      return 0;
    }
  } else {
    const { decision } = assessment;
    if (decision.kind !== 'plan') {
      if (opts.plan !== 'auto' && decision.kind === 'no-plan')
        throw new UserError(decision.reason, 'run without --plan to let lifeboat pick');
      if (ctx.out.json) ctx.out.printJson(dryRunDocument(decision));
      say([decision.reason, ...describeCandidates(decision.candidates)]);
      return decision.kind === 'nothing-to-do' ? 0 : 1;
    }
    const { plan, blockers } = decision;
    if (!opts.yes && ctx.out.json) ctx.out.printJson(dryRunDocument(decision));
    say(describePlan(plan));
    if (blockers.length) ctx.out.warn(`lifeboat: ${describeBlockers(blockers, plan.name)}`);
    // A refusal writes nothing: a runbook on disk would be run at 3 a.m. whatever this line said.
    if (!('run' in executor)) return blockers.length ? 1 : runbook(executor, plan, opts, say);
    if (opts.runbook) ctx.out.warn('lifeboat: --runbook ignored: the lab executor runs the steps itself');
    if (!opts.yes) {
      if (!blockers.length) say('Nothing was changed. Run again with --yes to carry out this plan.');
      return 0;
    }
    if (blockers.length) {
      if (ctx.out.json) ctx.out.printJson({ ...dryRunDocument(decision), ok: false, refused: blockers });
      return 1;
    }
    journal = newJournal(plan, new Date());
  }
  if (!('run' in executor)) throw new UserError(`the ${executor.kind} executor cannot resume a journal`);
  const rerun = `lifeboat ${ctx.opts.config ? `-c ${ctx.opts.config} ` : ''}recover --yes`;
  const report = await runInteractive(journal, executor, { rerun, log: (line) => ctx.out.warn(line) });
  if (ctx.out.json) ctx.out.printJson(report);
  else say(describeRun(report));
  return report.ok ? 0 : 1;
}

function runbook(
  executor: RunbookExecutor,
  plan: ExecutablePlan,
  opts: RecoverOpts,
  say: (l: string[] | string) => void,
): number {
  const scripts = executor.runbook(plan);
  const from = `${executor.kind} executor, paths from ${executor.source}`;
  if (opts.runbook) {
    const paths = writeRunbook(opts.runbook, scripts);
    say([`Runbook (${from}):`, ...paths.map((p, i) => `  ${p}  run as root on ${scripts[i]!.node}`)]);
  } else {
    say(`Runbook (${from}); --runbook DIR writes one script per node:`);
    for (const s of scripts) say([`----- ${s.file}: run as root on ${s.node} -----`, s.text]);
  }
  if (opts.yes) {
    throw new UserError(
      `the ${executor.kind} executor cannot act on other hosts`,
      "run each node's script from --runbook DIR on that node (all at once: they wait for one another)",
    );
  }
  return 0;
}

async function pointInTimeSnapshot(
  ctx: CommandContext,
  at: PointInTime | undefined,
  workDir: string,
  identity: string | undefined,
) {
  const [{ pointSnapshotForRecovery }, { openDestination, decryptionFor }] = await Promise.all([
    import('../app/etcdlog/restore.js'),
    import('../adapters/snapshot/setup.js'),
  ]);
  const store = await openDestination(undefined, ctx.config());
  const encrypted = (await store.list('etcd')).some((o) => o.name.endsWith('.age'));
  return pointSnapshotForRecovery({
    store,
    ...(at ? { at } : {}),
    workDir,
    decrypt: encrypted ? await decryptionFor(identity) : undefined,
  });
}
