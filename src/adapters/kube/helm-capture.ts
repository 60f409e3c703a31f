import { Readable } from 'node:stream';
import {
  type CapturedRelease,
  type CaptureIndex,
  captureIndex,
  captureStamp,
  releaseArtifacts,
} from '../../domain/helm/capture.js';
import {
  decodeRelease,
  decodeSecretPayload,
  ReleaseDecodeError,
  type StoredRelease,
  selectCurrent,
} from '../../domain/helm/release.js';
import type { Encryption } from '../snapshot/setup.js';
import type { BackupStore } from '../store/types.js';
import { type KubeApi, KubeApiError } from './api.js';

/**
 * `lifeboat backup helm`: read every Helm 3 release (Secret driver, and the ConfigMap driver), pick each release's
 * current revision, and store the whole release (JSON, values, values with defaults, manifest, hooks, rebuilt chart,
 * manifest chart) through the BackupStore, age-encrypted when backups are. index.json is written last: a capture
 * without it is incomplete and ignored by restore.
 */

export const HELM_LABEL_SELECTOR = 'owner=helm';
export const HELM_SECRET_TYPE = 'helm.sh/release.v1';

export interface HelmReadResult {
  stored: StoredRelease[];
  /** Objects that looked like releases but could not be decoded, and drivers that could not be read. */
  warnings: string[];
}

export async function readHelmReleases(api: KubeApi, namespace?: string): Promise<HelmReadResult> {
  const stored: StoredRelease[] = [];
  const warnings: string[] = [];
  for (const secret of await api.listSecrets(HELM_LABEL_SELECTOR, namespace)) {
    if (secret.type && secret.type !== HELM_SECRET_TYPE) continue;
    const where = `secret ${secret.metadata?.namespace}/${secret.metadata?.name}`;
    const payload = secret.data?.release;
    if (!payload) {
      warnings.push(`${where}: no data.release`);
      continue;
    }
    push(where, secret.metadata?.namespace, secret.metadata?.name, 'secret', () => decodeSecretPayload(payload));
  }
  try {
    for (const cm of await api.listConfigMaps(HELM_LABEL_SELECTOR, namespace)) {
      const where = `configmap ${cm.metadata?.namespace}/${cm.metadata?.name}`;
      const payload = cm.data?.release;
      if (!payload) continue;
      push(where, cm.metadata?.namespace, cm.metadata?.name, 'configmap', () => decodeRelease(payload));
    }
  } catch (err) {
    // Few clusters use the ConfigMap driver; being denied it must not cost the Secret-driver releases.
    if (!(err instanceof KubeApiError && err.status === 403)) throw err;
    warnings.push(`ConfigMap-driver releases not read: ${err.message}`);
  }
  return { stored, warnings };

  function push(
    where: string,
    ns: string | undefined,
    object: string | undefined,
    driver: StoredRelease['driver'],
    decode: () => ReturnType<typeof decodeRelease>,
  ) {
    try {
      const { release, gzipped } = decode();
      release.namespace ||= ns ?? 'default';
      stored.push({ release, driver, object: object ?? '', gzipped });
    } catch (err) {
      if (!(err instanceof ReleaseDecodeError)) throw err;
      warnings.push(`${where}: ${err.message}`);
    }
  }
}

export interface CaptureOptions {
  store: BackupStore;
  namespace?: string;
  encryption?: Encryption;
  cluster?: string;
  now?: Date;
}

export interface CaptureResult {
  /** The capture directory in the store ("helm/20261127T150905Z"). */
  prefix: string;
  location: string;
  index: CaptureIndex;
  warnings: string[];
}

export async function captureHelmReleases(api: KubeApi, opts: CaptureOptions): Promise<CaptureResult> {
  const now = opts.now ?? new Date();
  const { stored, warnings } = await readHelmReleases(api, opts.namespace);
  const selection = selectCurrent(stored);
  const encrypted = Boolean(opts.encryption);
  const prefix = `helm/${captureStamp(now)}`;
  const entries: CapturedRelease[] = [];
  for (const s of selection.current) {
    const { entry, objects } = releaseArtifacts(s, encrypted, Math.floor(now.getTime() / 1000));
    for (const [name, bytes] of objects) {
      await opts.store.putSmall(`${prefix}/${name}`, opts.encryption ? await seal(opts.encryption, bytes) : bytes);
    }
    entries.push(entry);
    for (const f of entry.rejectedFiles) warnings.push(`${entry.namespace}/${entry.name}: left out chart file "${f}"`);
  }
  const index = captureIndex(entries, {
    createdAt: now.toISOString(),
    cluster: opts.cluster,
    encrypted,
    uninstalled: selection.uninstalled,
  });
  await opts.store.putSmall(`${prefix}/index.json`, `${JSON.stringify(index, null, 2)}\n`);
  return { prefix, location: opts.store.locate(prefix), index, warnings };
}

/** age-encrypt one small buffer with the backup encryption. */
async function seal(encryption: Encryption, bytes: Buffer): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of encryption.encrypt(Readable.from([bytes]))) parts.push(Buffer.from(chunk));
  return Buffer.concat(parts);
}
