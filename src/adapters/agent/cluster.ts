import type { LeaderMove } from '../../domain/maintenance/prechecks.js';
import type { EndpointProbe } from '../../domain/probe.js';
import { type EtcdConnectionOptions, EtcdEndpointClient } from '../etcd/client.js';
import { probeCluster } from '../etcd/probe.js';
import { delay } from '../proc/wait.js';

/** Probe rounds and leadership moves for the agent; every call bounded by a deadline. */
export class ClusterAccess {
  constructor(
    readonly endpoints: string[],
    private readonly opts: EtcdConnectionOptions,
    private readonly deadlineMs = 2000,
  ) {}

  /** Every given endpoint, plus any member client URL they reveal (so one configured endpoint still sees all). */
  async probe(): Promise<EndpointProbe[]> {
    const first = await probeCluster(this.endpoints, this.opts, this.deadlineMs);
    const known = new Set(first.map((p) => trim(p.endpoint)));
    const more = [...new Set(first.flatMap((p) => p.members ?? []).flatMap((m) => m.clientURLs.map(trim)))].filter(
      (u) => !known.has(u),
    );
    return more.length ? [...first, ...(await probeCluster(more, this.opts, this.deadlineMs))] : first;
  }

  /** Asks the leader to hand over to `move.toId`, then waits until some member reports another leader. */
  async moveLeader(move: LeaderMove, timeoutMs = 15_000): Promise<string> {
    const client = new EtcdEndpointClient(move.fromEndpoint, this.opts);
    try {
      await client.moveLeader(move.toId, Math.min(timeoutMs, 10_000));
    } finally {
      client.close();
    }
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const probes = await probeCluster(this.endpoints, this.opts, this.deadlineMs);
      const leaders = new Set(
        probes.flatMap((p) => (p.status && p.status.leaderId !== '0' ? [p.status.leaderId] : [])),
      );
      if (leaders.size === 1 && !leaders.has(move.fromId)) return [...leaders][0]!;
      if (Date.now() > deadline)
        throw new Error(`leadership did not move away from ${move.fromName} within ${timeoutMs} ms`);
      await delay(100);
    }
  }
}

function trim(url: string): string {
  return url.replace(/\/+$/, '');
}
