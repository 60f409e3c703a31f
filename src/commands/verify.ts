import { existsSync, statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { fileKind } from '../adapters/host/input-file.js';
import { readCatalog } from '../adapters/snapshot/catalog.js';
import { openDestination } from '../adapters/snapshot/setup.js';
import type { BackupStore } from '../adapters/store/types.js';
import { onStopSignals } from '../adapters/verify/signals.js';
import { drillAuth } from '../app/settings.js';
import { type VerifyOutcome, verifyAndRecord } from '../app/verify.js';
import { UserError } from '../errors.js';
import { action, type CommandContext } from './context.js';

interface VerifyOpts {
  latest?: boolean;
  log?: boolean;
  allChains?: boolean;
  to?: string;
  identity?: string;
  scratchDir?: string;
}

export function registerVerify(program: Command): void {
  program
    .command('verify')
    .description('restore drill: restore an etcd snapshot into a throwaway member and compare it with its manifest')
    .argument('[file]', 'snapshot: a file path, or an object name in the backup store')
    .option('--latest', 'the newest snapshot in the backup store')
    .option('--log', 'the change log instead: restore a random point of the newest chain and compare with the log')
    .option('--all-chains', 'with --log: every chain, not just the newest')
    .option('--to <dest>', 'backup store: directory or s3://bucket/prefix (default: first of backups.to)')
    .option('--identity <file>', 'age identity file for encrypted snapshots (default: $LIFEBOAT_AGE_IDENTITY)')
    .option(
      '--scratch-dir <dir>',
      'where the throwaway member lives (default: the OS temp dir; needs the db size free)',
    )
    .addHelpText(
      'after',
      `
Checks, in order: the stored bytes match the manifest; the snapshot's SHA-256 trailer holds (a flipped byte, a
truncated file and a missing trailer are each named); etcd's own restore (etcdutl, or etcdctl on 3.4) succeeds; a
throwaway single-member etcd on free loopback ports serves the manifest's revision, key count and HashKV. The member
and its scratch directory are removed afterwards, also on failure or Ctrl-C. The result is recorded in the manifest.

Examples:
  lifeboat -c lifeboat.yaml verify --latest
  lifeboat verify /mnt/nfs/lifeboat/etcd/2026-11-27T150905.123Z-home.db --json
  LIFEBOAT_AGE_IDENTITY=~/.age/lifeboat.key lifeboat verify --latest --to s3://bucket/lifeboat
  lifeboat -c lifeboat.yaml verify --log          # point-in-time restore drill of the change log

Exit codes: 0 the drill passed, 1 it failed, 2 bad input, 130 interrupted.`,
    )
    .action(action<VerifyOpts>(verifyCommand));
}

async function verifyCommand(ctx: CommandContext, opts: VerifyOpts, args: string[]): Promise<number> {
  if (opts.log) return verifyLogCommand(ctx, opts);
  const { store, name } = await resolveSnapshot(ctx, args[0], opts);
  const controller = new AbortController();
  const removeHandlers = onStopSignals(() => controller.abort());
  let result: Awaited<ReturnType<typeof verifyAndRecord>>;
  try {
    result = await verifyAndRecord({
      store,
      name,
      identity: opts.identity,
      scratchDir: opts.scratchDir,
      signal: controller.signal,
      auth: drillAuth(ctx),
    });
  } catch (err) {
    if (!controller.signal.aborted) throw err;
    ctx.out.warn('lifeboat: interrupted: the throwaway etcd was stopped and its scratch directory removed');
    return 130;
  } finally {
    removeHandlers();
  }
  const { outcome } = result;
  if (ctx.out.json) {
    ctx.out.printJson({ ...outcome, manifest: result.manifest, recorded: result.recorded });
  } else {
    ctx.out.print(verifyLine(outcome));
    for (const p of outcome.problems) ctx.out.print(`  - ${p}`);
    if (result.manifest === 'missing') ctx.out.warn('note: no manifest beside this snapshot: nothing to compare with');
  }
  return outcome.ok ? 0 : 1;
}

export function verifyLine(o: VerifyOutcome): string {
  if (!o.ok) return `verify FAILED for ${o.location} (${o.seconds.toFixed(1)}s):`;
  const hash = o.hashKVMatch === true ? ', HashKV matches the source member' : '';
  return `verify ok: ${o.location} restored and served revision ${o.revision} with ${o.keys} keys${hash} (${o.seconds.toFixed(1)}s)`;
}

async function resolveSnapshot(
  ctx: CommandContext,
  file: string | undefined,
  opts: VerifyOpts,
): Promise<{ store: BackupStore; name: string }> {
  if (file && opts.latest) throw new UserError('give a snapshot FILE or --latest, not both');
  const backups = ctx.config()?.config.backups;
  if (file) {
    const path = resolve(file);
    if (existsSync(path)) {
      const st = statSync(path);
      if (st.isFile()) return { store: await openDestination(dirname(path)), name: basename(path) };
      throw new UserError(`${file} is ${fileKind(st)}, not a snapshot file`, 'give a snapshot taken by backup etcd');
    }
    if (!opts.to && !backups?.to) throw new UserError(`cannot read ${file}: no such file`);
    const store = await openDestination(opts.to, ctx.config());
    if ((await store.list(file)).some((o) => o.name === file)) return { store, name: file };
    throw new UserError(`no snapshot "${file}": not a file here, and not an object in ${store.location}`);
  }
  if (!opts.latest) throw new UserError('which snapshot? give a FILE (path or object name) or --latest');
  const store = await openDestination(opts.to, ctx.config());
  const newest = (await readCatalog(store)).entries[0];
  if (!newest) throw new UserError(`no etcd backups in ${store.location}`, 'take one with: lifeboat backup etcd');
  return { store, name: newest.name };
}

/** `verify --log`: one line per chain; exit 1 when any chain fails. */
async function verifyLogCommand(ctx: CommandContext, opts: VerifyOpts): Promise<number> {
  const store = await openDestination(opts.to, ctx.config());
  const [{ verifyChains }, { decryptionFor }] = await Promise.all([
    import('../app/etcdlog/restore.js'),
    import('../adapters/snapshot/setup.js'),
  ]);
  const encrypted = (await store.list('etcd')).some((o) => o.name.endsWith('.age'));
  const decrypt = encrypted ? await decryptionFor(opts.identity) : undefined;
  const controller = new AbortController();
  const removeHandlers = onStopSignals(() => controller.abort());
  try {
    const verdicts = await verifyChains({
      store,
      decrypt,
      scratchDir: opts.scratchDir,
      signal: controller.signal,
      all: opts.allChains,
    });
    if (verdicts.length === 0) throw new UserError(`no change log in ${store.location}`, 'run backup etcd --follow');
    if (ctx.out.json) ctx.out.printJson({ chains: verdicts });
    else {
      for (const v of verdicts) {
        ctx.out.print(
          v.ok
            ? `OK ${v.chain}: revision ${v.revision} restored, ${v.keys} keys match the log (digest ${v.digest!.slice(0, 12)}), ${v.seconds.toFixed(1)}s`
            : `FAILED ${v.chain}: ${v.problem}`,
        );
      }
    }
    return verdicts.every((v) => v.ok) ? 0 : 1;
  } catch (err) {
    if (!controller.signal.aborted) throw err;
    ctx.out.warn('lifeboat: interrupted');
    return 130;
  } finally {
    removeHandlers();
  }
}
