import { gzipSync } from 'node:zlib';
import { stringify } from 'yaml';
import type { HelmFile, HelmRelease } from './release.js';
import { tar } from './ustar.js';

/**
 * The chart of a release, rebuilt from what Helm stored with it, so `helm upgrade --install NAME ./chart.tgz -f
 * values.yaml` works when the chart repository has moved on or vanished. Helm keeps the top-level chart in the
 * release (metadata, values, templates, files, schema, lock) but not its subcharts (they are not serialised), so a
 * chart with dependencies is rebuilt without `charts/`; for those, `manifestChart` packs the rendered manifest as
 * a chart of its own, which reinstalls exactly what was running.
 */

export interface ChartFile {
  /** Relative to the chart directory: "Chart.yaml", "templates/deployment.yaml". */
  path: string;
  data: Buffer;
}

export const YAML_OPTIONS = { sortMapEntries: true, lineWidth: 0 } as const;

export function toYaml(value: unknown): string {
  if (value === undefined || value === null) return '{}\n';
  if (typeof value === 'object' && Object.keys(value as object).length === 0) return '{}\n';
  return stringify(value, YAML_OPTIONS);
}

/** Chart-relative paths from release JSON are data from the cluster: refuse anything that could climb out. */
export function safeChartPath(name: string): string | undefined {
  const path = name.replace(/\\/g, '/').replace(/^\.\//, '');
  if (!path || path.startsWith('/') || path.split('/').some((seg) => seg === '..' || seg === '')) return undefined;
  return path;
}

/** A directory name for the chart inside the archive (Helm wants one top-level directory). */
export function chartDirName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, '_') || 'chart';
}

export interface RebuiltChart {
  files: ChartFile[];
  /** Files of the release the archive could not hold (unsafe names). */
  rejected: string[];
  /** Dependencies named in Chart.yaml whose charts Helm did not keep in the release. */
  missingSubcharts: string[];
}

export function rebuildChart(release: HelmRelease): RebuiltChart {
  const chart = release.chart;
  const files: ChartFile[] = [];
  const rejected: string[] = [];
  const text = (path: string, body: string) => files.push({ path, data: Buffer.from(body, 'utf8') });
  text('Chart.yaml', stringify(chart.metadata, YAML_OPTIONS));
  text('values.yaml', toYaml(chart.values));
  if (chart.schema) files.push({ path: 'values.schema.json', data: Buffer.from(chart.schema, 'base64') });
  if (chart.lock) text('Chart.lock', stringify(chart.lock, YAML_OPTIONS));
  const reserved = new Set(files.map((f) => f.path));
  const add = (f: HelmFile) => {
    const path = safeChartPath(f.name);
    if (!path || reserved.has(path)) {
      rejected.push(f.name);
      return;
    }
    reserved.add(path);
    files.push({ path, data: Buffer.from(f.data ?? '', 'base64') });
  };
  for (const t of chart.templates ?? []) add(t);
  for (const f of chart.files ?? []) add(f);
  const missingSubcharts = (chart.metadata.dependencies ?? []).map((d) => d.alias ?? d.name);
  return { files, rejected, missingSubcharts };
}

/**
 * Go templates would try to evaluate `{{` in rendered text (Prometheus rules, Grafana dashboards): emit it as a
 * literal. One pass over the original text, so the inserted action is not re-escaped.
 */
export function escapeTemplate(text: string): string {
  return text.replace(/\{\{/g, '{{ "{{" }}');
}

export function manifestChart(release: HelmRelease): ChartFile[] {
  const meta = release.chart.metadata;
  const chartYaml = {
    apiVersion: 'v2',
    name: meta.name,
    version: meta.version,
    ...(meta.appVersion ? { appVersion: meta.appVersion } : {}),
    description: `Rendered manifest of release ${release.namespace}/${release.name} revision ${release.version}, captured by Lifeboat`,
  };
  return [
    { path: 'Chart.yaml', data: Buffer.from(stringify(chartYaml, YAML_OPTIONS)) },
    { path: 'templates/manifest.yaml', data: Buffer.from(escapeTemplate(release.manifest ?? '')) },
  ];
}

/** chart files -> .tgz with one top-level directory, as `helm package` makes. */
export function chartArchive(dirName: string, files: ChartFile[], mtime = 0): Buffer {
  const entries = files.map((f) => ({ path: `${dirName}/${f.path}`, data: f.data, mtime }));
  return gzipSync(tar(entries));
}
