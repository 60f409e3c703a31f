import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { type LoadedConfig, loadConfigFile } from '../adapters/config-file.js';
import type { EtcdConnectionOptions } from '../adapters/etcd/client.js';
import { validateConnectionOptions } from '../adapters/etcd/connection.js';
import { readInputFile } from '../adapters/host/input-file.js';
import { isEndpointUrl } from '../domain/config.js';
import { UserError } from '../errors.js';

/** Options every command accepts (declared once on the root program). */
export interface GlobalOptions {
  config?: string;
  endpoints?: string;
  cacert?: string;
  cert?: string;
  key?: string;
  user?: string;
  json?: boolean;
  debug?: boolean;
}

export interface EtcdTarget {
  endpoints: string[];
  tls?: { ca?: string; cert?: string; key?: string };
  user?: string;
  password?: string;
}

export const DEFAULT_CONFIG = 'lifeboat.yaml';

/**
 * What every use case needs to know about its surroundings, resolved from the global options, the environment and
 * the config file: the CLI's CommandContext adds output to it; serve builds one per config reload.
 */
export class Settings {
  private loaded: LoadedConfig | undefined | null = null;

  constructor(readonly opts: GlobalOptions) {}

  /** The config file: -c wins (must exist); else ./lifeboat.yaml when present; else none. */
  config(): LoadedConfig | undefined {
    if (this.loaded !== null) return this.loaded;
    if (this.opts.config) this.loaded = loadConfigFile(resolve(this.opts.config));
    else if (existsSync(DEFAULT_CONFIG)) this.loaded = loadConfigFile(resolve(DEFAULT_CONFIG));
    else this.loaded = undefined;
    return this.loaded;
  }

  /** Where etcd is: flags, then ETCDCTL_* environment (as etcdctl reads it), then the config, then etcdctl's default. */
  etcdTarget(): EtcdTarget {
    const env = process.env;
    const fileEtcd = this.config()?.config.etcd;
    const endpointsText = this.opts.endpoints ?? env.ETCDCTL_ENDPOINTS;
    const tls = {
      ca: this.opts.cacert ?? env.ETCDCTL_CACERT ?? fileEtcd?.tls?.ca,
      cert: this.opts.cert ?? env.ETCDCTL_CERT ?? fileEtcd?.tls?.cert,
      key: this.opts.key ?? env.ETCDCTL_KEY ?? fileEtcd?.tls?.key,
    };
    const hasTls = Boolean(tls.ca || tls.cert || tls.key);
    const endpoints = endpointsText
      ? parseEndpointList(endpointsText, hasTls)
      : (fileEtcd?.endpoints ?? [hasTls ? 'https://127.0.0.1:2379' : 'http://127.0.0.1:2379']);
    if (hasTls) validateConnectionOptions({ tls });
    if (this.opts.user?.includes(':')) {
      throw new UserError(
        'refusing a password on the command line (--user NAME:PASSWORD is visible in ps)',
        'pass --user NAME and set ETCDCTL_PASSWORD in the environment',
      );
    }
    const user = this.opts.user ?? env.ETCDCTL_USER ?? fileEtcd?.user;
    return {
      endpoints,
      tls: hasTls ? tls : undefined,
      ...(user ? resolveCredentials(user, fileEtcd?.passwordFile) : {}),
    };
  }
}

/** "a:2379,https://b:2379" -> URLs. A bare host:port gets http:// (https:// when TLS files are given), like etcdctl. */
export function parseEndpointList(text: string, tls: boolean): string[] {
  const endpoints = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((e) => (/^[a-z]+:\/\//i.test(e) ? e : `${tls ? 'https' : 'http'}://${e}`))
    .map((e) => e.replace(/\/+$/, ''));
  if (endpoints.length === 0)
    throw new UserError('--endpoints is empty', 'example: --endpoints 10.0.0.11:2379,10.0.0.12:2379');
  for (const e of endpoints) {
    if (!isEndpointUrl(e)) {
      throw new UserError(`invalid endpoint "${e}"`, 'example: --endpoints https://10.0.0.11:2379,10.0.0.12:2379');
    }
  }
  return endpoints;
}

/**
 * Passwords never travel on a command line (ps shows argv): only from the environment (ETCDCTL_USER=name:password
 * is accepted as etcdctl does) or a file named in the config.
 */
function resolveCredentials(userText: string, passwordFile?: string): { user: string; password?: string } {
  const colon = userText.indexOf(':');
  if (colon >= 0) return { user: userText.slice(0, colon), password: userText.slice(colon + 1) };
  const user = userText;
  let password = process.env.ETCDCTL_PASSWORD ?? process.env.LIFEBOAT_ETCD_PASSWORD;
  if (password === undefined && passwordFile) {
    password = readInputFile(passwordFile, 'password file', { maxBytes: 64 * 1024, pipes: true })
      .toString('utf8')
      .trim();
  }
  return { user, password };
}

export function connectionOptions(target: EtcdTarget): EtcdConnectionOptions {
  return { tls: target.tls, user: target.user, password: target.password };
}

/** Diagnosis thresholds the config may tighten (maintenance.maxRaftLag). */
export function diagnosisOptions(settings: Settings): { maxRaftLag?: number } {
  const maxRaftLag = settings.config()?.config.maintenance?.maxRaftLag;
  return maxRaftLag === undefined ? {} : { maxRaftLag };
}

/** The etcd user (--user, ETCDCTL_USER, etcd.user) for snapshots of clusters with auth enabled: they keep their users. */
export function drillAuth(settings: Settings): { user: string; password?: string } | undefined {
  const { user, password } = settings.etcdTarget();
  return user ? { user, password } : undefined;
}
