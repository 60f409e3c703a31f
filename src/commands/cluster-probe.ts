import type { EtcdConnectionOptions } from '../adapters/etcd/client.js';
import { probeCluster } from '../adapters/etcd/probe.js';
import { sameUrl } from '../domain/diagnosis.js';
import type { EndpointProbe } from '../domain/probe.js';
import { UserError } from '../errors.js';
import type { CommandContext, EtcdTarget } from './context.js';

export function connectionOptions(target: EtcdTarget): EtcdConnectionOptions {
  return { tls: target.tls, user: target.user, password: target.password };
}

/**
 * Probe the given endpoints, then any member client URL they reveal that was not given: a user who lists one
 * endpoint still sees every member. Each round is bounded by the deadline, so a hung member costs one deadline.
 */
export async function probeWithDiscovery(target: EtcdTarget, deadlineMs: number): Promise<EndpointProbe[]> {
  const opts = connectionOptions(target);
  const first = await probeCluster(target.endpoints, opts, deadlineMs);
  const discovered = [...new Set(first.flatMap((p) => p.members ?? []).flatMap((m) => m.clientURLs))].filter(
    (url) => !first.some((p) => sameUrl(p.endpoint, url)),
  );
  if (discovered.length === 0) return first;
  return [...first, ...(await probeCluster(discovered, opts, deadlineMs))];
}

/** The --timeout flag of status/doctor: a per-endpoint deadline. */
export function parseTimeout(text: string): number {
  const ms = Number(text);
  if (!Number.isInteger(ms) || ms < 100 || ms > 60_000) {
    throw new UserError(`--timeout must be milliseconds between 100 and 60000, got "${text}"`);
  }
  return ms;
}

/** Diagnosis thresholds the config may tighten (maintenance.maxRaftLag). */
export function diagnosisOptions(ctx: CommandContext): { maxRaftLag?: number } {
  const maxRaftLag = ctx.config()?.config.maintenance?.maxRaftLag;
  return maxRaftLag === undefined ? {} : { maxRaftLag };
}
