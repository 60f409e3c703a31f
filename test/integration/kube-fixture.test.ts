import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pdb, replicaSetPod, seedCluster } from '../fixtures/kube-api/cluster.js';
import { type KubeApiFixture, startKubeApi } from '../helpers/kube-api.js';

/**
 * The Kubernetes API fixture is only worth something if real clients accept it: the real kubectl reads discovery,
 * lists with Tables, cordons with a strategic-merge patch, drains through the Eviction API, and reads Leases.
 */

const KUBECTL = '/usr/bin/kubectl';
let api: KubeApiFixture;
let home: string;

function kubectl(args: string[], timeoutMs = 30_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      KUBECTL,
      ['--kubeconfig', api.kubeconfig, '--cache-dir', join(home, 'cache'), ...args],
      { env: { PATH: process.env.PATH, HOME: home }, timeout: timeoutMs },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'lifeboat-kubectl-home-'));
  api = await startKubeApi({ podTerminationMs: 300 });
  seedCluster(api);
});
afterAll(async () => {
  await api?.close();
  rmSync(home, { recursive: true, force: true });
});

describe('Kubernetes API fixture, driven by the real kubectl', () => {
  it('kubectl get nodes lists every node with roles, through discovery and a Table', async () => {
    const r = await kubectl(['get', 'nodes']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/).slice(0, 3))).toEqual([
      ['cp1', 'Ready', 'control-plane'],
      ['cp2', 'Ready', 'control-plane'],
      ['cp3', 'Ready', 'control-plane'],
      ['w1', 'Ready', '<none>'],
      ['w2', 'Ready', '<none>'],
    ]);
    expect(api.requests.some((q) => q.path === '/api' || q.path.startsWith('/api?'))).toBe(true);
  });

  it('label and field selectors filter like the API server', async () => {
    const cps = await kubectl(['get', 'nodes', '-l', 'node-role.kubernetes.io/control-plane', '-o', 'name']);
    expect(cps.stdout.trim().split('\n')).toEqual(['node/cp1', 'node/cp2', 'node/cp3']);
    const notCp = await kubectl(['get', 'nodes', '-l', '!node-role.kubernetes.io/control-plane', '-o', 'name']);
    expect(notCp.stdout.trim().split('\n')).toEqual(['node/w1', 'node/w2']);
    const etcd = await kubectl([
      ...['get', 'pods', '-n', 'kube-system', '-l', 'component=etcd', '--field-selector', 'spec.nodeName=cp2'],
      ...['-o', 'jsonpath={.items[*].metadata.name}'],
    ]);
    expect(etcd.stdout).toBe('etcd-cp2');
    const bad = await kubectl(['get', 'pods', '-A', '--field-selector', 'spec.color=blue']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('field label not supported: spec.color');
  });

  it('kubectl cordon and uncordon patch spec.unschedulable', async () => {
    const r = await kubectl(['cordon', 'w2']);
    expect(r.stdout.trim()).toBe('node/w2 cordoned');
    expect(api.get('Node', undefined, 'w2')?.spec.unschedulable).toBe(true);
    const patch = api.requests.filter((q) => q.verb === 'patch' && q.resource === 'nodes').at(-1);
    expect(patch?.contentType).toMatch(/strategic-merge-patch\+json/);
    expect((await kubectl(['get', 'node', 'w2'])).stdout).toContain('Ready,SchedulingDisabled');
    expect((await kubectl(['uncordon', 'w2'])).stdout.trim()).toBe('node/w2 uncordoned');
    expect(api.get('Node', undefined, 'w2')?.spec.unschedulable).toBeUndefined();
  });

  it('kubectl drain --ignore-daemonsets evicts, waits for the pods to go, and skips DaemonSet and mirror pods', async () => {
    api.create(replicaSetPod('web-a', 'cp1', { app: 'web' }));
    api.create(replicaSetPod('web-b', 'cp1', { app: 'web' }));
    const r = await kubectl(['drain', 'cp1', '--ignore-daemonsets', '--timeout=30s']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('node/cp1 cordoned');
    expect(r.stdout).toContain('pod/web-a evicted');
    expect(r.stdout).toContain('node/cp1 drained');
    expect(r.stderr).toContain('Warning: ignoring DaemonSet-managed Pods: kube-system/kube-proxy-cp1');
    const left = api
      .list('Pod')
      .filter((p) => p.spec.nodeName === 'cp1')
      .map((p) => p.metadata.name);
    expect(left.sort()).toEqual(['etcd-cp1', 'kube-proxy-cp1']);
    const evictions = api.requests.filter((q) => q.resource === 'pods/eviction');
    expect(evictions.map((q) => [q.method, q.status])).toEqual([
      ['POST', 201],
      ['POST', 201],
    ]);
    await kubectl(['uncordon', 'cp1']);
  });

  it('kubectl drain is held by a PodDisruptionBudget with no disruptions left (429)', async () => {
    api.create(replicaSetPod('api-a', 'cp2', { app: 'api' }, { namespace: 'web' }));
    api.create(replicaSetPod('api-b', 'w1', { app: 'api' }, { namespace: 'web' }));
    api.create(pdb('api', 'web', { app: 'api' }, 2));
    const r = await kubectl(['drain', 'cp2', '--ignore-daemonsets', '--timeout=3s']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("Cannot evict pod as it would violate the pod's disruption budget");
    expect(api.get('Pod', 'web', 'api-a')).toBeDefined();
    expect(api.requests.some((q) => q.resource === 'pods/eviction' && q.status === 429)).toBe(true);
    await kubectl(['uncordon', 'cp2']);
  });

  it('bare pods and emptyDir pods follow kubectl rules (--force, --delete-emptydir-data)', async () => {
    const bare = replicaSetPod('bare', 'w2', { app: 'bare' }, { namespace: 'default' });
    bare.metadata.ownerReferences = undefined;
    api.create(bare);
    const cache = replicaSetPod(
      'cache',
      'w2',
      { app: 'cache' },
      { spec: { volumes: [{ name: 'tmp', emptyDir: {} }] } },
    );
    api.create(cache);
    const refused = await kubectl(['drain', 'w2', '--ignore-daemonsets', '--timeout=10s']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/default\/bare/);
    expect(refused.stderr).toMatch(/web\/cache/);
    const forced = await kubectl([
      ...['drain', 'w2', '--ignore-daemonsets', '--force', '--delete-emptydir-data', '--timeout=30s'],
    ]);
    expect(forced.code).toBe(0);
    expect(api.get('Pod', 'default', 'bare')).toBeUndefined();
    expect(api.get('Pod', 'web', 'cache')).toBeUndefined();
    await kubectl(['uncordon', 'w2']);
  });

  it('kubectl get lease shows the holder; resourceVersion conflicts are 409', async () => {
    api.create({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'lifeboat-maintenance', namespace: 'lifeboat' },
      spec: { holderIdentity: 'agent-cp1', leaseDurationSeconds: 60, renewTime: '2026-01-01T00:00:00.000000Z' },
    });
    const r = await kubectl(['get', 'lease', '-n', 'lifeboat']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^NAME\s+HOLDER\s+AGE\nlifeboat-maintenance\s+agent-cp1\s+/);
    const stale = await kubectl([
      ...['patch', 'lease', 'lifeboat-maintenance', '-n', 'lifeboat', '--type=merge'],
      ...['-p', '{"metadata":{"resourceVersion":"1"},"spec":{"holderIdentity":"thief"}}'],
    ]);
    expect(stale.code).not.toBe(0);
    expect(stale.stderr).toContain('the object has been modified');
    const fresh = await kubectl([
      ...['patch', 'lease', 'lifeboat-maintenance', '-n', 'lifeboat', '--type=merge'],
      ...['-p', '{"spec":{"holderIdentity":"agent-cp2"}}'],
    ]);
    expect(fresh.code).toBe(0);
    expect(api.get('Lease', 'lifeboat', 'lifeboat-maintenance')?.spec.holderIdentity).toBe('agent-cp2');
    const badTime = await kubectl([
      ...['patch', 'lease', 'lifeboat-maintenance', '-n', 'lifeboat', '--type=merge'],
      ...['-p', '{"spec":{"renewTime":"2026-01-01T00:00:00.000Z"}}'],
    ]);
    expect(badTime.stderr).toContain('RFC3339Micro');
  });

  it('a wrong token is refused (401) and an unknown path is 404', async () => {
    const res = await fetch(`${api.url}/api/v1/nodes`, { headers: { authorization: 'Bearer nope' } });
    expect(res.status).toBe(401);
    const missing = await fetch(`${api.url}/api/v1/widgets`, { headers: { authorization: `Bearer ${api.token}` } });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { kind: string }).kind).toBe('Status');
  });
});
