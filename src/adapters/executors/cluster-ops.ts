import type { MemberEntry } from '../../domain/probe.js';
import { errorMessage } from '../../errors.js';
import { type EtcdConnectionOptions, EtcdEndpointClient } from '../etcd/client.js';
import { delay } from '../proc/wait.js';

/**
 * Cluster API steps of a recovery, each one idempotent: it looks first and acts only when its work is not done.
 * Everything polls with a deadline; errors carry the last thing etcd said.
 */

export const WRITABLE_KEY = '/lifeboat/recover/writable';

/** An error no amount of waiting fixes (a member process exited): stops a retry loop at once. */
export class FatalStepError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FatalStepError';
  }
}

const trim = (url: string) => url.replace(/\/+$/, '');

export class ClusterOps {
  constructor(private readonly conn: EtcdConnectionOptions = {}) {}

  async use<T>(endpoint: string, fn: (c: EtcdEndpointClient) => Promise<T>): Promise<T> {
    const client = new EtcdEndpointClient(endpoint, this.conn);
    try {
      return await fn(client);
    } finally {
      client.close();
    }
  }

  members(via: string): Promise<MemberEntry[]> {
    return this.use(via, (c) => c.memberList(3000));
  }

  /** Remove the member with this id if the cluster still lists it. Returns false when it was already gone. */
  async removeMember(via: string, id: string, timeoutMs = 30_000): Promise<boolean> {
    return this.retry(`removing member ${id} through ${via}`, timeoutMs, async () => {
      if (!(await this.members(via)).some((m) => m.id === id)) return { done: false };
      await this.use(via, (c) => c.memberRemove(id));
      return { done: true };
    }).then((r) => r.done);
  }

  /** Add a learner at peerUrl unless a member other than `oldId` already has it (then `added` is false). */
  async addLearner(
    via: string,
    peerUrl: string,
    oldId: string,
    timeoutMs = 30_000,
  ): Promise<{ id: string; added: boolean }> {
    return this.retry(`adding a learner at ${peerUrl} through ${via}`, timeoutMs, async () => {
      const existing = (await this.members(via)).find((m) => m.peerURLs.some((u) => trim(u) === trim(peerUrl)));
      if (existing && existing.id !== oldId) return { id: existing.id, added: false };
      if (existing) throw new Error(`the stale member ${existing.id} still holds ${peerUrl}`);
      const res = await this.use(via, (c) => c.memberAdd([peerUrl], { isLearner: true }));
      return { id: res.member.id, added: true };
    });
  }

  /** Promote the learner at peerUrl; etcd refuses until it is in sync, so this retries until the deadline. */
  async promote(via: string, peerUrl: string, timeoutMs = 120_000): Promise<boolean> {
    return this.retry(`promoting the learner at ${peerUrl}`, timeoutMs, async () => {
      const m = (await this.members(via)).find((x) => x.peerURLs.some((u) => trim(u) === trim(peerUrl)));
      if (!m) throw new Error(`no member at ${peerUrl}`);
      if (!m.isLearner) return false;
      await this.use(via, (c) => c.memberPromote(m.id));
      return true;
    });
  }

  /**
   * The highest raft index any listed member reports, taken once the new member answers; then wait until the new
   * member has applied that far. A moving target (live writes) cannot keep this from finishing.
   */
  async waitCaughtUp(memberUrl: string, via: string, timeoutMs = 180_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    await this.retry(`${memberUrl} to answer`, timeoutMs, () => this.use(memberUrl, (c) => c.status(2000)));
    const urls = (await this.members(via)).flatMap((m) => m.clientURLs.slice(0, 1));
    const statuses = await Promise.allSettled(urls.map((u) => this.use(u, (c) => c.status(2000))));
    const target = Math.max(
      0,
      ...statuses.flatMap((s) => (s.status === 'fulfilled' ? [s.value.raftAppliedIndex ?? s.value.raftIndex] : [])),
    );
    return this.retry(`${memberUrl} to apply raft index ${target}`, Math.max(1000, deadline - Date.now()), async () => {
      const s = await this.use(memberUrl, (c) => c.status(2000));
      const applied = s.raftAppliedIndex ?? s.raftIndex;
      if (applied < target) throw new Error(`applied ${applied} of ${target}`);
      return applied;
    });
  }

  /** A real write through `endpoint` (a read can succeed on a member that cannot write: NOSPACE). */
  async waitWritable(endpoint: string, timeoutMs = 30_000): Promise<number> {
    return this.retry(`a write through ${endpoint}`, timeoutMs, () =>
      this.use(endpoint, (c) => c.put(WRITABLE_KEY, new Date().toISOString(), { deadlineMs: 3000 })),
    );
  }

  /** Every endpoint answers with the same leader, and a linearizable read succeeds through each; else throws. */
  async checkHealthy(endpoints: string[]): Promise<void> {
    const leaders = await Promise.all(
      endpoints.map((e) =>
        this.use(e, async (c) => {
          const s = await c.status(2000);
          await c.get(WRITABLE_KEY, { deadlineMs: 2000 });
          return s.leaderId;
        }),
      ),
    );
    if (leaders.some((l) => l === '0' || l !== leaders[0])) throw new Error(`no common leader (${leaders.join(', ')})`);
  }

  /** Poll `attempt` until it returns (a thrown error means "not yet"); the last error explains a timeout. */
  async retry<T>(what: string, timeoutMs: number, attempt: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    for (;;) {
      try {
        return await attempt();
      } catch (err) {
        if (err instanceof FatalStepError) throw err;
        last = errorMessage(err);
      }
      if (Date.now() > deadline)
        throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}: ${last}`);
      await delay(200);
    }
  }
}
