import { Readable } from 'node:stream';
import type { KubeApi } from '../../adapters/kube/api.js';
import { readHelmReleases } from '../../adapters/kube/helm-capture.js';
import type { Encryption } from '../../adapters/snapshot/setup.js';
import type { BackupStore } from '../../adapters/store/types.js';
import {
  type CapturedRelease,
  type CaptureIndex,
  captureIndex,
  captureStamp,
  releaseArtifacts,
} from '../../domain/helm/capture.js';
import { selectCurrent } from '../../domain/helm/release.js';

/**
 * `lifeboat backup helm` (and serve's helm job): every Helm 3 release as the cluster holds it
 * (adapters/kube/helm-capture.ts reads them), each release's current revision stored whole through the BackupStore,
 * age-encrypted when backups are. index.json is written last: a capture without it is incomplete and ignored by
 * restore.
 */

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
