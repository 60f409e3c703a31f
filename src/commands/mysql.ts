import { type Command, Option } from 'commander';
import type { MysqlBackupResult } from '../adapters/mysql/dump.js';
import { ENGINES, type Engine, HAVES, type Have } from '../domain/mysql/guide.js';
import { defaultSourceName } from '../domain/mysql/manifest.js';
import { errorMessage, UserError } from '../errors.js';
import * as report from '../render/mysql.js';
import { VERSION } from '../version.js';
import { action, type CommandContext, collect, commandGroup } from './context.js';

/**
 * The adapters are loaded when a database command runs, not when the CLI starts: every other command would otherwise
 * pay for mysql2, the store and the dump pipeline at start-up.
 */
const load = {
  catalog: () => import('../adapters/mysql/catalog.js'),
  drill: () => import('../app/verify-mysql.js'),
  dump: () => import('../adapters/mysql/dump.js'),
  jobs: () => import('../app/backup/mysql.js'),
  credentials: () => import('../adapters/mysql/credentials.js'),
  restore: () => import('../app/restore/mysql.js'),
  setup: () => import('../adapters/snapshot/setup.js'),
  signals: () => import('../adapters/verify/signals.js'),
};

interface Login {
  url?: string;
  passwordFile?: string;
  passwordSecret?: string;
  tlsSecret?: string;
}
interface BackupOpts extends Login {
  to?: string;
  recipient?: string[];
  allowOtherDumpTool?: boolean;
}
interface StoredOpts {
  latest?: boolean;
  to?: string;
  identity?: string;
  source?: string;
}

function loginOptions(cmd: Command): Command {
  return cmd
    .option('--password-file <file>', 'file holding the password')
    .option('--password-secret <ns/name/key>', 'Kubernetes Secret key holding the password (kubeconfig or in-cluster)')
    .option('--tls-secret <ns/name>', 'Kubernetes Secret with the TLS files for --url (ca.crt, tls.crt, tls.key)');
}

export function registerBackupMysql(backup: Command): void {
  const cmd = loginOptions(
    backup
      .command('mysql')
      .description('consistent logical dump of MySQL/MariaDB databases, with row counts and checksums in a manifest')
      .argument('[name]', 'a database entry of lifeboat.yaml (without --url: all of them); with --url, the label')
      .option('--url <url>', 'mysql://USER@HOST[:PORT][/DATABASE] (no database: every user database)')
      .option('--to <dest>', 'directory or s3://bucket/prefix (default: first of backups.to)')
      .option(
        '--recipient <age1...>',
        'encrypt to this age recipient; repeatable (default: backups.encryption)',
        collect,
      )
      .option(
        '--allow-other-dump-tool',
        "dump a MySQL server with mariadb-dump when MySQL's mysqldump is missing (MySQL may not load it)",
      ),
  ).addHelpText('after', report.HELP.backup);
  cmd.action(action((ctx, _opts, args) => backupCommand(ctx, cmd.optsWithGlobals(), args)));
}

async function backupCommand(ctx: CommandContext, opts: BackupOpts, args: string[]): Promise<number> {
  const [{ backupMysql }, { backupConfiguredDatabase }, credentials, setup, { onStopSignals }] = await Promise.all([
    load.dump(),
    load.jobs(),
    load.credentials(),
    load.setup(),
    load.signals(),
  ]);
  const loaded = ctx.config();
  const controller = new AbortController();
  const removeHandlers = onStopSignals(() => controller.abort());
  const meter = report.statusMeter(ctx.out);
  const run = async (label: string, body: (onProgress: (p: Progress) => void) => Promise<MysqlBackupResult>) => {
    try {
      return await body((p) => meter.update(report.dumpProgressText(label, p)));
    } finally {
      meter.done();
    }
  };
  try {
    if (opts.url) {
      const target = await loginTarget(opts.url, opts);
      const source = args[0] ?? defaultSourceName(target.host, target.database);
      const [store, encryption, password] = await Promise.all([
        setup.openDestination(opts.to, loaded),
        setup.encryptionFor(
          opts.recipient?.length ? opts.recipient : (loaded?.config.backups?.encryption?.recipients ?? []),
        ),
        credentials.resolvePassword(await passwordSource(opts)),
      ]);
      const result = await run(source, (onProgress) =>
        backupMysql({
          target,
          password,
          source,
          store,
          encryption,
          onProgress,
          signal: controller.signal,
          paths: loaded?.config.mysqlTools,
          allowOtherTool: opts.allowOtherDumpTool,
        }),
      );
      printBackup(ctx, result);
      return 0;
    }
    if (opts.tlsSecret) {
      throw new UserError('--tls-secret goes with --url', 'a database of lifeboat.yaml takes tls: { secret: ... }');
    }
    const entries = loaded?.config.databases ?? [];
    if (entries.length === 0) throw new UserError('which database? give --url, or list databases in lifeboat.yaml');
    const chosen = args[0] ? entries.filter((e) => e.name === args[0]) : entries;
    if (chosen.length === 0) {
      throw new UserError(
        `no database "${args[0]}" in ${loaded?.path}`,
        `configured: ${entries.map((e) => e.name).join(', ')}`,
      );
    }
    // One named entry prints like --url; all of them print one line (one JSON document) for the whole run.
    const single = Boolean(args[0]);
    const backups: ReturnType<typeof report.mysqlBackupDocument>[] = [];
    const failed: { name: string; error: string; exitCode: number }[] = [];
    for (const entry of chosen) {
      try {
        const result = await run(entry.name, (onProgress) =>
          backupConfiguredDatabase(loaded!, entry, {
            onProgress,
            signal: controller.signal,
            to: opts.to,
            recipients: opts.recipient,
            allowOtherTool: opts.allowOtherDumpTool,
          }),
        );
        if (single || !ctx.out.json) printBackup(ctx, result);
        else backups.push(report.mysqlBackupDocument(result.manifest));
      } catch (err) {
        if (single || controller.signal.aborted) throw err;
        const exitCode = err instanceof UserError ? err.exitCode : 1;
        failed.push({ name: entry.name, error: errorMessage(err), exitCode });
        ctx.out.warn(`lifeboat: error: ${entry.name}: ${errorMessage(err)}`);
      }
    }
    if (!single && ctx.out.json) ctx.out.printJson({ ok: failed.length === 0, backups, failed });
    return Math.max(0, ...failed.map((f) => f.exitCode));
  } catch (err) {
    if (!controller.signal.aborted) throw err;
    ctx.out.warn('lifeboat: interrupted: the dump was stopped and nothing was stored');
    return 130;
  } finally {
    removeHandlers();
  }
}

type Progress = { bytes: number; rows: number; table?: string };

function printBackup(ctx: CommandContext, result: MysqlBackupResult): void {
  for (const w of result.warnings) ctx.out.warn(`warning: ${w}`);
  if (ctx.out.json) ctx.out.printJson(report.mysqlBackupDocument(result.manifest));
  else ctx.out.print(report.mysqlBackupLine(result.manifest));
}

async function passwordSource(opts: Login) {
  if (opts.passwordFile && opts.passwordSecret)
    throw new UserError('give --password-file or --password-secret, not both');
  const { parseSecretRef } = await load.credentials();
  return {
    passwordFile: opts.passwordFile,
    passwordSecret: opts.passwordSecret ? parseSecretRef(opts.passwordSecret) : undefined,
  };
}

/** --url with TLS from its ssl-* parameters and --tls-secret. */
async function loginTarget(url: string, opts: Login) {
  const { parseTlsSecretRef, resolveTarget } = await load.credentials();
  return resolveTarget(url, { tlsSecret: opts.tlsSecret ? parseTlsSecretRef(opts.tlsSecret) : undefined });
}

function storedOptions(cmd: Command): Command {
  return cmd
    .option('--latest', 'the newest database dump in the backup store')
    .option('--source <name>', 'with --latest: the newest dump of this source (a configured name, or the database)')
    .option('--to <dest>', 'backup store: directory or s3://bucket/prefix (default: first of backups.to)')
    .option('--identity <file>', 'age identity file for encrypted dumps (default: $LIFEBOAT_AGE_IDENTITY)');
}

export function registerVerifyMysql(verify: Command): void {
  const cmd = storedOptions(
    verify
      .command('mysql')
      .description(
        'restore drill: load a database dump into a scratch server of its engine and compare every table with its manifest',
      )
      .argument('[file]', 'dump: a file path, or an object name in the backup store'),
  )
    .option(
      '--scratch-dir <dir>',
      'where the scratch server lives (default: the OS temp dir; needs the data size free)',
    )
    .addHelpText('after', report.HELP.verify);
  // `verify` itself (etcd) declares --latest, --to, --identity and --scratch-dir and commander hands them to it.
  cmd.action(action((ctx, _opts, args) => verifyCommand(ctx, cmd.optsWithGlobals(), args)));
}

async function verifyCommand(ctx: CommandContext, opts: StoredOpts & { scratchDir?: string }, args: string[]) {
  const [{ readMysqlManifest, recordVerification, resolveDump }, { drillMysql }, setup, { onStopSignals }] =
    await Promise.all([load.catalog(), load.drill(), load.setup(), load.signals()]);
  const loaded = ctx.config();
  const { store, name } = await resolveDump(args[0], opts, loaded);
  const found = await readMysqlManifest(store, name);
  const manifest = found && 'manifest' in found ? found.manifest : undefined;
  if (found && 'error' in found) ctx.out.warn(`note: ${found.error}`);
  const decrypt = (manifest?.encrypted ?? name.endsWith('.age')) ? await setup.decryptionFor(opts.identity) : undefined;
  const controller = new AbortController();
  const removeHandlers = onStopSignals(() => controller.abort());
  const meter = report.statusMeter(ctx.out);
  let outcome: Awaited<ReturnType<typeof drillMysql>>;
  try {
    outcome = await drillMysql({
      store,
      name,
      manifest,
      decrypt,
      scratchDir: opts.scratchDir,
      signal: controller.signal,
      paths: loaded?.config.mysqlTools,
      onStage: (stage) => meter.update(`verify: ${stage}`),
      onProgress: (bytes, rows) =>
        meter.update(report.loadProgressText('loading', bytes, manifest?.plaintextSize, rows)),
    });
  } catch (err) {
    if (!controller.signal.aborted) throw err;
    ctx.out.warn('lifeboat: interrupted: the scratch server was stopped and its directory removed');
    return 130;
  } finally {
    meter.done();
    removeHandlers();
  }
  if (manifest) await recordVerification(store, name, manifest, outcome, VERSION);
  if (ctx.out.json) {
    ctx.out.printJson({
      ...outcome,
      manifest: manifest ? 'ok' : found ? 'unreadable' : 'missing',
      recorded: Boolean(manifest),
    });
  } else {
    for (const w of outcome.warnings) ctx.out.warn(`warning: ${w}`);
    ctx.out.print(report.drillLine(outcome));
    for (const p of outcome.problems) ctx.out.print(`  - ${p}`);
  }
  return outcome.ok ? 0 : 1;
}

export function registerRestoreMysql(restore: Command): void {
  const cmd = loginOptions(
    storedOptions(
      restore
        .command('mysql')
        .description('load a database dump into a server (refuses a non-empty database unless --force)')
        .argument('[file]', 'dump: a file path, or an object name in the backup store'),
    ),
  )
    .addOption(new Option('--url <url>', 'target: mysql://USER@HOST[:PORT][/DATABASE]').makeOptionMandatory())
    .option('--force', 'load into databases that already hold tables (the dump replaces its own tables)')
    .addHelpText('after', report.HELP.restore);
  cmd.action(action((ctx, _opts, args) => restoreCommand(ctx, cmd.optsWithGlobals(), args)));
}

async function restoreCommand(ctx: CommandContext, opts: StoredOpts & Login & { force?: boolean }, args: string[]) {
  const [{ readMysqlManifest, resolveDump }, { restoreMysql }, { resolvePassword }, setup, { onStopSignals }] =
    await Promise.all([load.catalog(), load.restore(), load.credentials(), load.setup(), load.signals()]);
  const target = await loginTarget(opts.url ?? '', opts);
  const loaded = ctx.config();
  const { store, name } = await resolveDump(args[0], opts, loaded);
  const found = await readMysqlManifest(store, name);
  const manifest = found && 'manifest' in found ? found.manifest : undefined;
  const decrypt = (manifest?.encrypted ?? name.endsWith('.age')) ? await setup.decryptionFor(opts.identity) : undefined;
  const password = await resolvePassword(await passwordSource(opts));
  const controller = new AbortController();
  const removeHandlers = onStopSignals(() => controller.abort());
  const meter = report.statusMeter(ctx.out);
  try {
    const outcome = await restoreMysql({
      store,
      name,
      manifest,
      decrypt,
      target,
      password,
      force: Boolean(opts.force),
      paths: loaded?.config.mysqlTools,
      onProgress: (bytes, total, rows) => meter.update(report.loadProgressText('restoring', bytes, total, rows)),
      signal: controller.signal,
    });
    meter.done();
    if (ctx.out.json) ctx.out.printJson(outcome);
    else {
      ctx.out.print(report.restoreLine(outcome));
      for (const p of outcome.problems) ctx.out.print(`  - ${p}`);
    }
    return outcome.ok ? 0 : 1;
  } finally {
    meter.done();
    removeHandlers();
  }
}

export function registerGuide(program: Command): void {
  const guide = commandGroup(program, 'guide');
  guide
    .command('mysql')
    .description('how to get a MySQL/MariaDB database back, by what you still have')
    .addOption(new Option('--have <what>', 'what you still have').choices([...HAVES]))
    .addOption(
      new Option('--engine <engine>', 'the server: MySQL 8/9 or MariaDB (default: both)').choices([...ENGINES]),
    )
    .action(
      action<{ have?: Have; engine?: Engine }>(async (ctx, opts) => {
        if (ctx.out.json) ctx.out.printJson(report.guideDocument(opts.have, opts.engine));
        else ctx.out.print(report.renderGuide(ctx.out, opts.have, opts.engine));
        return 0;
      }),
    );
}
