import type { CapturedRelease, CaptureIndex } from './capture.js';
import { installOrder } from './order.js';

/**
 * The reinstall commands for a Helm capture, in dependency-safe order: every namespace first, then the releases,
 * CRD providers before the releases that create their custom resources. Data, not actions: the command prints
 * them, or runs them with --yes.
 */

export interface RestoreStep {
  kind: 'namespace' | 'release';
  namespace: string;
  release?: string;
  argv: string[];
  /** Why this step looks the way it does (missing subcharts, ordering). */
  note?: string;
}

export interface RestoreRequest {
  /** Resolves an object name of the capture to a local path the command can read. */
  path: (objectName: string) => string;
  /** NAME or NAMESPACE/NAME: only that release (and its namespace). */
  release?: string;
}

export class UnknownReleaseError extends Error {}

export function selectReleases(index: CaptureIndex, wanted?: string): CapturedRelease[] {
  if (!wanted) return index.releases;
  const matches = index.releases.filter((r) =>
    wanted.includes('/') ? `${r.namespace}/${r.name}` === wanted : r.name === wanted,
  );
  if (matches.length === 0) {
    const known = index.releases.map((r) => `${r.namespace}/${r.name}`).join(', ') || 'none';
    throw new UnknownReleaseError(`no release "${wanted}" in this capture (captured: ${known})`);
  }
  if (matches.length > 1) {
    const names = matches.map((r) => `${r.namespace}/${r.name}`).join(', ');
    throw new UnknownReleaseError(`"${wanted}" is ambiguous (${names}); write it as NAMESPACE/NAME`);
  }
  return matches;
}

export function restorePlan(index: CaptureIndex, req: RestoreRequest): RestoreStep[] {
  const chosen = selectReleases(index, req.release);
  const { order, edges } = installOrder(chosen);
  const namespaces = [...new Set(order.map((r) => r.namespace))].sort();
  const steps: RestoreStep[] = namespaces.map((ns) => ({
    kind: 'namespace',
    namespace: ns,
    argv: ['kubectl', 'create', 'namespace', ns],
  }));
  for (const r of order) {
    const after = edges.filter((e) => e.after === `${r.namespace}/${r.name}`);
    const notes: string[] = [];
    if (after.length) notes.push(`after ${after.map((e) => `${e.before} (defines ${e.kind})`).join(', ')}`);
    let argv: string[];
    if (r.missingSubcharts.length) {
      // Helm does not keep subcharts in the release: reinstall the rendered manifest, which is exactly what ran.
      notes.push(
        `chart has subcharts Helm did not keep (${r.missingSubcharts.join(', ')}): installing the rendered manifest; ` +
          `to go back to the real chart, helm upgrade it from its repository with ${r.files.values}`,
      );
      argv = helmInstall(r, req.path(r.files.manifestChart));
    } else {
      argv = [...helmInstall(r, req.path(r.files.chart)), '-f', req.path(r.files.values)];
    }
    steps.push({
      kind: 'release',
      namespace: r.namespace,
      release: r.name,
      argv,
      ...(notes.length ? { note: notes.join('; ') } : {}),
    });
  }
  return steps;
}

function helmInstall(r: CapturedRelease, chartPath: string): string[] {
  return ['helm', 'upgrade', '--install', r.name, chartPath, '--namespace', r.namespace, '--create-namespace'];
}

/** A shell-safe rendering of argv, for printing. */
export function shellLine(argv: string[]): string {
  return argv.map((a) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}
