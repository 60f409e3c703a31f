import type { Command } from 'commander';
import type { CaptureResult } from '../app/backup/helm.js';
import type { StepOutcome } from '../app/restore/helm.js';
import type { RestoreStep } from '../domain/helm/restore.js';
import { errorMessage, UserError } from '../errors.js';
import { action, type CommandContext, collect, commandGroup } from './context.js';

/** `lifeboat backup helm` and `lifeboat restore helm`: whole-release capture and mechanical reinstall. */

interface CaptureOpts {
  to?: string;
  namespace?: string;
  recipient?: string[];
  kubeconfig?: string;
  context?: string;
}

interface RestoreOpts {
  from?: string;
  release?: string;
  yes?: boolean;
  identity?: string;
  workdir?: string;
}

/** Adds `helm` under an existing `backup` command. */
export function registerBackupHelm(backup: Command): void {
  backup
    .command('helm')
    .description('capture every Helm release whole: values, chart (rebuilt), manifest, hooks, release JSON')
    .option('--to <dest>', 'directory or s3://bucket/prefix (default: first of backups.to)')
    .option('-n, --namespace <ns>', 'only releases in this namespace (default: all namespaces)')
    .option('--recipient <age1...>', 'encrypt to this age recipient; repeatable (default: backups.encryption)', collect)
    .option('--kubeconfig <file>', 'kubeconfig to use (default: $KUBECONFIG, ~/.kube/config, in-cluster)')
    .option('--context <name>', 'kubeconfig context to use')
    .addHelpText(
      'after',
      `
Reads Helm 3 release Secrets (and ConfigMaps) labelled owner=helm and stores, for each release's current revision,
everything a rebuild needs, under helm/<time>/<namespace>/<release>/. Releases contain secrets: files are 0600 and
age-encrypted when backups.encryption (or --recipient) is set.

Examples:
  lifeboat -c lifeboat.yaml backup helm
  lifeboat backup helm --to /mnt/nfs/lifeboat -n web --json

Exit codes: 0 captured, 1 failed, 2 bad input.`,
    )
    .action(action<CaptureOpts>(captureCommand));
}

/** `lifeboat restore helm` (creates the `restore` group when absent). */
export function registerRestore(program: Command): void {
  const restore = commandGroup(program, 'restore');
  restore
    .command('helm')
    .description('print (or run with --yes) the commands that reinstall captured Helm releases, in safe order')
    .option('--from <dir>', 'a capture directory, or a store holding helm/ captures (default: first of backups.to)')
    .option('--release <name>', 'only this release (NAME or NAMESPACE/NAME)')
    .option('--yes', 'run the commands (needs helm on PATH) instead of printing them')
    .option('--identity <file>', `age identity for encrypted captures ($LIFEBOAT_AGE_IDENTITY)`)
    .option('--workdir <dir>', 'where decrypted files go (default: a new private temp directory)')
    .addHelpText(
      'after',
      `
Namespaces first, then releases; a release that defines CRDs goes before the releases that use them.

Examples:
  lifeboat restore helm --from /mnt/nfs/lifeboat
  lifeboat restore helm --from /mnt/nfs/lifeboat/helm/20261127T150905Z --release web/shop --yes

Exit codes: 0 printed or all ran, 1 a command failed, 2 bad input.`,
    )
    .action(action<RestoreOpts>(restoreCommand));
}

/** Both commands; `backup` is found (or created) on the program. Call after registerBackup. */
export function registerHelm(program: Command): void {
  const backup = commandGroup(program, 'backup');
  registerBackupHelm(backup);
  registerRestore(program);
}

async function captureCommand(ctx: CommandContext, opts: CaptureOpts): Promise<number> {
  const { openDestination, encryptionFor } = await import('../adapters/snapshot/setup.js');
  const { KubeApi } = await import('../adapters/kube/api.js');
  const { captureHelmReleases } = await import('../app/backup/helm.js');
  const backups = ctx.config()?.config.backups;
  const recipients = opts.recipient?.length ? opts.recipient : (backups?.encryption?.recipients ?? []);
  const store = await openDestination(opts.to, ctx.config());
  const encryption = await encryptionFor(recipients);
  let result: CaptureResult;
  try {
    const api = await KubeApi.connect({ kubeconfig: opts.kubeconfig, context: opts.context });
    result = await captureHelmReleases(api, {
      store,
      namespace: opts.namespace,
      encryption,
      cluster: ctx.config()?.config.cluster?.name,
    });
  } catch (err) {
    if (err instanceof UserError) throw err;
    ctx.out.warn(`lifeboat: error: ${errorMessage(err)}`);
    return 1;
  }
  for (const w of result.warnings) ctx.out.warn(`warning: ${w}`);
  const { index } = result;
  if (ctx.out.json) {
    ctx.out.printJson({
      location: result.location,
      createdAt: index.createdAt,
      encrypted: index.encrypted,
      releases: index.releases.map(({ provides, uses, ...r }) => r),
      uninstalled: index.uninstalled,
      warnings: result.warnings,
    });
    return 0;
  }
  const lines = index.releases.map(
    (r) =>
      `  ${r.namespace}/${r.name}  revision ${r.revision} (${r.status})  ${r.chart}-${r.chartVersion}` +
      (r.missingSubcharts.length ? `  [subcharts not kept by Helm: ${r.missingSubcharts.join(', ')}]` : ''),
  );
  const encrypted = index.encrypted ? ', encrypted' : '';
  ctx.out.print(
    `captured ${index.releases.length} Helm release(s) in ${result.location}${encrypted}` +
      (lines.length ? `\n${lines.join('\n')}` : ''),
  );
  return 0;
}

async function restoreCommand(ctx: CommandContext, opts: RestoreOpts): Promise<number> {
  const { openDestination } = await import('../adapters/snapshot/setup.js');
  const { openCapture, runRestoreSteps } = await import('../app/restore/helm.js');
  // Loaded here, not at the top: its YAML parser would otherwise load with every `backup ...` command.
  const { restorePlan, shellLine, UnknownReleaseError } = await import('../domain/helm/restore.js');
  const store = await openDestination(opts.from, ctx.config());
  const capture = await openCapture(store, opts);
  let steps: RestoreStep[];
  try {
    steps = restorePlan(capture.index, { path: capture.path, release: opts.release });
  } catch (err) {
    if (err instanceof UnknownReleaseError) throw new UserError(err.message);
    throw err;
  }
  if (capture.workdir) ctx.out.warn(`note: decrypted files are in ${capture.workdir}; remove it after the restore`);
  const outcomes: StepOutcome[] | undefined = opts.yes ? await runRestoreSteps(steps) : undefined;
  if (ctx.out.json) {
    ctx.out.printJson({
      from: capture.location,
      createdAt: capture.index.createdAt,
      ...(capture.workdir ? { workdir: capture.workdir } : {}),
      steps: steps.map((s) => ({ ...s, command: shellLine(s.argv) })),
      ...(outcomes ? { ran: outcomes.map(({ step, ...o }) => ({ command: shellLine(step.argv), ...o })) } : {}),
    });
  } else if (!outcomes) {
    const header = `# ${steps.filter((s) => s.kind === 'release').length} release(s) from ${capture.location} (captured ${capture.index.createdAt})`;
    const body = steps.map((s) => `${s.note ? `# ${s.release}: ${s.note}\n` : ''}${shellLine(s.argv)}`);
    ctx.out.print([header, ...body].join('\n'));
  } else {
    for (const o of outcomes) {
      const state = o.skipped ? `skipped (${o.skipped})` : o.ok ? 'ok' : `FAILED: ${o.error ?? `exit ${o.exitCode}`}`;
      ctx.out.print(`${state}  ${shellLine(o.step.argv)}`);
    }
  }
  return outcomes?.some((o) => !o.ok) ? 1 : 0;
}
