/**
 * Sample data shaped like what a small Kubernetes cluster keeps in etcd: keys under /registry/<resource>/..., values
 * of 1-4 KiB of JSON. Pure and deterministic (a seeded PRNG, a fixed epoch), so a drill can check that exactly the
 * same keys come back after a restore. A generator, so `--keys 1000000` never holds everything in memory.
 */

export const SAMPLE_MIN_BYTES = 1024;
export const SAMPLE_MAX_BYTES = 4096;

const NAMESPACES = ['default', 'kube-system', 'web', 'shop', 'blog', 'monitoring', 'db'];
const APPS = ['nginx', 'api', 'worker', 'redis', 'mysql', 'frontend', 'prometheus', 'grafana', 'coredns', 'ingress'];
const NODES = ['cp1', 'cp2', 'cp3', 'w1', 'w2', 'w3', 'w4'];
/** Fixed creation time base: data must not depend on when it was generated. */
const EPOCH_MS = Date.UTC(2024, 0, 1);

type Kind = 'pods' | 'configmaps' | 'secrets' | 'deployments' | 'services' | 'leases';

/** Proportions of a typical small cluster, as a repeating pattern: pods dominate, leases are few. */
// biome-ignore format: one pattern, easier to read as a block
const PATTERN: Kind[] = [
  'pods', 'configmaps', 'pods', 'secrets', 'pods', 'deployments', 'pods', 'services', 'pods', 'configmaps',
  'pods', 'secrets', 'pods', 'leases', 'pods', 'configmaps', 'deployments', 'secrets', 'pods', 'services',
];

/** mulberry32: tiny, fast, good enough to vary sizes and names; not for anything secret. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
const FILLER = `${ALPHABET} =:;,.{}[]`;
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Sample entries `[key, value]`, `count` of them, the same for the same `seed`. Keys are unique. */
export function* sampleEntries(count: number, seed = 1): Generator<[string, string]> {
  const rand = prng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;
  const text = (n: number, alphabet = ALPHABET) => {
    let s = '';
    for (let i = 0; i < n; i++) s += alphabet[Math.floor(rand() * alphabet.length)];
    return s;
  };
  // Fillers are kilobytes each: cut them from a pool made once per alphabet (per-character randomness made the
  // generator slower than etcd at swallowing its output).
  const pools = new Map<string, string>();
  const filler = (n: number, alphabet: string) => {
    const pool = pools.get(alphabet) ?? text(16 * 1024, alphabet);
    pools.set(alphabet, pool);
    const start = Math.floor(rand() * (pool.length - n));
    return pool.slice(start, start + n);
  };
  const uid = () =>
    `${text(8, '0123456789abcdef')}-${text(4, '0123456789abcdef')}-4${text(3, '0123456789abcdef')}-a${text(3, '0123456789abcdef')}-${text(12, '0123456789abcdef')}`;
  for (let i = 0; i < count; i++) {
    const kind = PATTERN[i % PATTERN.length]!;
    const ns = kind === 'leases' ? 'kube-node-lease' : pick(NAMESPACES);
    const app = pick(APPS);
    // The index in base 36 makes every name unique; the random part makes it look like a generated name.
    const serial = i.toString(36);
    const name =
      kind === 'pods'
        ? `${app}-${text(9)}-${serial}${text(4)}`
        : kind === 'leases'
          ? `${pick(NODES)}-${serial}`
          : `${app}-${kind === 'secrets' ? 'tls' : 'config'}-${serial}`;
    const key =
      kind === 'services' ? `/registry/services/specs/${ns}/${app}-${serial}` : `/registry/${kind}/${ns}/${name}`;
    const metadata: Record<string, unknown> = {
      name: kind === 'services' ? `${app}-${serial}` : name,
      namespace: ns,
      uid: uid(),
      resourceVersion: String(1000 + i),
      creationTimestamp: new Date(EPOCH_MS + i * 37_000).toISOString().replace('.000', ''),
      labels: { app, 'app.kubernetes.io/managed-by': 'Helm', 'app.kubernetes.io/instance': `${app}-${ns}` },
    };
    const target = SAMPLE_MIN_BYTES + Math.floor(rand() * (SAMPLE_MAX_BYTES - SAMPLE_MIN_BYTES - 256));
    const object = objectFor(kind, app, metadata, rand);
    // Fill up to the target size with what such objects really carry: config text, base64 secrets, or the
    // last-applied-configuration annotation that `kubectl apply` and Helm leave behind. The filler alphabets need
    // no JSON escaping, so one character of filler is one byte of value and the size comes out exact.
    const fill = (filler: string) => {
      if (kind === 'configmaps') object.data = { 'app.conf': filler };
      else if (kind === 'secrets') object.data = { 'tls.key': filler };
      else metadata.annotations = { 'kubectl.kubernetes.io/last-applied-configuration': filler };
    };
    fill('');
    const room = Math.max(0, target - JSON.stringify(object).length);
    fill(filler(room, kind === 'secrets' ? B64 : FILLER));
    yield [key, JSON.stringify(object)];
  }
}

function objectFor(
  kind: Kind,
  app: string,
  metadata: Record<string, unknown>,
  rand: () => number,
): Record<string, unknown> {
  const image = `registry.example.com/${app}:1.${Math.floor(rand() * 30)}.${Math.floor(rand() * 10)}`;
  const container = {
    name: app,
    image,
    ports: [{ containerPort: 8080, protocol: 'TCP' }],
    resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
  };
  const object: Record<string, unknown> = { metadata };
  switch (kind) {
    case 'pods':
      return Object.assign(object, {
        kind: 'Pod',
        apiVersion: 'v1',
        spec: { containers: [container], nodeName: `w${1 + Math.floor(rand() * 4)}`, restartPolicy: 'Always' },
        status: { phase: 'Running', podIP: `10.244.${Math.floor(rand() * 4)}.${Math.floor(rand() * 250) + 2}` },
      });
    case 'deployments':
      return Object.assign(object, {
        kind: 'Deployment',
        apiVersion: 'apps/v1',
        spec: {
          replicas: 1 + Math.floor(rand() * 3),
          selector: { matchLabels: { app } },
          template: { metadata: { labels: { app } }, spec: { containers: [container] } },
        },
      });
    case 'services':
      return Object.assign(object, {
        kind: 'Service',
        apiVersion: 'v1',
        spec: {
          type: 'ClusterIP',
          clusterIP: `10.96.${Math.floor(rand() * 250)}.${Math.floor(rand() * 250) + 2}`,
          selector: { app },
          ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }],
        },
      });
    case 'leases':
      return Object.assign(object, {
        kind: 'Lease',
        apiVersion: 'coordination.k8s.io/v1',
        spec: { holderIdentity: metadata.name, leaseDurationSeconds: 40 },
      });
    case 'configmaps':
      return Object.assign(object, { kind: 'ConfigMap', apiVersion: 'v1' });
    case 'secrets':
      return Object.assign(object, { kind: 'Secret', apiVersion: 'v1', type: 'kubernetes.io/tls' });
  }
}
