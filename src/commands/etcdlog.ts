import type { Command } from 'commander';
import type { EtcdConnectionOptions } from '../adapters/etcd/connection.js';
import { BrokenLogError } from '../adapters/etcdlog/store.js';
import { KeyspaceReader } from '../adapters/snapshot/keyspace.js';
import { decryptionFor, openDestination } from '../adapters/snapshot/setup.js';
import type { ByteTransform } from '../adapters/snapshot/stream.js';
import type { BackupStore } from '../adapters/store/types.js';
import { onStopSignals } from '../adapters/verify/signals.js';
import { type FollowEvent, Follower } from '../app/etcdlog/follow.js';
import { chainWindows, restoreToPoint } from '../app/etcdlog/restore.js';
import { probeWithDiscovery } from '../app/probe.js';
import { connectionOptions } from '../app/settings.js';
import type { BackupManifest } from '../domain/backup/manifest.js';
import { parseDuration } from '../domain/duration.js';
import { DEFAULT_LOG_POLICY, type LogPolicy, parsePoint } from '../domain/etcdlog/replay.js';
import { errorMessage, UserError } from '../errors.js';
import { followEventLine, restoreLine } from '../render/etcdlog.js';
import { action, type CommandContext, commandGroup } from './context.js';

/** `backup etcd --follow` and `restore etcd --at`: the change log's front ends (ADR 010). */

export interface FollowSetup {
  store: BackupStore;
  encryption?: { encrypt: ByteTransform };
  identity?: string;
  followEvery?: string;
  sealEvery?: string;
  snapshot: (signal: AbortSignal) => Promise<BackupManifest>;
}

/** The durability cadence from the flag, else backups.etcd.followEvery, else 1 s. */
export function logPolicy(ctx: CommandContext, flag: string | undefined, sealFlag?: string): LogPolicy {
  const text = flag ?? ctx.config()?.config.backups?.etcd?.followEvery;
  const policy = { ...DEFAULT_LOG_POLICY };
  if (text !== undefined) {
    const ms = parseDuration(text);
    if (!ms || ms < 50 || ms > 60_000) {
      throw new UserError(`--follow-every needs a duration between 50ms and 1m, got "${text}"`);
    }
    policy.durableEveryMs = ms;
  }
  if (sealFlag !== undefined) {
    const ms = parseDuration(sealFlag);
    if (!ms) throw new UserError(`--seal-every needs a duration, got "${sealFlag}"`);
    policy.sealAfterMs = ms;
  }
  return policy;
}

/** Runs the follower until SIGINT/SIGTERM: one line per event (JSON lines with --json). */
export async function followCommand(ctx: CommandContext, setup: FollowSetup): Promise<number> {
  const policy = logPolicy(ctx, setup.followEvery, setup.sealEvery);
  const target = ctx.etcdTarget();
  const probes = await probeWithDiscovery(target, 3000);
  const endpoints = [...new Set([...probes.filter((p) => p.status).map((p) => p.endpoint), ...target.endpoints])];
  const clusterId = await clusterIdOf(endpoints, connectionOptions(target));
  const controller = new AbortController();
  const removeHandlers = onStopSignals(() => controller.abort());
  const decrypt = setup.encryption ? await decryptionIfGiven(setup.identity) : undefined;
  const follower = new Follower({
    endpoints,
    connection: connectionOptions(target),
    store: setup.store,
    ...(clusterId ? { clusterId } : {}),
    policy,
    encryption: setup.encryption,
    decrypt,
    snapshot: () => setup.snapshot(controller.signal),
    signal: controller.signal,
    onEvent: (e: FollowEvent) => ctx.out.print(ctx.out.json ? JSON.stringify(e) : followEventLine(e)),
  });
  try {
    await follower.run();
  } catch (err) {
    if (err instanceof UserError) throw err;
    ctx.out.warn(`lifeboat: error: ${errorMessage(err)}`);
    return 1;
  } finally {
    removeHandlers();
  }
  const s = follower.status();
  ctx.out.warn(`lifeboat: stopped; chain ${s.chain} durable up to revision ${s.durableRevision}`);
  return 0;
}

/** The cluster's id, from the first member that answers (chains of other clusters in the store are not resumed). */
async function clusterIdOf(endpoints: string[], connection: EtcdConnectionOptions): Promise<string | undefined> {
  for (const endpoint of endpoints) {
    const reader = new KeyspaceReader(endpoint, connection);
    try {
      return (await reader.point(5000)).clusterId;
    } catch {
      // the next member, then
    } finally {
      reader.close();
    }
  }
  return undefined;
}

/** Resuming an encrypted chain reads its open chunks: that needs the identity (a new chain does not). */
async function decryptionIfGiven(identity: string | undefined): Promise<ByteTransform | undefined> {
  if (!identity && !process.env.LIFEBOAT_AGE_IDENTITY) return undefined;
  return decryptionFor(identity);
}

interface RestoreOpts {
  at?: string;
  to?: string;
  from?: string;
  identity?: string;
  scratchDir?: string;
}

export function registerRestoreEtcd(program: Command): void {
  const restore = commandGroup(program, 'restore');
  restore
    .command('etcd')
    .description('rebuild etcd as it was at a revision or a time: a snapshot plus the change log, replayed')
    .option('--at <revision|time>', 'a revision, or an ISO time with a zone (default: the newest point logged)')
    .option('--to <file>', 'snapshot file to write (default: ./etcd-REVISION.db)')
    .option('--from <dest>', 'backup store: directory or s3://bucket/prefix (default: first of backups.to)')
    .option('--identity <file>', 'age identity for encrypted backups (default: $LIFEBOAT_AGE_IDENTITY)')
    .option('--scratch-dir <dir>', 'where the backend of the point is built (default: the OS temp dir)')
    .addHelpText(
      'after',
      `
Picks the newest full snapshot at or before the point, appends every revision of the change log (backup etcd
--follow) up to the point to its etcd backend as etcd itself stores them, so revisions, create/mod revisions and
versions are the source's, and writes an ordinary snapshot file: restore it with etcdutl/etcdctl snapshot restore
or lifeboat recover --plan snapshot. A time means the newest revision the follower had seen by then.

Examples:
  lifeboat -c lifeboat.yaml restore etcd --at 2026-12-02T14:02:00Z --to before-delete.db
  lifeboat -c lifeboat.yaml restore etcd --at 184467 --to snap.db --json
  lifeboat -c lifeboat.yaml restore etcd              # the newest point the log holds

Exit codes: 0 written, 1 failed (a missing, cut or altered log object is named), 2 bad input.`,
    )
    .action(action<RestoreOpts>(restoreCommand));
}

async function restoreCommand(ctx: CommandContext, opts: RestoreOpts): Promise<number> {
  const point = opts.at === undefined ? undefined : parsePoint(opts.at);
  if (point && 'error' in point) throw new UserError(`--at: ${point.error}`);
  const store = await openDestination(opts.from, ctx.config());
  const encrypted = (await chainWindows(store)).chains.length > 0 && (await anyEncrypted(store));
  const decrypt = encrypted || opts.identity ? await decryptionFor(opts.identity) : undefined;
  const controller = new AbortController();
  const removeHandlers = onStopSignals(() => controller.abort());
  try {
    const result = await restoreToPoint({
      store,
      ...(point ? { point } : {}),
      to: opts.to ?? `etcd-${point && 'revision' in point ? point.revision : 'restored'}.db`,
      decrypt,
      scratchDir: opts.scratchDir,
      signal: controller.signal,
    });
    if (ctx.out.json) ctx.out.printJson(result);
    else ctx.out.print(restoreLine(result));
    return 0;
  } catch (err) {
    if (err instanceof UserError) throw err;
    if (controller.signal.aborted) {
      ctx.out.warn('lifeboat: interrupted: nothing was written');
      return 130;
    }
    const prefix = err instanceof BrokenLogError ? 'the change log is broken: ' : '';
    ctx.out.warn(`lifeboat: error: ${prefix}${errorMessage(err)}`);
    return 1;
  } finally {
    removeHandlers();
  }
}

async function anyEncrypted(store: BackupStore): Promise<boolean> {
  const objects = await store.list('etcd');
  return objects.some((o) => o.name.endsWith('.age'));
}
