import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CORDONED_ANNOTATION } from '../../src/adapters/agent/kube-drain.js';
import { KubeApi } from '../../src/adapters/kube/api.js';
import { KUBE_CALLS } from '../../src/adapters/kube/calls.js';
import { PHASE_ANNOTATION, REASON_ANNOTATION } from '../../src/adapters/kube/lease-lock.js';
import { LeaseSlotLock } from '../../src/adapters/lock/lease-slot.js';
import { waitFor } from '../../src/adapters/proc/wait.js';
import { formatMicroTime } from '../../src/domain/kube/lease.js';
import { pdb, replicaSetPod, seedCluster } from '../fixtures/kube-api/cluster.js';
import { json, runCli } from '../helpers/cli.js';
import { type KubeApiFixture, startKubeApi } from '../helpers/kube-api.js';
import { type AgentEvent, AgentLab, lifeboat, Monitor } from './agent-harness.js';

/**
 * The agent on Kubernetes: a real 3-member etcd lab, agents as separate processes, and the Kubernetes API fixture
 * (test/helpers/kube-api.ts) holding the nodes, pods, PodDisruptionBudgets and the maintenance Lease. A watcher in
 * this process samples the fixture every 20 ms (node cordon state, Lease holder and phase); an independent monitor
 * probes every etcd member every 200 ms.
 */

const LEASE = 'maintenance-etcd-member';
const lab = new AgentLab(mkdtempSync(join(tmpdir(), 'lifeboat-agent-kube-')));
let api: KubeApiFixture;
const figures: Record<string, unknown> = {};

const cli = (...args: string[]) => lifeboat(['-c', lab.config, ...args]);
async function ok(...args: string[]) {
  const res = await cli(...args);
  expect(res.code, `${args.join(' ')}: ${res.stderr}`).toBe(0);
  return res;
}
const of = (node: string, event: string, since: number) =>
  lab.allEvents().filter((e) => e.node === node && e.event === event && e.t >= since);
const first = (node: string, event: string, since: number): AgentEvent => {
  const e = of(node, event, since)[0];
  expect(e, `${node} logged no ${event}`).toBeDefined();
  return e!;
};

interface Sample {
  t: number;
  unschedulable: boolean;
  annotated: boolean;
  holder: string | undefined;
  phase: string | undefined;
  renewTime: string | undefined;
}

/** Samples one node and the Lease every 20 ms until stopped. */
function watch(node: string): { samples: Sample[]; stop(): void } {
  const samples: Sample[] = [];
  const sample = () => {
    const n = api.get('Node', undefined, node);
    const lease = api.get('Lease', 'lifeboat', LEASE);
    samples.push({
      t: Date.now(),
      unschedulable: Boolean(n?.spec?.unschedulable),
      annotated: Boolean(n?.metadata?.annotations?.[CORDONED_ANNOTATION]),
      holder: lease?.spec?.holderIdentity || undefined,
      phase: lease?.metadata?.annotations?.[PHASE_ANNOTATION],
      renewTime: lease?.spec?.renewTime,
    });
  };
  sample();
  const timer = setInterval(sample, 20);
  return { samples, stop: () => clearInterval(timer) };
}

const lifeboatRequests = () => api.requests.filter((q) => q.resource && !q.userAgent?.startsWith('kubectl'));

beforeAll(async () => {
  api = await startKubeApi({ podTerminationMs: 200 });
  seedCluster(api); // cp1..cp3 with etcd mirror pods and kube-proxy DaemonSet pods
  api.create(replicaSetPod('web-1', 'cp1', { app: 'web' }));
  api.create(replicaSetPod('db-0', 'cp2', { app: 'db' }));
  api.create(pdb('db', 'web', { app: 'db' }, 1)); // 1 healthy, 1 required: no disruption allowed
  await lab.up(3, [], { lock: 'kubernetes', settle: '1s', ttl: '6s', pollInterval: '200ms', maxRaftLag: 1000 });
}, 90_000);

afterAll(async () => {
  console.log(`agent-kube figures: ${JSON.stringify(figures)}`);
  try {
    await lab.destroy();
  } finally {
    await api?.close();
  }
}, 60_000);

describe.sequential('lifeboat agent with a Kubernetes cluster', () => {
  it('maintenance under a Lease: cordon, drain (DaemonSet and mirror pods stay), reboot, uncordon, release', async () => {
    lab.startAgent('cp1', { LIFEBOAT_LAB_DOWNTIME: '1s-2s' }, ['--kubeconfig', api.kubeconfig]);
    await lab.waitStarted(['cp1']);
    const monitor = new Monitor(lab);
    monitor.start();
    const watcher = watch('cp1');
    const before = api.requests.length;
    const t0 = Date.now();
    try {
      await ok('maintain', 'request', 'cp1', '--reason', 'kernel update');
      await lab.waitEvent('cp1 to complete', (e) => e.node === 'cp1' && e.event === 'completed', 60_000, t0);
    } finally {
      watcher.stop();
      await monitor.stop();
    }
    const samples = watcher.samples;
    const done = first('cp1', 'completed', t0);
    expect(done).toMatchObject({ rebooted: true, released: true, reasons: ['request'] });
    const cordoned = first('cp1', 'cordoned', t0);
    const drained = first('cp1', 'drained', t0);
    const down = first('cp1', 'going-down', t0);
    const caughtUp = first('cp1', 'caught-up', t0);
    const uncordoned = first('cp1', 'uncordoned', t0);
    expect(cordoned.t).toBeLessThanOrEqual(drained.t);
    expect(drained.t).toBeLessThanOrEqual(down.t);
    expect(caughtUp.t).toBeLessThanOrEqual(uncordoned.t);
    expect(uncordoned.t).toBeLessThanOrEqual(done.t);
    expect(drained.evicted).toEqual(['web/web-1']);
    expect(drained.skipped).toEqual(
      expect.arrayContaining([
        { pod: 'kube-system/etcd-cp1', why: 'mirror' },
        { pod: 'kube-system/kube-proxy-cp1', why: 'daemonset' },
      ]),
    );
    expect(of('cp1', 'no-kubernetes', 0)).toEqual([]);
    expect(of('cp1', 'error', t0)).toEqual([]);

    // The member really went down, alone, and only while the node was cordoned.
    expect([...monitor.seenDown()]).toEqual(['cp1']);
    expect(monitor.maxMembersDown).toBe(1);
    const downSamples = monitor.samples.filter((s) => s.members.includes('cp1'));
    const cordonedSamples = samples.filter((s) => s.unschedulable);
    expect(cordonedSamples.length).toBeGreaterThan(0);
    expect(cordonedSamples.every((s) => s.annotated)).toBe(true);
    expect(cordonedSamples[0]!.t).toBeLessThanOrEqual(downSamples[0]!.t);
    expect(cordonedSamples.at(-1)!.t).toBeGreaterThanOrEqual(downSamples.at(-1)!.t);
    const node = api.get('Node', undefined, 'cp1')!;
    expect(node.spec.unschedulable).toBeUndefined();
    expect(node.metadata.annotations?.[CORDONED_ANNOTATION]).toBeUndefined();

    // Evicted: the ReplicaSet pod; still there: the DaemonSet pod and the etcd mirror pod.
    const pods = api
      .list('Pod')
      .filter((p) => p.spec.nodeName === 'cp1')
      .map((p) => p.metadata.name)
      .sort();
    expect(pods).toEqual(['etcd-cp1', 'kube-proxy-cp1']);

    // The Lease: created by cp1, renewed with its progress, released (no holder; our annotations gone).
    const held = samples.filter((s) => s.holder === 'cp1');
    expect(held.length).toBeGreaterThan(0);
    expect(new Set(held.map((s) => s.phase))).toContain('rebooting');
    expect(new Set(held.map((s) => s.renewTime)).size).toBeGreaterThanOrEqual(2);
    const lease = api.get('Lease', 'lifeboat', LEASE)!;
    expect(lease.spec.holderIdentity).toBeUndefined();
    expect(lease.spec.leaseTransitions).toBe(0);
    expect(lease.metadata.annotations?.[REASON_ANNOTATION]).toBeUndefined();
    const ours = lifeboatRequests();
    const made = api.requests.slice(before).filter((q) => q.resource && !q.userAgent?.startsWith('kubectl'));
    const leaseWrites = made.filter((q) => q.resource === 'leases' && q.namespace === 'lifeboat');
    expect(leaseWrites.filter((q) => q.verb === 'create' && q.status === 201)).toHaveLength(1);
    const updates = leaseWrites.filter((q) => q.verb === 'update' && q.status === 200);
    expect(updates.length).toBeGreaterThanOrEqual(3); // phase renewals (draining, rebooting...) and the release
    const patches = made.filter((q) => q.resource === 'nodes' && q.verb === 'patch' && q.name === 'cp1');
    expect(patches.map((q) => q.contentType)).toEqual(['application/merge-patch+json', 'application/merge-patch+json']);
    expect(made.some((q) => q.resource === 'pods/eviction' && q.name === 'web-1' && q.status === 201)).toBe(true);
    // Least privilege holds: every call is in the RBAC table (as the agent), and carried the kubeconfig token.
    const allowed = new Set(
      Object.values(KUBE_CALLS)
        .filter((c) => (c.users as readonly string[]).includes('agent'))
        .map((c) => `${c.group}|${c.resource}|${c.verb}`),
    );
    expect(ours.filter((q) => !allowed.has(`${q.group}|${q.resource}|${q.verb}`))).toEqual([]);
    expect(ours.every((q) => q.authenticated)).toBe(true);

    const status = json<{ locks: unknown[]; nodes: Array<{ name: string; reboots: number; phase: string }> }>(
      await ok('--json', 'maintain', 'status', '--kubeconfig', api.kubeconfig),
    );
    expect(status.locks).toEqual([]);
    expect(status.nodes.find((n) => n.name === 'cp1')).toMatchObject({ phase: 'idle', reboots: 1 });
    figures.maintenance = {
      seconds: (done.t - t0) / 1000,
      cordonedMs: cordonedSamples.at(-1)!.t - cordonedSamples[0]!.t,
      leaseUpdates: updates.length,
      kubeRequests: made.length,
    };
    await lab.stopAgent('cp1');
  }, 90_000);

  it('a PodDisruptionBudget holds the drain past --drain-timeout: refused, the member never goes down, uncordoned', async () => {
    lab.startAgent('cp2', { LIFEBOAT_LAB_DOWNTIME: '1s-2s' }, [
      '--kubeconfig',
      api.kubeconfig,
      '--drain-timeout',
      '2s',
    ]);
    await lab.waitStarted(['cp2']);
    const monitor = new Monitor(lab);
    monitor.start();
    const watcher = watch('cp2');
    const t0 = Date.now();
    let refused: AgentEvent;
    try {
      await ok('maintain', 'request', 'cp2', '--reason', 'kernel update');
      refused = await lab.waitEvent('cp2 to refuse', (e) => e.node === 'cp2' && e.event === 'refused', 45_000, t0);
      await ok('maintain', 'cancel', 'cp2');
      // Settled: no holder, the node schedulable, for a whole second (a retry already under way ends first).
      let quietSince = 0;
      await waitFor(
        'the Lease free and cp2 schedulable for 1 s',
        () => {
          const s = watcher.samples.at(-1)!;
          if (s.holder || s.unschedulable) quietSince = 0;
          else quietSince ||= s.t;
          return quietSince > 0 && s.t - quietSince >= 1000;
        },
        { timeoutMs: 20_000, intervalMs: 50 },
      );
    } finally {
      watcher.stop();
      await monitor.stop();
    }
    expect(refused.codes).toEqual(['drain-refused']);
    expect(refused.msg).toMatch(
      /cannot drain cp2 within 2s: timed out draining cp2: eviction still refused for web\/db-0/,
    );
    expect(refused.msg).toContain('PodDisruptionBudget web/db allows 0 disruption(s) (1 healthy, 1 required)');
    expect(refused.msg).toContain('cp2 was uncordoned again');
    expect(of('cp2', 'drain-blocked', t0)[0]?.msg).toContain('PodDisruptionBudget web/db');

    // Nothing went down; the pod is still there; the node was cordoned during the drain and uncordoned before the
    // refusal was logged.
    expect(of('cp2', 'going-down', t0)).toEqual([]);
    expect(of('cp2', 'error', t0)).toEqual([]);
    expect(monitor.maxMembersDown).toBe(0);
    expect(monitor.samples.length).toBeGreaterThan(10);
    expect(api.get('Pod', 'web', 'db-0')).toBeDefined();
    const samples = watcher.samples;
    const firstCordon = samples.find((s) => s.unschedulable);
    expect(firstCordon).toBeDefined();
    expect(samples.some((s) => s.holder === 'cp2' && s.phase === 'draining')).toBe(true);
    expect(samples.some((s) => s.t > firstCordon!.t && s.t <= refused.t + 100 && !s.unschedulable)).toBe(true);
    const node = api.get('Node', undefined, 'cp2')!;
    expect(node.spec.unschedulable).toBeUndefined();
    expect(node.metadata.annotations?.[CORDONED_ANNOTATION]).toBeUndefined();
    expect(api.requests.some((q) => q.resource === 'pods/eviction' && q.name === 'db-0' && q.status === 429)).toBe(
      true,
    );

    const status = json<{ locks: unknown[]; nodes: Array<{ name: string; reboots: number; phase: string }> }>(
      await ok('--json', 'maintain', 'status', '--kubeconfig', api.kubeconfig),
    );
    expect(status.locks).toEqual([]);
    expect(status.nodes.find((n) => n.name === 'cp2')).toMatchObject({ phase: 'idle', reboots: 0 });
    figures.refusal = { seconds: (refused.t - t0) / 1000, attempts: of('cp2', 'drain-failed', t0).length };
    await lab.stopAgent('cp2');
  }, 90_000);

  it('maintain status reads the Lease; a silent holder is taken over; no kubeconfig is a user error', async () => {
    api.patch('Lease', 'lifeboat', LEASE, {
      metadata: { annotations: { [REASON_ANNOTATION]: 'requested', [PHASE_ANNOTATION]: 'rebooting' } },
      spec: {
        holderIdentity: 'cp3',
        leaseDurationSeconds: 60,
        acquireTime: formatMicroTime(Date.now()),
        renewTime: formatMicroTime(Date.now()),
      },
    });
    const status = json<{ locks: Array<Record<string, unknown>> }>(
      await ok('--json', 'maintain', 'status', '--kubeconfig', api.kubeconfig),
    );
    expect(status.locks).toMatchObject([
      { lock: 'etcd-member', holder: 'cp3', reason: 'requested', phase: 'rebooting', ttlMs: 60_000 },
    ]);
    // A holder that stopped renewing: held until a full duration of silence by our clock, then taken over.
    api.patch('Lease', 'lifeboat', LEASE, { spec: { leaseDurationSeconds: 1 } });
    const slot = new LeaseSlotLock(await KubeApi.connect({ kubeconfig: api.kubeconfig }), 'etcd-member');
    expect(await slot.status()).toMatchObject({ held: true, holder: 'cp3', expired: false });
    expect(await slot.tryAcquire('cp1', 'test', 5000)).toMatchObject({ acquired: false, holder: 'cp3' });
    await waitFor('the silent Lease to expire', async () => (await slot.status()).expired, { timeoutMs: 5000 });
    expect(await slot.status()).toMatchObject({ held: false, holder: 'cp3', expired: true });
    const transitions = api.get('Lease', 'lifeboat', LEASE)!.spec.leaseTransitions as number;
    expect(await slot.tryAcquire('cp1', 'test', 5000)).toMatchObject({ acquired: true, fencingToken: transitions + 1 });
    await slot.release();
    expect(api.get('Lease', 'lifeboat', LEASE)?.spec.holderIdentity).toBeUndefined();

    const noKube = { env: { KUBECONFIG: '', HOME: lab.dir, KUBERNETES_SERVICE_HOST: '' } };
    const none = await runCli(['-c', lab.config, 'maintain', 'status'], noKube);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('maintenance.lock is kubernetes, but no Kubernetes cluster is configured');
    const agent = await runCli(['-c', lab.config, 'agent', '--node', 'cp3', '--once'], noKube);
    expect(agent.code, agent.stderr).toBe(2);
    expect(agent.stderr).toContain('maintenance.lock is kubernetes');
    const badTimeout = await cli('agent', '--node', 'cp3', '--once', '--drain-timeout', 'soon');
    expect(badTimeout.code).toBe(2);
    expect(badTimeout.stderr).toContain('--drain-timeout "soon" is not a positive duration');
    const away = await cli('maintain', 'status', '--kubeconfig', api.kubeconfig, '--context', 'elsewhere');
    expect(away.code, away.stderr).toBe(3);
    expect(away.stderr).toContain('cannot read the maintenance Leases');
  });
});
