import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { renderedObjects } from '../../../scripts/render-chart.mjs';
import { KUBE_CALLS } from '../../../src/adapters/kube/calls.js';

/**
 * deploy/ against the code: the chart, rendered with every component on (deploy/manifests/ is its default rendering,
 * test/unit/deploy.test.ts), carries what each workload needs, and the RBAC rules grant exactly the (group, resource,
 * verb) triples of src/adapters/kube/calls.ts, per component, no more, no less.
 */

// biome-ignore lint/suspicious/noExplicitAny: parsed manifests
type Doc = Record<string, any>;

const ROOT = join(import.meta.dirname, '../../..');

function load(text: string, file: string): Doc[] {
  return parseAllDocuments(text).map((d) => {
    expect(d.errors, file).toEqual([]);
    return d.toJSON() as Doc;
  });
}

const docs = renderedObjects({
  values: { namespace: { create: true }, serve: { enabled: true }, agent: { workers: { enabled: true } } },
}) as Doc[];

const find = (kind: string, name: string) => docs.find((d) => d.kind === kind && d.metadata.name === name);
const triple = (group: string, resource: string, verb: string) => `${group}|${resource}|${verb}`;

function granted(rules: Doc[]): Set<string> {
  const out = new Set<string>();
  for (const r of rules) {
    for (const g of r.apiGroups) for (const res of r.resources) for (const v of r.verbs) out.add(triple(g, res, v));
  }
  return out;
}

/** What the ServiceAccount may do: cluster-wide (ClusterRoles) and in the lifeboat namespace (Roles). */
function permissions(serviceAccount: string): { cluster: Set<string>; namespace: Set<string> } {
  const bound = (kind: string) =>
    docs
      .filter(
        (d) =>
          d.kind === kind && d.subjects?.some((s: Doc) => s.kind === 'ServiceAccount' && s.name === serviceAccount),
      )
      .map((b) => find(b.roleRef.kind, b.roleRef.name))
      .filter(Boolean) as Doc[];
  return {
    cluster: granted(bound('ClusterRoleBinding').flatMap((r) => r.rules)),
    namespace: granted(bound('RoleBinding').flatMap((r) => r.rules)),
  };
}

function required(component: 'agent' | 'serve', scope: string): Set<string> {
  return new Set(
    Object.values(KUBE_CALLS)
      .filter((c) => (c.users as readonly string[]).includes(component) && c.scope === scope)
      .map((c) => triple(c.group, c.resource, c.verb)),
  );
}

function podSpec(workload: Doc): Doc {
  return workload.kind === 'CronJob' ? workload.spec.jobTemplate.spec.template.spec : workload.spec.template.spec;
}

describe('deploy/chart with every component on', () => {
  it('every document parses and names itself; namespaced objects live in the lifeboat namespace', () => {
    expect(docs.length).toBeGreaterThan(15);
    const clusterScoped = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding']);
    for (const d of docs) {
      expect(d.apiVersion, JSON.stringify(d).slice(0, 80)).toBeTruthy();
      expect(d.kind).toBeTruthy();
      expect(d.metadata?.name).toMatch(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/);
      if (!clusterScoped.has(d.kind)) expect(d.metadata.namespace, `${d.kind}/${d.metadata.name}`).toBe('lifeboat');
    }
    for (const kind of [
      'Namespace',
      'ServiceAccount',
      'ClusterRole',
      'Role',
      'DaemonSet',
      'Deployment',
      'Service',
      'CronJob',
    ]) {
      expect(
        docs.some((d) => d.kind === kind),
        kind,
      ).toBe(true);
    }
  });

  it('the agent DaemonSet runs on the etcd members with what a reboot and etcd certificates need', () => {
    const ds = find('DaemonSet', 'lifeboat-agent')!;
    const spec = podSpec(ds);
    for (const [k, v] of Object.entries(ds.spec.selector.matchLabels))
      expect(ds.spec.template.metadata.labels[k]).toBe(v);
    expect(spec.hostPID).toBe(true);
    expect(spec.serviceAccountName).toBe('lifeboat-agent');
    expect(spec.tolerations).toContainEqual({ operator: 'Exists' });
    const c = spec.containers[0];
    expect(c.securityContext.privileged).toBe(true);
    expect(c.args).toContain('agent');
    expect(c.args).toContain('--node=$(NODE_NAME)');
    expect(c.env).toContainEqual({ name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } });
    const pki = spec.volumes.find((v: Doc) => v.hostPath?.path === '/etc/kubernetes/pki/etcd');
    expect(pki).toBeDefined();
    expect(c.volumeMounts).toContainEqual({ name: pki.name, mountPath: '/etc/kubernetes/pki/etcd', readOnly: true });
    expect(c.resources.limits.memory).toBeTruthy();
  });

  it('serve runs on a control plane behind a metrics Service; the Helm CronJob runs backup helm without root', () => {
    const dep = find('Deployment', 'lifeboat-serve')!;
    const spec = podSpec(dep);
    expect(spec.serviceAccountName).toBe('lifeboat-serve');
    expect(JSON.stringify(spec.affinity.nodeAffinity)).toContain('node-role.kubernetes.io/control-plane');
    const c = spec.containers[0];
    expect(c.args).toContain('serve');
    const port = c.ports.find((p: Doc) => p.name === 'http').containerPort;
    const svc = find('Service', 'lifeboat')!;
    expect(svc.spec.ports[0]).toMatchObject({ port, targetPort: 'http' });
    for (const [k, v] of Object.entries(svc.spec.selector)) expect(dep.spec.template.metadata.labels[k]).toBe(v);
    expect(svc.metadata.annotations['prometheus.io/port']).toBe(String(port));
    const cron = find('CronJob', 'lifeboat-backup-helm')!;
    const cspec = podSpec(cron);
    expect(cspec.containers[0].args).toEqual(expect.arrayContaining(['backup', 'helm']));
    expect(cspec.serviceAccountName).toBe('lifeboat-serve');
    expect(cspec.securityContext.runAsNonRoot).toBe(true);
    // Backups live in backups.to (S3 or a host directory), never on a claim inside the cluster they protect.
    expect(docs.filter((d) => d.kind === 'PersistentVolumeClaim')).toEqual([]);
    expect(find('ConfigMap', 'lifeboat-config')?.data['lifeboat.yaml']).toContain('lock: kubernetes');
  });

  it.each(['agent', 'serve'] as const)('RBAC of %s grants exactly the calls the code makes', (component) => {
    const perms = permissions(`lifeboat-${component}`);
    expect([...perms.cluster].sort()).toEqual([...required(component, 'cluster')].sort());
    expect([...perms.namespace].sort()).toEqual([...required(component, 'lifeboat-namespace')].sort());
    expect([...perms.cluster, ...perms.namespace].some((t) => t.includes('*'))).toBe(false);
  });

  it('the agent, privileged on every node, cannot read Secrets', () => {
    const perms = permissions('lifeboat-agent');
    expect([...perms.cluster, ...perms.namespace].filter((t) => t.startsWith('|secrets|'))).toEqual([]);
  });
});

describe('deploy/chart', () => {
  it('Chart.yaml and values.yaml parse; the config names etcd endpoints', () => {
    const chart = join(ROOT, 'deploy/chart/lifeboat');
    const meta = load(readFileSync(join(chart, 'Chart.yaml'), 'utf8'), 'Chart.yaml')[0]!;
    expect(meta).toMatchObject({ apiVersion: 'v2', name: 'lifeboat', type: 'application' });
    const values = load(readFileSync(join(chart, 'values.yaml'), 'utf8'), 'values.yaml')[0]!;
    expect(values.config.etcd.endpoints.length).toBeGreaterThan(0);
  });
});

describe('src/adapters/kube/api.ts', () => {
  const source = readFileSync(join(ROOT, 'src/adapters/kube/api.ts'), 'utf8');
  const VERB: Record<string, string> = {
    read: 'get',
    list: 'list',
    create: 'create',
    replace: 'update',
    patch: 'patch',
    delete: 'delete',
  };
  const RESOURCE: Record<string, string> = {
    Node: 'nodes',
    Pod: 'pods',
    PodEviction: 'pods/eviction',
    PodDisruptionBudget: 'poddisruptionbudgets',
    Secret: 'secrets',
    ConfigMap: 'configmaps',
    Lease: 'leases',
  };

  it('every client-node call runs under a KUBE_CALLS id whose resource and verb match the method', () => {
    const tokens = [...source.matchAll(/this\.(?:call|paged)\('([^']+)'|this\.(core|coordination|policy)\.(\w+)\(/g)];
    let current: string | undefined;
    const seen: string[] = [];
    for (const t of tokens) {
      if (t[1]) {
        current = t[1];
        continue;
      }
      const method = t[3]!;
      expect(current, `${method} outside call()/paged()`).toBeDefined();
      const entry = KUBE_CALLS[current as keyof typeof KUBE_CALLS];
      expect(entry, current).toBeDefined();
      const m = /^(read|list|create|replace|patch|delete)(?:Namespaced)?(\w+?)(?:ForAllNamespaces)?$/.exec(method)!;
      expect(m, method).not.toBeNull();
      expect(`${method}: ${entry.resource} ${entry.verb}`).toBe(`${method}: ${RESOURCE[m[2]!]} ${VERB[m[1]!]}`);
      seen.push(current!);
    }
    // every table entry is used by some call site
    expect([...new Set(seen)].sort()).toEqual(Object.keys(KUBE_CALLS).sort());
  });

  it('no other source file makes Kubernetes API calls of its own', () => {
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (
          p.endsWith('.ts') &&
          !p.includes('/src/adapters/kube/') &&
          /makeApiClient\(/.test(readFileSync(p, 'utf8'))
        ) {
          offenders.push(p.slice(ROOT.length + 1));
        }
      }
    };
    walk(join(ROOT, 'src'));
    expect(offenders).toEqual([]);
  });
});
