import { gunzipSync } from 'node:zlib';

/**
 * Helm 3 releases as Helm stores them (pkg/storage/driver): one Secret (type helm.sh/release.v1, labels owner=helm,
 * name, version, status) or ConfigMap per revision. The payload is the release JSON, gzipped, base64-encoded by Helm;
 * a Secret's data is base64-encoded once more by Kubernetes. Releases written by very old Helm 3 builds are not
 * gzipped: the base64 decodes straight to JSON.
 */

/** A file of a chart: Go []byte fields are base64 in JSON. */
export interface HelmFile {
  name: string;
  data: string;
}

export interface ChartMetadata {
  name: string;
  version: string;
  apiVersion?: string;
  appVersion?: string;
  description?: string;
  type?: string;
  dependencies?: { name: string; version?: string; repository?: string; alias?: string; condition?: string }[];
  [key: string]: unknown;
}

export interface HelmChart {
  metadata: ChartMetadata;
  lock?: unknown;
  templates?: HelmFile[] | null;
  values?: Record<string, unknown> | null;
  /** values.schema.json, base64. */
  schema?: string | null;
  files?: HelmFile[] | null;
}

export interface HelmHook {
  name: string;
  kind: string;
  path: string;
  manifest: string;
  events?: string[];
  weight?: number;
}

export interface HelmRelease {
  name: string;
  namespace: string;
  version: number;
  info?: { status?: string; first_deployed?: string; last_deployed?: string; description?: string; notes?: string };
  chart: HelmChart;
  /** User-supplied values: what `helm get values` prints. */
  config?: Record<string, unknown> | null;
  manifest?: string;
  hooks?: HelmHook[] | null;
}

export type StorageDriver = 'secret' | 'configmap';

/** One stored revision, with where it came from. */
export interface StoredRelease {
  release: HelmRelease;
  driver: StorageDriver;
  /** Name of the Secret/ConfigMap (sh.helm.release.v1.NAME.vN). */
  object: string;
  /** The payload was gzipped (false: a legacy plain-JSON release). */
  gzipped: boolean;
}

export class ReleaseDecodeError extends Error {}

const GZIP_MAGIC = [0x1f, 0x8b, 0x08];

/** Helm's decodeRelease: base64 text -> (gunzip when gzip magic) -> JSON. */
export function decodeRelease(helmBase64: string): { release: HelmRelease; gzipped: boolean } {
  const raw = Buffer.from(helmBase64.trim(), 'base64');
  if (raw.length === 0) throw new ReleaseDecodeError('empty release payload');
  const gzipped = GZIP_MAGIC.every((b, i) => raw[i] === b);
  let json: string;
  try {
    json = (gzipped ? gunzipSync(raw) : raw).toString('utf8');
  } catch (err) {
    throw new ReleaseDecodeError(`release payload is not valid gzip: ${(err as Error).message}`);
  }
  let release: HelmRelease;
  try {
    release = JSON.parse(json) as HelmRelease;
  } catch {
    throw new ReleaseDecodeError('release payload is not JSON (neither gzipped nor plain)');
  }
  if (!release || typeof release !== 'object' || !release.name || !release.chart?.metadata?.name) {
    throw new ReleaseDecodeError('release JSON lacks a name or a chart');
  }
  return { release, gzipped };
}

/** A Secret's `data.release` (Kubernetes base64 of Helm's base64 text). */
export function decodeSecretPayload(secretData: string): { release: HelmRelease; gzipped: boolean } {
  return decodeRelease(Buffer.from(secretData, 'base64').toString('latin1'));
}

/** Statuses whose release no longer exists in the cluster: nothing to rebuild. */
const GONE = new Set(['uninstalled', 'uninstalling']);

export interface Selection {
  current: StoredRelease[];
  /** Releases whose newest revision says they were uninstalled (kept by --keep-history). */
  uninstalled: { namespace: string; name: string; revision: number }[];
}

/**
 * The revision to capture for each release (namespace + name): the highest revision with status deployed; when none
 * is deployed (a failed first install, a pending upgrade), the highest revision.
 */
export function selectCurrent(stored: StoredRelease[]): Selection {
  const groups = new Map<string, StoredRelease[]>();
  for (const s of stored) {
    const key = `${s.release.namespace}/${s.release.name}`;
    groups.set(key, [...(groups.get(key) ?? []), s]);
  }
  const current: StoredRelease[] = [];
  const uninstalled: Selection['uninstalled'] = [];
  for (const revisions of groups.values()) {
    const sorted = [...revisions].sort((a, b) => b.release.version - a.release.version);
    const newest = sorted[0]!;
    if (GONE.has(newest.release.info?.status ?? '')) {
      uninstalled.push({
        namespace: newest.release.namespace,
        name: newest.release.name,
        revision: newest.release.version,
      });
      continue;
    }
    current.push(sorted.find((s) => s.release.info?.status === 'deployed') ?? newest);
  }
  current.sort((a, b) =>
    `${a.release.namespace}/${a.release.name}`.localeCompare(`${b.release.namespace}/${b.release.name}`),
  );
  return { current, uninstalled };
}
