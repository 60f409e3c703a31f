import { hostname, userInfo } from 'node:os';
import type { Command } from 'commander';
import { MaintenanceRecords } from '../adapters/agent/state.js';
import { EtcdError } from '../adapters/etcd/errors.js';
import { KubeApiError } from '../adapters/kube/api.js';
import { EtcdKv } from '../adapters/lock/etcd-kv.js';
import { openLockBackend, readLockHolders } from '../adapters/lock/open.js';
import { connectionOptions } from '../app/settings.js';
import { renderStatus, statusDocument } from '../domain/maintenance/status.js';
import { UnreachableError, UserError } from '../errors.js';
import { action, type CommandContext } from './context.js';

interface ReasonOpts {
  reason?: string;
}

interface StatusOpts {
  kubeconfig?: string;
  context?: string;
}

export function registerMaintain(program: Command): void {
  const maintain = program
    .command('maintain')
    .description('see and steer the maintenance agents: status, request, cancel, pause, resume')
    .addHelpText(
      'after',
      `
Examples:
  lifeboat maintain status                      lock holder, pause, requests, each node's last maintenance
  lifeboat maintain request cp2 --reason "kernel update"
  lifeboat maintain pause --reason "migration tonight"; lifeboat maintain resume

Exit codes: 0 ok, 2 bad input, 3 etcd unreachable or without quorum (nothing can be read or changed).`,
    );
  maintain
    .command('status')
    .description('who holds the lock, why, and what every agent sees')
    .option('--kubeconfig <file>', 'kubeconfig for maintenance.lock: kubernetes (default: $KUBECONFIG, ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context')
    .action(action<StatusOpts>(status));
  maintain
    .command('request <node>')
    .description("ask NODE's agent to reboot it when the cluster can afford it")
    .option('--reason <text>', 'why (shown in status and in the lock)')
    .action(action<ReasonOpts>(request));
  maintain.command('cancel <node>').description('withdraw a request that has not started').action(action(cancel));
  maintain
    .command('pause')
    .description('stop every agent from starting maintenance (one already under way finishes)')
    .option('--reason <text>', 'why (shown to everyone)')
    .action(action<ReasonOpts>(pause));
  maintain.command('resume').description('let agents start maintenance again').action(action(resume));
}

async function withRecords<T>(ctx: CommandContext, body: (kv: EtcdKv, r: MaintenanceRecords) => Promise<T>) {
  const target = ctx.etcdTarget();
  const kv = new EtcdKv(target.endpoints, connectionOptions(target), 3000);
  try {
    return await body(kv, new MaintenanceRecords(kv));
  } catch (err) {
    if (err instanceof EtcdError && err.kind !== 'auth' && err.kind !== 'tls') {
      throw new UnreachableError(`cannot reach etcd with quorum: ${err.problem}`, 'lifeboat doctor says why');
    }
    throw err;
  } finally {
    kv.close();
  }
}

async function status(ctx: CommandContext, opts: StatusOpts): Promise<number> {
  const config = ctx.config()?.config;
  const configNodes = config?.nodes ?? [];
  const doc = await withRecords(ctx, async (kv, r) => {
    const locks = await openLockBackend(config, kv, { kubeconfig: opts.kubeconfig, context: opts.context });
    const [paused, held, requests, nodes, reports] = await Promise.all([
      r.pause(),
      readLockHolders(locks).catch((err: unknown) => {
        if (err instanceof KubeApiError && err.status === 0) {
          throw new UnreachableError(`cannot read the maintenance Leases: ${err.message}`);
        }
        throw err;
      }),
      r.requests(),
      r.nodes(),
      r.reports(),
    ]);
    return statusDocument({
      now: Date.now(),
      ...(paused ? { paused } : {}),
      locks: held,
      requests,
      nodes,
      reports,
      configNodes,
    });
  });
  if (ctx.out.json) ctx.out.printJson(doc);
  else ctx.out.print(renderStatus(doc));
  return 0;
}

function who(): string {
  return `${userInfo().username}@${hostname()}`;
}

/**
 * A request for a node nobody knows would wait for ever and say "requested" (it exited 0 for a typo): the node must
 * be in the config's nodes, or, without them, an agent must have reported under that name.
 */
async function checkNode(ctx: CommandContext, node: string, records: MaintenanceRecords): Promise<void> {
  const nodes = ctx.config()?.config.nodes ?? [];
  if (nodes.length) {
    if (nodes.some((n) => n.name === node)) return;
    throw new UserError(`no node "${node}" in the config`, `nodes: ${nodes.map((n) => n.name).join(', ')}`);
  }
  const agents = (await records.reports()).map((r) => r.node).sort();
  if (agents.includes(node)) return;
  throw new UserError(
    `no agent has reported for node "${node}"`,
    agents.length ? `agents: ${agents.join(', ')}` : 'no agent runs yet (lifeboat agent --node NAME on each node)',
  );
}

function done(ctx: CommandContext, json: Record<string, unknown>, text: string): number {
  if (ctx.out.json) ctx.out.printJson(json);
  else ctx.out.print(text);
  return 0;
}

async function request(ctx: CommandContext, opts: ReasonOpts, args: string[]): Promise<number> {
  const node = args[0]!;
  const record = { node, by: who(), at: new Date().toISOString(), ...(opts.reason ? { reason: opts.reason } : {}) };
  await withRecords(ctx, async (_, r) => {
    await checkNode(ctx, node, r);
    await r.putRequest(record);
  });
  return done(ctx, { requested: record }, `requested maintenance of ${node}; its agent reboots it when it is safe`);
}

async function cancel(ctx: CommandContext, _opts: unknown, args: string[]): Promise<number> {
  const node = args[0]!;
  const { deleted, rebooting } = await withRecords(ctx, async (_, r) => {
    // A request already made for an unknown node (older versions took it) can still be withdrawn.
    if (!(await r.requests()).some((q) => q.node === node)) await checkNode(ctx, node, r);
    return { deleted: await r.deleteRequest(node), rebooting: (await r.node(node)).phase === 'rebooting' };
  });
  const text = deleted ? `cancelled the request for ${node}` : `no request for ${node} was pending`;
  const note = rebooting ? ` (${node} is already rebooting; that maintenance finishes)` : '';
  return done(ctx, { node, cancelled: deleted, rebooting }, text + note);
}

async function pause(ctx: CommandContext, opts: ReasonOpts): Promise<number> {
  const record = { by: who(), at: new Date().toISOString(), ...(opts.reason ? { reason: opts.reason } : {}) };
  await withRecords(ctx, (_, r) => r.putPause(record));
  return done(ctx, { paused: record }, 'maintenance paused: no agent starts a reboot until `lifeboat maintain resume`');
}

async function resume(ctx: CommandContext): Promise<number> {
  const was = await withRecords(ctx, (_, r) => r.deletePause());
  return done(ctx, { resumed: was }, was ? 'maintenance resumed' : 'maintenance was not paused');
}
