import { probeCluster } from '../adapters/etcd/probe.js';
import { sameUrl } from '../domain/diagnosis.js';
import type { EndpointProbe } from '../domain/probe.js';
import { connectionOptions, type EtcdTarget } from './settings.js';

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
