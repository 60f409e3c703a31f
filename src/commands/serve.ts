import { resolve } from 'node:path';
import type { Command } from 'commander';
import { runInSmallHeapWorker, wantsSmallHeapWorker } from '../adapters/proc/small-heap.js';
import { onStopSignals } from '../adapters/verify/signals.js';
import { formatDuration, parseDuration } from '../domain/duration.js';
import { isKnownTimeZone } from '../domain/schedule/tz.js';
import { DURATION_LIMITS } from '../domain/validation.js';
import { UserError } from '../errors.js';
import type { ServeEvent } from '../server/events.js';
import { action, type CommandContext, DEFAULT_CONFIG } from './context.js';

interface ServeOpts {
  listen: string;
  probeInterval: string;
  probeTimeout: string;
  identity?: string;
  timezone?: string;
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('status page, Prometheus /metrics, scheduled backups and drills, and alerts, in one process')
    .option('--listen <host:port>', 'where to answer HTTP (port 0: any free port)', '127.0.0.1:9810')
    .option('--probe-interval <duration>', 'how often to probe etcd', '5s')
    .option('--probe-timeout <duration>', 'per-endpoint deadline of each probe', '2s')
    .option('--identity <file>', `age identity for drills of encrypted backups ($LIFEBOAT_AGE_IDENTITY)`)
    .option('--timezone <zone>', "calendar and timeline days in this zone (default: the etcd members' reboot zone)")
    .addHelpText(
      'after',
      `
Runs until SIGINT/SIGTERM. Schedules come from lifeboat.yaml (backups.etcd.every with prune and restore drills,
databases[].every); the reboot schedule is checked again whenever the file changes; alerts go to alerts.webhooks on
every change of state (and once more when it clears). One line per event on stdout (JSON lines with --json).

  /             status page (no external resources; works offline and on a phone)
  /api/status   the same as JSON
  /metrics      Prometheus text format (example rules: deploy/prometheus/lifeboat-rules.yaml)
  /healthz      200 while the probe loop runs (etcd being down is not serve being down)
The page and API are read-only and unauthenticated: listen beyond loopback only on a trusted network or behind
a proxy that authenticates.

Examples:
  lifeboat -c lifeboat.yaml serve
  lifeboat -c lifeboat.yaml serve --listen 0.0.0.0:9810 --probe-interval 10s

Exit codes: 0 stopped by a signal, 2 bad input (flags, config, address in use).`,
    )
    .action(action<ServeOpts>(serveCommand));
}

async function serveCommand(ctx: CommandContext, opts: ServeOpts): Promise<number> {
  // With the change-log follower (backups.etcd.follow) serve runs in a worker thread with a small young generation
  // (issue 19); without it there is no allocation rate to bound and the worker's second isolate would only cost
  // memory (13-46 MB at idle).
  if (ctx.config()?.config.backups?.etcd?.follow === true && wantsSmallHeapWorker()) return runInSmallHeapWorker();
  const { host, port } = parseListen(opts.listen);
  // Bounded: a timer past 2^31 ms fires at once (Node's overflow rule), so 999999999h meant "probe in a tight loop".
  const probeIntervalMs = durationFlag('--probe-interval', opts.probeInterval, DURATION_LIMITS.probeInterval);
  const probeTimeoutMs = durationFlag('--probe-timeout', opts.probeTimeout, DURATION_LIMITS.probeTimeout);
  if (opts.timezone !== undefined && !isKnownTimeZone(opts.timezone)) {
    throw new UserError(`unknown time zone "${opts.timezone}" in --timezone`, 'examples: UTC, Europe/Berlin');
  }
  // A drill hours from now is the wrong moment to learn that the identity file is missing or not one.
  if (opts.identity !== undefined) {
    const { decryptionFor } = await import('../adapters/snapshot/setup.js');
    await decryptionFor(opts.identity);
  }
  const loaded = ctx.config();
  const configPath = loaded?.path ?? (ctx.opts.config ? resolve(ctx.opts.config) : undefined);
  // Loaded only here: prom-client, the page and the job adapters are no cost to every other command's start-up.
  const { Serve } = await import('../server/serve.js');
  const serve = new Serve({
    globals: { ...ctx.opts, config: configPath ?? ctx.opts.config },
    configPath,
    host,
    port,
    probeIntervalMs,
    probeTimeoutMs,
    identity: opts.identity,
    zone: opts.timezone,
    log: (e: ServeEvent) =>
      ctx.out.print(ctx.out.json ? JSON.stringify(e) : `${e.at} ${e.level.padEnd(7)} ${e.topic}: ${e.message}`),
  });
  try {
    await serve.start();
  } catch (err) {
    await serve.stop();
    const code = (err as NodeJS.ErrnoException).code;
    // ENOTFOUND/EAI_AGAIN: a host that does not resolve (256.1.1.1, a typo) is the flag's fault too.
    if (['EADDRINUSE', 'EACCES', 'EADDRNOTAVAIL', 'ENOTFOUND', 'EAI_AGAIN', 'EINVAL'].includes(code ?? '')) {
      throw new UserError(`cannot listen on ${opts.listen}: ${code}`, 'pick another --listen host:port');
    }
    throw err;
  }
  const where = loaded ? ` for ${loaded.path}` : ` (no config: ${DEFAULT_CONFIG} not found; probing only)`;
  serve.events.add('info', 'serve', `listening on ${serve.url}${where}`);
  await new Promise<void>((done) => onStopSignals(() => done()));
  serve.events.add('info', 'serve', 'stopping');
  await serve.stop();
  return 0;
}

function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[3]) : Number.NaN;
  if (!m || port > 65535) {
    throw new UserError(`invalid --listen "${text}"`, 'HOST:PORT, e.g. 127.0.0.1:9810, 0.0.0.0:9810 or [::1]:9810');
  }
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port };
}

function durationFlag(flag: string, text: string, limits: { min: number; max: number }): number {
  const ms = parseDuration(text);
  if (ms === undefined || ms < limits.min || ms > limits.max) {
    throw new UserError(
      `invalid ${flag} "${text}" (a duration between ${formatDuration(limits.min)} and ${formatDuration(limits.max)}, e.g. 5s)`,
    );
  }
  return ms;
}
