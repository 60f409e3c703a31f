import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { UserError } from '../../errors.js';
import { readInputFile } from '../host/input-file.js';

/**
 * Where the Kubernetes API is, the way kubectl finds it: `--kubeconfig FILE`, else $KUBECONFIG (a list of files),
 * else ~/.kube/config, else the in-cluster service account (a pod of the Lifeboat DaemonSet). `--context` picks a
 * context of the kubeconfig.
 */

export interface KubeTarget {
  kubeconfig?: string;
  context?: string;
  /** Per-request deadline (default 10 s). */
  timeoutMs?: number;
}

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface LoadedKubeConfig {
  kc: KubeConfig;
  /** "kubeconfig /path (context X)" or "in-cluster service account", for messages. */
  source: string;
  server: string;
}

/** No kubeconfig and not in a pod: Kubernetes features are simply unavailable (status skips node names). */
export class NoKubeConfigError extends UserError {
  constructor() {
    super(
      'no Kubernetes cluster configured',
      'pass --kubeconfig FILE, set $KUBECONFIG, or create ~/.kube/config (in a pod the service account is used)',
    );
    this.name = 'NoKubeConfigError';
  }
}

/** Kubeconfigs with a few dozen clusters and embedded certificates stay far below this. */
const KUBECONFIG_MAX_BYTES = 4 * 1024 * 1024;

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  home?: string;
  /** Prefix of the service-account directory (tests). */
  inClusterPrefix?: string;
}

export async function loadKubeConfig(target: KubeTarget = {}, opts: LoadOptions = {}): Promise<LoadedKubeConfig> {
  const env = opts.env ?? process.env;
  const files = target.kubeconfig
    ? [target.kubeconfig]
    : (env.KUBECONFIG ?? '').split(delimiter).filter((f) => f.length > 0);
  const homeConfig = join(opts.home ?? homedir(), '.kube', 'config');
  if (files.length === 0 && existsSync(homeConfig)) files.push(homeConfig);
  const prefix = opts.inClusterPrefix ?? '';
  // Decided before loading client-node (~0.5 s): `status` on a machine without Kubernetes must not pay for it.
  if (files.length === 0 && (!env.KUBERNETES_SERVICE_HOST || !existsSync(`${prefix}${SERVICE_ACCOUNT_DIR}/token`))) {
    throw new NoKubeConfigError();
  }
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  let source: string;
  if (files.length > 0) {
    for (const [i, file] of files.entries()) {
      if (!existsSync(file)) {
        if (target.kubeconfig || files.length === 1)
          throw new UserError(`cannot read kubeconfig ${file}: no such file`);
        continue;
      }
      const next = i === 0 ? kc : new KubeConfig();
      // Read here, bounded (client-node's loadFromFile read /dev/zero until the heap ran out), then as loadFromFile.
      const text = readInputFile(file, 'kubeconfig', { maxBytes: KUBECONFIG_MAX_BYTES, pipes: true });
      try {
        next.loadFromString(text.toString('utf8'));
        next.makePathsAbsolute(dirname(file));
      } catch (err) {
        throw new UserError(`cannot load kubeconfig ${file}: ${firstLine(err)}`);
      }
      if (next !== kc) mergeFirstWins(kc, next);
    }
    source = `kubeconfig ${files.join(delimiter)}`;
  } else {
    const saved = { host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT };
    process.env.KUBERNETES_SERVICE_HOST = env.KUBERNETES_SERVICE_HOST;
    process.env.KUBERNETES_SERVICE_PORT = env.KUBERNETES_SERVICE_PORT;
    try {
      kc.loadFromCluster(prefix);
    } finally {
      restoreEnv('KUBERNETES_SERVICE_HOST', saved.host);
      restoreEnv('KUBERNETES_SERVICE_PORT', saved.port);
    }
    source = 'in-cluster service account';
  }
  if (target.context) {
    const names = kc.getContexts().map((c) => c.name);
    if (!names.includes(target.context)) {
      throw new UserError(
        `no context "${target.context}" in ${source}`,
        names.length ? `contexts: ${names.join(', ')}` : undefined,
      );
    }
    kc.setCurrentContext(target.context);
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new UserError(`${source} has no current context with a cluster`, 'pass --context NAME');
  // Plain http (kubectl proxy on http://127.0.0.1:8001) has no TLS to verify; client-node refuses it unless told to
  // skip verification, kubectl does not. Behave like kubectl.
  if (cluster.server.startsWith('http://') && !cluster.skipTLSVerify) {
    kc.clusters = kc.clusters.map((c) => (c.name === cluster.name ? { ...c, skipTLSVerify: true } : c));
  }
  const context = kc.getCurrentContext();
  return { kc, source: context && files.length ? `${source} (context ${context})` : source, server: cluster.server };
}

/** kubectl's rule for $KUBECONFIG lists: the first file to define a name (or current-context) wins. */
function mergeFirstWins(into: KubeConfig, next: KubeConfig): void {
  const add = <T extends { name: string }>(have: T[], more: T[]) => [
    ...have,
    ...more.filter((m) => !have.some((h) => h.name === m.name)),
  ];
  into.clusters = add(into.clusters, next.clusters);
  into.users = add(into.users, next.users);
  into.contexts = add(into.contexts, next.contexts);
  if (!into.currentContext && next.currentContext) into.currentContext = next.currentContext;
}

function restoreEnv(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!;
}
