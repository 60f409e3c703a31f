import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeApi } from '../../src/adapters/kube/api.js';
import { KUBE_CALLS } from '../../src/adapters/kube/calls.js';
import { DrainError, type DrainEvent, drainNode } from '../../src/adapters/kube/drain.js';
import { memberNodes, memberNodesIfReachable } from '../../src/adapters/kube/nodes.js';
import {
  CONTROL_PLANES,
  daemonSetPod,
  etcdPod,
  pdb,
  replicaSetPod,
  seedCluster,
} from '../fixtures/kube-api/cluster.js';
import { type KubeApiFixture, startKubeApi } from '../helpers/kube-api.js';

/** Drain and node discovery through @kubernetes/client-node against the API fixture. */

let api: KubeApiFixture;
let kube: KubeApi;
/** Clean-up between tests: the agent uncordons through its own adapter (adapters/agent/kube-drain.ts). */
const uncordon = (node: string) => kube.mergePatchNode(node, { spec: { unschedulable: null } });

beforeAll(async () => {
  api = await startKubeApi({ podTerminationMs: 150 });
  seedCluster(api);
  kube = await KubeApi.connect({ kubeconfig: api.kubeconfig });
});
afterAll(async () => {
  await api?.close();
});

async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('drainNode', () => {
  it('is held by a PDB, reports the budget, and proceeds when the PDB allows; DaemonSet and mirror pods stay', async () => {
    for (const [name, node] of [
      ['shop-a', 'cp3'],
      ['shop-b', 'cp3'],
      ['shop-c', 'w1'],
    ] as const) {
      api.create(replicaSetPod(name, node, { app: 'shop' }));
    }
    api.create(pdb('shop', 'web', { app: 'shop' }, 2)); // 3 healthy, 2 required: one disruption allowed
    const events: DrainEvent[] = [];
    const draining = drainNode(kube, 'cp3', { timeoutMs: 20_000, onEvent: (e) => events.push(e) });
    await until('the second eviction to be refused', () => events.some((e) => e.type === 'blocked'));
    expect(api.requests.some((q) => q.resource === 'pods/eviction' && q.status === 429)).toBe(true);
    expect(api.get('Node', undefined, 'cp3')?.spec.unschedulable).toBe(true);
    const block = events.find((e) => e.type === 'blocked');
    expect(block && 'reason' in block && block.reason).toMatch(
      /PodDisruptionBudget web\/shop allows 0 disruption\(s\) \(2 healthy, 2 required\)/,
    );
    // The owner relaxes the budget mid-drain (as after scaling the Deployment up).
    api.patch('PodDisruptionBudget', 'web', 'shop', { spec: { minAvailable: 1 } });
    const report = await draining;
    expect(report.evicted.sort()).toEqual(['web/shop-a', 'web/shop-b']);
    expect(report.skipped).toEqual(
      expect.arrayContaining([
        { pod: 'kube-system/etcd-cp3', why: 'mirror' },
        { pod: 'kube-system/kube-proxy-cp3', why: 'daemonset' },
      ]),
    );
    expect(report.blocked.map((b) => b.pod)).toHaveLength(1);
    expect(
      api
        .list('Pod')
        .filter((p) => p.spec.nodeName === 'cp3')
        .map((p) => p.metadata.name)
        .sort(),
    ).toEqual(['etcd-cp3', 'kube-proxy-cp3']);
    expect(
      events
        .filter((e) => e.type === 'gone')
        .map((e) => 'pod' in e && e.pod)
        .sort(),
    ).toEqual(['web/shop-a', 'web/shop-b']);
    expect(api.get('Node', undefined, 'cp3')?.spec.unschedulable).toBe(true);
    await uncordon('cp3');
  });

  it('times out naming the pod and the budget that hold it', async () => {
    api.create(replicaSetPod('db-0', 'w2', { app: 'db' }));
    api.create(pdb('db', 'web', { app: 'db' }, 1));
    const err = await drainNode(kube, 'w2', { timeoutMs: 1200 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DrainError);
    expect((err as DrainError).kind).toBe('timeout');
    expect((err as DrainError).message).toContain('web/db-0 (PodDisruptionBudget web/db allows 0 disruption(s)');
    expect((err as DrainError).blockers).toEqual([{ pod: 'web/db-0', reason: expect.stringContaining('web/db') }]);
    expect(api.get('Pod', 'web', 'db-0')).toBeDefined();
    await uncordon('w2');
  });

  it('refuses bare and emptyDir pods unless --force / --delete-emptydir-data, before evicting anything', async () => {
    const bare = replicaSetPod('lonely', 'w1', { app: 'lonely' });
    bare.metadata.ownerReferences = undefined;
    api.create(bare);
    api.create(
      replicaSetPod('scratch', 'w1', { app: 'scratch' }, { spec: { volumes: [{ name: 't', emptyDir: {} }] } }),
    );
    api.create(daemonSetPod('w1', 'node-exporter', 'web'));
    const before = api.requests.filter((q) => q.resource === 'pods/eviction').length;
    const err = (await drainNode(kube, 'w1').catch((e: unknown) => e)) as DrainError;
    expect(err.kind).toBe('refused');
    expect(err.message).toContain(
      'cannot delete Pods with local storage (use --delete-emptydir-data to override): web/scratch',
    );
    expect(err.message).toContain(
      'cannot delete Pods that declare no controller (use --force to override): web/lonely',
    );
    expect(api.requests.filter((q) => q.resource === 'pods/eviction').length).toBe(before);
    api.patch('PodDisruptionBudget', 'web', 'shop', { spec: { minAvailable: 0 } }); // shop-c is the last one
    const report = await drainNode(kube, 'w1', { force: true, deleteEmptyDirData: true, timeoutMs: 10_000 });
    expect(report.evicted.sort()).toEqual(['web/lonely', 'web/scratch', 'web/shop-c']);
    expect(report.warnings).toEqual(
      expect.arrayContaining([
        'deleting Pods with local storage: web/scratch',
        'deleting Pods that declare no controller: web/lonely',
      ]),
    );
    await uncordon('w1');
  });
});

describe('node discovery', () => {
  it('finds control-plane nodes by label and maps etcd members to nodes through the static pods', async () => {
    api.create(etcdPod('cp4', '10.0.0.14', 'etcd-renamed'));
    const members = [
      ...CONTROL_PLANES.map((c) => ({ name: c.name, id: `id-${c.name}`, clientURLs: [`https://${c.ip}:2379`] })),
      { name: 'etcd-renamed', peerURLs: ['https://10.0.0.14:2380'] },
      { name: 'w2', clientURLs: ['https://10.0.0.22:2379'] }, // no static pod: matched by the node's address
      { name: 'ghost', clientURLs: ['https://10.9.9.9:2379'] },
    ];
    const mapped = await memberNodes(kube, members);
    expect(mapped.map((m) => [m.member, m.node, m.via])).toEqual([
      ['cp1', 'cp1', 'static-pod'],
      ['cp2', 'cp2', 'static-pod'],
      ['cp3', 'cp3', 'static-pod'],
      ['etcd-renamed', 'cp4', 'static-pod'],
      ['w2', 'w2', 'address'],
      ['ghost', null, null],
    ]);
  });

  it('status helper: node names when reachable, a reason (not an exception) when not', async () => {
    const ok = await memberNodesIfReachable([{ name: 'cp1', clientURLs: ['https://10.0.0.11:2379'] }], {
      kubeconfig: api.kubeconfig,
    });
    expect(ok).toEqual({ nodes: [{ member: 'cp1', node: 'cp1', via: 'static-pod' }] });
    const down = await memberNodesIfReachable([{ name: 'cp1' }], {
      kubeconfig: api.kubeconfig,
      context: 'elsewhere',
      timeoutMs: 1000,
    });
    expect('unavailable' in down && down.unavailable).toMatch(/cannot reach http:\/\/127\.0\.0\.1:9/);
    const none = await memberNodesIfReachable([{ name: 'cp1' }], { kubeconfig: '/nonexistent/kubeconfig' });
    expect(none).toEqual({ unavailable: 'cannot read kubeconfig /nonexistent/kubeconfig: no such file' });
  });

  it('large lists are read page by page (limit + continue)', async () => {
    for (let i = 0; i < 230; i++) {
      api.create({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: `cm-${i}`, namespace: 'web', labels: { bulk: 'yes' } },
      });
    }
    const before = api.requests.length;
    expect(await kube.listConfigMaps('bulk=yes')).toHaveLength(230);
    const pages = api.requests.slice(before).filter((q) => q.resource === 'configmaps');
    expect(pages.map((q) => new URL(q.path, 'http://x').searchParams.has('continue'))).toEqual([false, true, true]);
  });

  it('every request Lifeboat made is in the RBAC call table, and carried the kubeconfig token', () => {
    const ours = api.requests.filter((q) => q.resource && !q.userAgent?.startsWith('kubectl'));
    expect(ours.length).toBeGreaterThan(10);
    const allowed = new Set(Object.values(KUBE_CALLS).map((c) => `${c.group}|${c.resource}|${c.verb}`));
    const made = new Set(ours.map((q) => `${q.group}|${q.resource}|${q.verb}`));
    expect([...made].filter((m) => !allowed.has(m))).toEqual([]);
    expect(ours.every((q) => q.authenticated)).toBe(true);
  });
});
