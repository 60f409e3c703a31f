import { UserError } from '../../errors.js';
import { readInputFile } from '../host/input-file.js';

/**
 * Where a database password comes from, never the command line: a file, a Kubernetes Secret, or MYSQL_PWD in the
 * environment (read the way the stock clients read it). An explicit file or Secret wins over the environment, as an
 * option file wins over MYSQL_PWD for the stock clients.
 */
export interface SecretRef {
  namespace: string;
  name: string;
  key: string;
}

export interface PasswordSource {
  passwordFile?: string;
  passwordSecret?: SecretRef;
  kubeconfig?: string;
}

export function parseSecretRef(text: string): SecretRef {
  const parts = text.split('/');
  if (parts.length !== 3 || parts.some((p) => p.trim() === '')) {
    throw new UserError(`--password-secret wants NAMESPACE/NAME/KEY, got "${text}"`, 'example: db/mysql-auth/password');
  }
  const [namespace, name, key] = parts as [string, string, string];
  return { namespace, name, key };
}

export async function resolvePassword(source: PasswordSource): Promise<string | undefined> {
  if (source.passwordFile) return readPasswordFile(source.passwordFile);
  if (source.passwordSecret) return readSecret(source.passwordSecret, source.kubeconfig);
  return process.env.MYSQL_PWD;
}

function readPasswordFile(file: string): string {
  // One trailing newline is the editor's, not the password's.
  return readInputFile(file, 'password file', { maxBytes: 64 * 1024 })
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/**
 * One GET of a Secret through the kubeconfig (or the pod's service account), like
 * `kubectl get secret -n NS NAME -o jsonpath='{.data.KEY}' | base64 -d`. Needs `get` on that Secret.
 */
async function readSecret(ref: SecretRef, kubeconfig?: string): Promise<string> {
  const { loadKubeConfig } = await import('../kube/config.js');
  const k8s = await import('@kubernetes/client-node');
  const loaded = await loadKubeConfig({ kubeconfig });
  const api = loaded.kc.makeApiClient(k8s.CoreV1Api);
  const what = `secret ${ref.namespace}/${ref.name}`;
  let data: Record<string, string> | undefined;
  try {
    const secret = await api.readNamespacedSecret({ name: ref.name, namespace: ref.namespace });
    data = secret.data;
  } catch (err) {
    const status = (err as { code?: unknown }).code;
    if (status === 404) throw new UserError(`no ${what} (Kubernetes API ${loaded.server})`);
    if (status === 401 || status === 403) {
      throw new UserError(`not allowed to read ${what} (HTTP ${status})`, `grant "get" on secrets in ${ref.namespace}`);
    }
    const why =
      typeof status === 'number' ? `HTTP ${status}` : (err instanceof Error ? err.message : String(err)).split('\n')[0];
    throw new UserError(`cannot read ${what} from ${loaded.server}: ${why}`, undefined, 1);
  }
  const value = data?.[ref.key];
  if (value === undefined) {
    const keys = Object.keys(data ?? {});
    throw new UserError(`${what} has no key "${ref.key}"`, keys.length ? `keys: ${keys.join(', ')}` : undefined);
  }
  return Buffer.from(value, 'base64').toString('utf8');
}
