/**
 * Every Kubernetes API call Lifeboat makes, as (group, resource, verb). Each call site in src/adapters/kube/api.ts
 * names its entry here, and test/unit/kube/rbac.test.ts checks that the RBAC rules in deploy/ grant exactly these,
 * so least privilege cannot drift from the code.
 *
 * `scope`: 'cluster' needs a ClusterRole; 'lifeboat-namespace' is granted by a Role in Lifeboat's own namespace.
 */

export interface KubeCall {
  group: string;
  resource: string;
  verb: 'get' | 'list' | 'create' | 'update' | 'patch' | 'delete';
  scope: 'cluster' | 'lifeboat-namespace';
  /**
   * Which deployed component makes the call: the node agent (DaemonSet, privileged on every node: never given
   * Secrets) or serve and its backup jobs (Deployment + CronJob). Each has its own ServiceAccount and roles.
   */
  users: readonly ('agent' | 'serve')[];
  why: string;
}

export const KUBE_CALLS = {
  'nodes.list': {
    group: '',
    resource: 'nodes',
    verb: 'list',
    scope: 'cluster',
    users: ['agent', 'serve'],
    why: 'find control-plane nodes',
  },
  'nodes.get': {
    group: '',
    resource: 'nodes',
    verb: 'get',
    scope: 'cluster',
    users: ['agent'],
    why: 'read a node before cordoning',
  },
  'nodes.patch': {
    group: '',
    resource: 'nodes',
    verb: 'patch',
    scope: 'cluster',
    users: ['agent'],
    why: 'cordon and uncordon',
  },
  'pods.list': {
    group: '',
    resource: 'pods',
    verb: 'list',
    scope: 'cluster',
    users: ['agent', 'serve'],
    why: 'pods on a node; etcd static pods',
  },
  'pods.get': {
    group: '',
    resource: 'pods',
    verb: 'get',
    scope: 'cluster',
    users: ['agent'],
    why: 'wait for evicted pods to go',
  },
  'pods/eviction.create': {
    group: '',
    resource: 'pods/eviction',
    verb: 'create',
    scope: 'cluster',
    users: ['agent'],
    why: 'evict pods through the Eviction API (PDBs respected)',
  },
  'poddisruptionbudgets.list': {
    group: 'policy',
    resource: 'poddisruptionbudgets',
    verb: 'list',
    scope: 'cluster',
    users: ['agent'],
    why: 'say which budget holds a drain',
  },
  'secrets.list': {
    group: '',
    resource: 'secrets',
    verb: 'list',
    scope: 'cluster',
    users: ['serve'],
    why: 'Helm release secrets (owner=helm)',
  },
  'secrets.get': {
    group: '',
    resource: 'secrets',
    verb: 'get',
    scope: 'cluster',
    users: ['serve'],
    why: 'a database password or TLS Secret (backup mysql --password-secret/--tls-secret, databases[].tls.secret)',
  },
  'configmaps.list': {
    group: '',
    resource: 'configmaps',
    verb: 'list',
    scope: 'cluster',
    users: ['serve'],
    why: 'Helm releases stored by the ConfigMap driver',
  },
  'leases.get': {
    group: 'coordination.k8s.io',
    resource: 'leases',
    verb: 'get',
    scope: 'lifeboat-namespace',
    users: ['agent', 'serve'],
    why: 'read the maintenance lock',
  },
  'leases.create': {
    group: 'coordination.k8s.io',
    resource: 'leases',
    verb: 'create',
    scope: 'lifeboat-namespace',
    users: ['agent'],
    why: 'create the maintenance lock',
  },
  'leases.update': {
    group: 'coordination.k8s.io',
    resource: 'leases',
    verb: 'update',
    scope: 'lifeboat-namespace',
    users: ['agent'],
    why: 'take, renew and release the maintenance lock (resourceVersion-guarded)',
  },
} as const satisfies Record<string, KubeCall>;

export type KubeCallId = keyof typeof KUBE_CALLS;
