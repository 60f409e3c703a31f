import { resolve } from 'node:path';
import type { DatabaseTlsConfig } from '../../domain/mysql/config.js';
import { CONFIG_TLS_NAMES, type TlsPem, tlsPemFromSecret } from '../../domain/mysql/tls.js';
import { type MysqlTarget, parseMysqlUrl } from '../../domain/mysql/url.js';
import { UserError } from '../../errors.js';
import { readInputFile } from '../host/input-file.js';

/**
 * What a database login needs besides the URL, never from the command line: the password (a file, a Kubernetes
 * Secret, or MYSQL_PWD in the environment, read the way the stock clients read it; an explicit file or Secret wins
 * over the environment, as an option file wins over MYSQL_PWD) and TLS files (paths, or a Secret holding them).
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

/** `--tls-secret NAMESPACE/NAME`. */
export function parseTlsSecretRef(text: string): { namespace: string; name: string } {
  const parts = text.split('/');
  if (parts.length !== 2 || parts.some((p) => p.trim() === '')) {
    throw new UserError(`--tls-secret wants NAMESPACE/NAME, got "${text}"`, 'example: shop/mysql-client-tls');
  }
  const [namespace, name] = parts as [string, string];
  return { namespace, name };
}

export async function resolvePassword(source: PasswordSource): Promise<string | undefined> {
  if (source.passwordFile) return readPasswordFile(source.passwordFile);
  if (source.passwordSecret) {
    const { namespace, name, key } = source.passwordSecret;
    const data = await readSecret({ namespace, name }, source.kubeconfig);
    const value = data[key];
    if (value === undefined) {
      const keys = Object.keys(data);
      throw new UserError(
        `secret ${namespace}/${name} has no key "${key}"`,
        keys.length ? `keys: ${keys.join(', ')}` : undefined,
      );
    }
    return value;
  }
  return process.env.MYSQL_PWD;
}

function readPasswordFile(file: string): string {
  // One trailing newline is the editor's, not the password's.
  return readInputFile(file, 'password file', { maxBytes: 64 * 1024 })
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/**
 * The login target: the URL, with TLS from a database's `tls:` (paths relative to lifeboat.yaml's directory) and
 * the PEM files of a TLS Secret (`tls.secret`, or --tls-secret beside --url). `label` names the URL in errors.
 */
export async function resolveTarget(
  url: string,
  opts: {
    tls?: DatabaseTlsConfig;
    tlsSecret?: { namespace: string; name: string };
    baseDir?: string;
    kubeconfig?: string;
    label?: string;
  } = {},
): Promise<MysqlTarget> {
  const { secret, ...given } = opts.tls ?? {};
  const ref = opts.tlsSecret ?? secret;
  const pem = ref ? await readTlsSecret(ref, opts.kubeconfig) : undefined;
  const at = (path: string | undefined) => (path && opts.baseDir ? resolve(opts.baseDir, path) : path);
  const parsed = parseMysqlUrl(url, {
    tls: { ...given, ca: at(given.ca), cert: at(given.cert), key: at(given.key), pem },
    names: CONFIG_TLS_NAMES,
  });
  if ('error' in parsed) {
    const from = ref ? ` (with secret ${ref.namespace}/${ref.name})` : '';
    throw new UserError(`${opts.label ? `${opts.label}: ` : ''}${parsed.error}${from}`, parsed.hint);
  }
  return parsed.target;
}

async function readTlsSecret(ref: { namespace: string; name: string }, kubeconfig?: string): Promise<TlsPem> {
  const pem = tlsPemFromSecret(await readSecret(ref, kubeconfig), `secret ${ref.namespace}/${ref.name}`);
  if ('error' in pem) throw new UserError(pem.error, pem.hint);
  return pem;
}

/**
 * One GET of a Secret through the kubeconfig (or the pod's service account), like
 * `kubectl get secret -n NS NAME -o json`, its data decoded. Needs `get` on that Secret.
 */
async function readSecret(
  ref: { namespace: string; name: string },
  kubeconfig?: string,
): Promise<Record<string, string>> {
  const { KubeApi, KubeApiError } = await import('../kube/api.js');
  const api = await KubeApi.connect({ kubeconfig });
  const what = `secret ${ref.namespace}/${ref.name}`;
  let secret: Awaited<ReturnType<typeof api.getSecret>>;
  try {
    secret = await api.getSecret(ref.namespace, ref.name);
  } catch (err) {
    if (err instanceof KubeApiError && (err.status === 401 || err.status === 403)) {
      throw new UserError(
        `not allowed to read ${what} (HTTP ${err.status})`,
        `grant "get" on secrets in ${ref.namespace}`,
      );
    }
    throw new UserError(`cannot read ${what}: ${err instanceof Error ? err.message : String(err)}`, undefined, 1);
  }
  if (!secret) throw new UserError(`no ${what} (Kubernetes API ${api.server})`);
  return Object.fromEntries(
    Object.entries(secret.data ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64').toString('utf8')]),
  );
}
