// Types for scripts/render-chart.mjs, for the tests that import it.
export const CHART_DIR: string;
export const MANIFESTS_DIR: string;
export const MANIFEST_VALUES: Record<string, unknown>;
export interface RenderOptions {
  chartDir?: string;
  values?: Record<string, unknown>;
  releaseName?: string;
  namespace?: string;
}
export function renderChart(options?: RenderOptions): { file: string; text: string }[];
export function renderedObjects(options?: RenderOptions): Record<string, unknown>[];
