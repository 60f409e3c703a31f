import { chartArchive, chartDirName, manifestChart, rebuildChart, toYaml } from './chart.js';
import { installOrder, type KindRef, releaseDeps } from './order.js';
import type { StoredRelease } from './release.js';
import { coalesceValues } from './values.js';

/**
 * What a Helm capture stores per release, and its index. Layout in the store:
 *
 *   helm/<stamp>/index.json                          (plain: names, charts, order; no values, no secrets)
 *   helm/<stamp>/<namespace>/<release>/release.json  the full release as Helm stored it
 *                                     values.yaml     user-supplied values (`helm get values`)
 *                                     values-all.yaml chart defaults + user values (`helm get values --all`)
 *                                     manifest.yaml   the rendered manifest (`helm get manifest`)
 *                                     hooks.yaml      rendered hooks (`helm get hooks`)
 *                                     chart.tgz       the chart rebuilt from the release
 *                                     manifest-chart.tgz  the rendered manifest packed as a chart
 * Every file but index.json gets `.age` when the capture is encrypted: releases hold passwords and keys.
 */

export const CAPTURE_KIND = 'lifeboat-helm-capture';

export type ArtifactName = 'release' | 'values' | 'valuesAll' | 'manifest' | 'hooks' | 'chart' | 'manifestChart';

const FILE_NAMES: Record<ArtifactName, string> = {
  release: 'release.json',
  values: 'values.yaml',
  valuesAll: 'values-all.yaml',
  manifest: 'manifest.yaml',
  hooks: 'hooks.yaml',
  chart: 'chart.tgz',
  manifestChart: 'manifest-chart.tgz',
};

export interface CapturedRelease {
  namespace: string;
  name: string;
  revision: number;
  status: string;
  chart: string;
  chartVersion: string;
  appVersion?: string;
  driver: 'secret' | 'configmap';
  gzipped: boolean;
  /** Object names in the store, relative to the capture directory. */
  files: Record<ArtifactName, string>;
  provides: KindRef[];
  uses: KindRef[];
  /** Subcharts Helm did not keep: reinstall from manifest-chart.tgz (or `helm dependency build` with the repo). */
  missingSubcharts: string[];
  /** Chart files with unsafe names, left out of chart.tgz. */
  rejectedFiles: string[];
}

export interface CaptureIndex {
  kind: typeof CAPTURE_KIND;
  version: 1;
  createdAt: string;
  cluster?: string;
  encrypted: boolean;
  releases: CapturedRelease[];
  /** Releases whose newest revision was an uninstall (history kept): not captured. */
  uninstalled: { namespace: string; name: string; revision: number }[];
}

/** A path segment from cluster data (namespace, release name), made safe for object names. */
export function segment(name: string): string {
  const s = name.replace(/[^A-Za-z0-9._-]/g, '_');
  return s === '.' || s === '..' || s === '' ? `_${s}` : s;
}

export interface ReleaseArtifacts {
  entry: CapturedRelease;
  /** Relative object name -> bytes (before encryption). */
  objects: Map<string, Buffer>;
}

export function releaseArtifacts(stored: StoredRelease, encrypted: boolean, mtime = 0): ReleaseArtifacts {
  const r = stored.release;
  const dir = `${segment(r.namespace)}/${segment(r.name)}`;
  const suffix = encrypted ? '.age' : '';
  const files = Object.fromEntries(Object.entries(FILE_NAMES).map(([k, f]) => [k, `${dir}/${f}${suffix}`])) as Record<
    ArtifactName,
    string
  >;
  const rebuilt = rebuildChart(r);
  const dirName = chartDirName(r.chart.metadata.name);
  const hooks = (r.hooks ?? []).map((h) => `# Source: ${h.path}\n${h.manifest.trim()}\n`).join('---\n');
  const bytes: Record<ArtifactName, Buffer> = {
    release: Buffer.from(`${JSON.stringify(r, null, 2)}\n`),
    values: Buffer.from(toYaml(r.config)),
    valuesAll: Buffer.from(toYaml(coalesceValues(r.chart.values, r.config))),
    manifest: Buffer.from(r.manifest ?? ''),
    hooks: Buffer.from(hooks),
    chart: chartArchive(dirName, rebuilt.files, mtime),
    manifestChart: chartArchive(dirName, manifestChart(r), mtime),
  };
  const deps = releaseDeps(r);
  const entry: CapturedRelease = {
    namespace: r.namespace,
    name: r.name,
    revision: r.version,
    status: r.info?.status ?? 'unknown',
    chart: r.chart.metadata.name,
    chartVersion: r.chart.metadata.version,
    ...(r.chart.metadata.appVersion ? { appVersion: String(r.chart.metadata.appVersion) } : {}),
    driver: stored.driver,
    gzipped: stored.gzipped,
    files,
    provides: deps.provides,
    uses: deps.uses,
    missingSubcharts: rebuilt.missingSubcharts,
    rejectedFiles: rebuilt.rejected,
  };
  const objects = new Map(Object.entries(bytes).map(([k, b]) => [files[k as ArtifactName], b]));
  return { entry, objects };
}

/** Index entries in install order, so the restore reads the plan straight off the file. */
export function captureIndex(
  entries: CapturedRelease[],
  meta: { createdAt: string; cluster?: string; encrypted: boolean; uninstalled: CaptureIndex['uninstalled'] },
): CaptureIndex {
  return {
    kind: CAPTURE_KIND,
    version: 1,
    createdAt: meta.createdAt,
    ...(meta.cluster ? { cluster: meta.cluster } : {}),
    encrypted: meta.encrypted,
    releases: installOrder(entries).order,
    uninstalled: meta.uninstalled,
  };
}

/** Directory name of a capture: sortable UTC stamp, like etcd snapshot names. */
export function captureStamp(createdAt: Date): string {
  return createdAt
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}
