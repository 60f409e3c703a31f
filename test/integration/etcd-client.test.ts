import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtcdEndpointClient, EtcdError } from '../../src/adapters/etcd/client.js';
import { probeCluster, probeEndpoint } from '../../src/adapters/etcd/probe.js';
import { freePort } from '../../src/adapters/proc/ports.js';
import { waitFor } from '../../src/adapters/proc/wait.js';
import { startTestCluster, type TestCluster } from '../helpers/etcd-cluster.js';

let cluster: TestCluster;
const clients: EtcdEndpointClient[] = [];

function client(i: number): EtcdEndpointClient {
  const c = new EtcdEndpointClient(cluster.endpoints[i]!, {});
  clients.push(c);
  return c;
}

async function rejection(p: Promise<unknown>): Promise<EtcdError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(EtcdError);
  return err as EtcdError;
}

beforeAll(async () => {
  cluster = await startTestCluster(3);
});

afterAll(async () => {
  for (const c of clients) c.close();
  await cluster?.destroy();
});

describe('EtcdEndpointClient against a healthy 3-member cluster', () => {
  it('puts, gets and counts', async () => {
    const c = client(0);
    expect(await c.put('/t/a', 'alpha')).toBeGreaterThan(0);
    await c.put(Buffer.from('/t/b'), Buffer.from([0xde, 0xad]));
    expect(await c.get('/t/a')).toBe('alpha');
    expect(await c.get('/t/missing')).toBeUndefined();
    expect(await client(1).get('/t/a', { serializable: true })).toBeDefined();
    expect(await c.count('/t/')).toBe(2);
    expect(await c.count('')).toBeGreaterThanOrEqual(2);
    expect(await c.deleteRange('/t/')).toBe(2);
    expect(await c.count('/t/')).toBe(0);
  });

  it('bulk-loads 2000 keys quickly', async () => {
    const c = client(0);
    const entries: Array<[string, string]> = [];
    for (let i = 0; i < 2000; i++) entries.push([`/bulk/${String(i).padStart(5, '0')}`, `value-${i}`]);
    const started = Date.now();
    expect(await c.putMany(entries)).toBe(2000);
    const ms = Date.now() - started;
    console.log(`putMany: 2000 keys in ${ms} ms (${Math.round(2000 / (ms / 1000))} puts/s)`);
    expect(ms).toBeLessThan(2000);
    expect(await c.count('/bulk/')).toBe(2000);
    expect(await client(2).get('/bulk/01999')).toBe('value-1999');
  });

  it('bulk-loads repeated keys and one-Put-per-request mode too', async () => {
    const c = client(0);
    // A key may appear only once per Txn: the batch planner must split there instead of failing the load.
    const dup: Array<[string, string]> = [
      ['/dup/a', '1'],
      ['/dup/b', '1'],
      ['/dup/a', '2'],
    ];
    expect(await c.putMany(dup, { concurrency: 1 })).toBe(3);
    expect(await c.get('/dup/a')).toBe('2');
    const single: Array<[string, string]> = Array.from({ length: 300 }, (_, i) => [`/single/${i}`, 'v']);
    expect(await c.putMany(single, { batchSize: 1, concurrency: 64 })).toBe(300);
    expect(await c.count('/single/')).toBe(300);
  });

  it('lists 3 voting members with names and URLs', async () => {
    const members = await client(1).memberList(2000);
    expect(members).toHaveLength(3);
    expect(members.map((m) => m.name).sort()).toEqual(['m1', 'm2', 'm3']);
    for (const m of members) {
      const spec = cluster.members.find((x) => x.spec.name === m.name)!.spec;
      expect(m.isLearner).toBe(false);
      expect(m.peerURLs).toEqual([spec.peerUrl]);
      expect(m.clientURLs).toEqual([spec.clientUrl]);
      expect(m.id).toMatch(/^\d+$/);
    }
    // etcd 3.4 ignores the 3.5+ field instead of failing.
    expect(await client(1).memberList(2000, { linearizable: true })).toHaveLength(3);
  });

  it('reports status with one agreed leader and raft progress', async () => {
    const statuses = await Promise.all([0, 1, 2].map((i) => client(i).status(2000)));
    const leaders = new Set(statuses.map((s) => s.leaderId));
    expect(leaders.size).toBe(1);
    expect([...leaders][0]).not.toBe('0');
    expect(statuses.map((s) => s.memberId)).toContain([...leaders][0]);
    for (const s of statuses) {
      expect(s.raftIndex).toBeGreaterThan(0);
      expect(s.raftTerm).toBeGreaterThan(0);
      expect(s.dbSize).toBeGreaterThan(0);
      expect(s.version).toMatch(/^3\./);
      expect(s.errors).toEqual([]);
    }
    expect(await client(0).alarms(2000)).toEqual([]);
  });

  it('adds, refuses to promote, and removes a learner; moves leadership', async () => {
    const c = client(0);
    // etcd refuses reconfiguration ("unhealthy cluster") until every member has been connected for 5 s.
    const added = await waitFor(
      'etcd to accept a member add',
      () => c.memberAdd(['http://127.0.0.1:1'], { isLearner: true }),
      {
        timeoutMs: 15_000,
        intervalMs: 250,
      },
    );
    expect(added.member.isLearner).toBe(true);
    expect(added.members).toHaveLength(4);
    // Never started, so never in sync: etcd must refuse, and we must pass its words through.
    const promote = await rejection(c.memberPromote(added.member.id));
    expect(promote.kind).toBe('server');
    expect(promote.message).toContain('etcdserver: ');
    expect(await c.memberRemove(added.member.id)).toHaveLength(3);

    const statuses = await Promise.all([0, 1, 2].map((i) => client(i).status(2000)));
    const leaderIndex = statuses.findIndex((s) => s.memberId === s.leaderId);
    const target = statuses.find((s) => s.memberId !== s.leaderId)!.memberId;
    await client(leaderIndex).moveLeader(target);
    await waitFor('leadership to move', async () => (await c.status(1000)).leaderId === target, { timeoutMs: 5000 });
  });

  it('hashKV agrees across members at one revision', async () => {
    const revision = await client(0).put('/hash/k', 'v');
    // Every member must have applied the revision before hashing it.
    const hashes = await waitFor(
      'all members to hash the revision',
      async () => {
        const all = await Promise.all([0, 1, 2].map((i) => client(i).hashKV(revision, 2000)));
        return all.every((h) => h.revision >= revision) ? all : undefined;
      },
      { timeoutMs: 5000 },
    );
    expect(hashes[0]!.hash).toBeGreaterThan(0);
    expect(new Set(hashes.map((h) => h.hash)).size).toBe(1);
  });

  it('creates only if absent, with leases, and streams a snapshot', async () => {
    const c = client(0);
    const lease = await c.leaseGrant(30);
    expect(lease.ttl).toBe(30);
    expect(await c.createIfAbsent('/lock/x', 'me', { lease: lease.id })).toBe(true);
    expect(await c.createIfAbsent('/lock/x', 'other')).toBe(false);
    expect(await c.leaseKeepAliveOnce(lease.id)).toBe(30);
    await c.leaseRevoke(lease.id);
    expect(await c.get('/lock/x')).toBeUndefined();
    let bytes = 0;
    let last = -1;
    for await (const chunk of c.snapshot({ idleTimeoutMs: 5000 })) {
      bytes += chunk.blob.length;
      last = chunk.remainingBytes;
    }
    expect(bytes).toBeGreaterThan(16 * 1024);
    expect(last).toBe(0);
  });
});

describe('failures are fast and named', () => {
  it('a closed port says connection refused, fast', async () => {
    const endpoint = `http://127.0.0.1:${await freePort()}`;
    const started = Date.now();
    const probe = await probeEndpoint(endpoint, {}, 2000);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(probe.error).toBe(`${endpoint}: connection refused (is etcd running and listening there?)`);
    const err = await rejection(new EtcdEndpointClient(endpoint, {}).status(2000));
    expect(err.kind).toBe('unreachable');
  });

  it('a frozen (SIGSTOPped) member cannot stall the cluster probe', async () => {
    // Freeze a follower: freezing the leader would also (rightly) fail linearizable reads until re-election.
    const statuses = await Promise.all([0, 1, 2].map((i) => client(i).status(2000)));
    const victim = statuses.map((s, i) => (s.memberId === s.leaderId ? -1 : i)).filter((i) => i >= 0)[0]!;
    const name = `m${victim + 1}`;
    cluster.freeze(name);
    try {
      const started = Date.now();
      const probes = await probeCluster(cluster.endpoints, {}, 2000);
      const ms = Date.now() - started;
      console.log(`probeCluster with a frozen member: ${ms} ms`);
      expect(ms).toBeLessThan(3000);
      expect(probes[victim]!.error).toBe(`${cluster.endpoints[victim]}: no answer within 2000 ms`);
      for (const p of probes.filter((_, i) => i !== victim)) {
        expect(p.error).toBeUndefined();
        expect(p.status?.leaderId).not.toBe('0');
        expect(p.members).toHaveLength(3);
        expect(p.linearizableRead).toBe(true); // two of three is still a quorum
        expect(p.serializableRead).toBe(true);
      }
    } finally {
      cluster.thaw(name);
    }
    await waitFor(`${name} to answer again`, () => client(victim).status(1000), { timeoutMs: 15_000 });
  });

  it('without quorum: linearizable read and put fail clearly, serializable read still serves data', async () => {
    const survivor = client(0);
    await survivor.put('/quorum/k', 'kept');
    await waitFor('m1 to see its own write serializably', () => survivor.get('/quorum/k', { serializable: true }), {
      timeoutMs: 5000,
    });
    await cluster.kill('m2');
    await cluster.kill('m3');

    const read = await rejection(survivor.get('/quorum/k', { deadlineMs: 1500 }));
    expect(read.message).toMatch(/^http:\/\/127\.0\.0\.1:\d+: (no answer within 1500 ms|etcdserver: .*)$/);
    expect(await survivor.get('/quorum/k', { serializable: true, deadlineMs: 1500 })).toBe('kept');
    const put = await rejection(survivor.put('/quorum/k', 'lost', { deadlineMs: 1500 }));
    expect(['timeout', 'server']).toContain(put.kind);

    const [alive, dead] = await probeCluster([cluster.endpoints[0]!, cluster.endpoints[1]!], {}, 2000);
    expect(alive!.error).toBeUndefined();
    expect(alive!.members).toHaveLength(3);
    expect(alive!.status).toBeDefined();
    expect(alive!.serializableRead).toBe(true);
    expect(alive!.linearizableRead).toBe(false);
    expect(alive!.linearizableError).toContain(cluster.endpoints[0]!);
    expect(dead!.error).toMatch(/connection refused/);
  });
});
