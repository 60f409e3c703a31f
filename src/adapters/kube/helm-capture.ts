import {
  decodeRelease,
  decodeSecretPayload,
  ReleaseDecodeError,
  type StoredRelease,
} from '../../domain/helm/release.js';
import { type KubeApi, KubeApiError } from './api.js';

/**
 * Every Helm 3 release the cluster holds (Secret driver, and the ConfigMap driver), decoded; undecodable ones become
 * warnings. Storing them is the use case's (app/backup/helm.ts).
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
