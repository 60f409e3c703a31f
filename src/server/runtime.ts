import { isAbsolute, relative } from 'node:path';
import type { LoadedConfig } from '../adapters/config-file.js';
import { openDestination } from '../adapters/snapshot/setup.js';
import type { BackupStore } from '../adapters/store/types.js';
import { connectionOptions, type EtcdTarget, type GlobalOptions, Settings } from '../app/settings.js';
import { errorMessage } from '../errors.js';
import { type JobSpec, jobsFromConfig } from './jobs.js';
import { LockReader } from './locks.js';
import type { Webhook } from './notify.js';

/**
 * Everything serve derives from lifeboat.yaml and the flags, rebuilt on every config change: where etcd is, the
 * scheduled jobs, the backup store, the webhooks. Building it never touches the network.
 */
export interface Runtime {
  settings: Settings;
  loaded: LoadedConfig | undefined;
  target: EtcdTarget;
  jobs: JobSpec[];
  store: BackupStore | undefined;
  storeError: string | null;
  webhooks: Webhook[];
  locks: LockReader;
  cluster: string;
  /** The config path as the user would type it (origins in check findings). */
  label: string;
}

export async function buildRuntime(
  globals: GlobalOptions,
  opts: { identity?: string; now: () => number; lockDeadlineMs: number },
): Promise<Runtime> {
  const settings = new Settings(globals);
  const loaded = settings.config();
  const target = settings.etcdTarget();
  let store: BackupStore | undefined;
  let storeError: string | null = null;
  if (loaded?.config.backups?.to.length) {
    try {
      store = await openDestination(undefined, loaded);
    } catch (err) {
      storeError = errorMessage(err);
    }
  }
  const jobs = loaded ? jobsFromConfig({ settings, loaded, identity: opts.identity, now: opts.now }) : [];
  return {
    settings,
    loaded,
    target,
    jobs,
    store,
    storeError,
    webhooks: (loaded?.config.alerts?.webhooks ?? []).map((w) => ({ url: w.url, format: w.format ?? 'generic' })),
    locks: new LockReader(target.endpoints, connectionOptions(target), opts.lockDeadlineMs, loaded?.config),
    cluster: loaded?.config.cluster?.name ?? 'etcd',
    label: loaded ? displayPath(loaded.path) : '',
  };
}

function displayPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}
