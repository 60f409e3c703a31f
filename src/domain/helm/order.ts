import { parseAllDocuments } from 'yaml';
import type { HelmRelease } from './release.js';

/**
 * The order in which captured releases are reinstalled: a release whose objects are custom resources goes after the
 * release that defines their CustomResourceDefinition (cert-manager before the apps with Certificates). Namespaces
 * come first (the restore plan creates them before any release). Ties keep namespace/name order, so the plan is
 * stable between runs.
 */

export interface KindRef {
  group: string;
  kind: string;
}

export interface ReleaseDeps {
  namespace: string;
  name: string;
  /** Custom resource kinds this release defines (crds/ files and CustomResourceDefinition objects). */
  provides: KindRef[];
  /** Kinds of the objects it creates, by API group (core kinds omitted). */
  uses: KindRef[];
}

// biome-ignore lint/suspicious/noExplicitAny: parsed YAML documents are untyped
type Doc = Record<string, any>;

function documents(text: string): Doc[] {
  const docs: Doc[] = [];
  for (const d of parseAllDocuments(text)) {
    try {
      const value = d.toJSON();
      if (value && typeof value === 'object' && !Array.isArray(value)) docs.push(value as Doc);
    } catch {
      // a broken document says nothing about ordering
    }
  }
  return docs;
}

function groupOf(apiVersion: unknown): string {
  const text = String(apiVersion ?? '');
  return text.includes('/') ? text.slice(0, text.indexOf('/')) : '';
}

const key = (k: KindRef) => `${k.group}|${k.kind}`;

function unique(list: KindRef[]): KindRef[] {
  const seen = new Map(list.map((k) => [key(k), k]));
  return [...seen.values()].sort((a, b) => key(a).localeCompare(key(b)));
}

export function releaseDeps(release: HelmRelease): ReleaseDeps {
  const crdTexts = (release.chart.files ?? [])
    .filter((f) => f.name.startsWith('crds/'))
    .map((f) => Buffer.from(f.data ?? '', 'base64').toString('utf8'));
  const manifestDocs = documents(release.manifest ?? '');
  const provides: KindRef[] = [];
  for (const doc of [...crdTexts.flatMap(documents), ...manifestDocs]) {
    if (doc.kind === 'CustomResourceDefinition' && doc.spec?.group && doc.spec?.names?.kind) {
      provides.push({ group: String(doc.spec.group), kind: String(doc.spec.names.kind) });
    }
  }
  const uses = manifestDocs
    .filter((d) => d.kind && groupOf(d.apiVersion).includes('.') && d.kind !== 'CustomResourceDefinition')
    .map((d) => ({ group: groupOf(d.apiVersion), kind: String(d.kind) }));
  return { namespace: release.namespace, name: release.name, provides: unique(provides), uses: unique(uses) };
}

export interface InstallOrder<T extends ReleaseDeps> {
  order: T[];
  /** provider -> user pairs that forced the order ("cert-manager/cert-manager -> web/shop"). */
  edges: { before: string; after: string; kind: string }[];
  /** Releases in a dependency cycle (kept in name order, after the rest). */
  cycle: string[];
}

const id = (r: ReleaseDeps) => `${r.namespace}/${r.name}`;

export function installOrder<T extends ReleaseDeps>(releases: T[]): InstallOrder<T> {
  const sorted = [...releases].sort((a, b) => id(a).localeCompare(id(b)));
  const providerOf = new Map<string, T>();
  for (const r of sorted) for (const k of r.provides) if (!providerOf.has(key(k))) providerOf.set(key(k), r);
  const edges: InstallOrder<T>['edges'] = [];
  const needs = new Map<string, Set<string>>(sorted.map((r) => [id(r), new Set<string>()]));
  for (const r of sorted) {
    for (const k of r.uses) {
      const p = providerOf.get(key(k));
      if (!p || p === r || needs.get(id(r))!.has(id(p))) continue;
      needs.get(id(r))!.add(id(p));
      edges.push({ before: id(p), after: id(r), kind: `${k.kind}.${k.group}` });
    }
  }
  // Kahn's algorithm, always taking the first ready release in name order.
  const order: T[] = [];
  const done = new Set<string>();
  let progress = true;
  while (progress) {
    progress = false;
    const next = sorted.find((r) => !done.has(id(r)) && [...needs.get(id(r))!].every((d) => done.has(d)));
    if (next) {
      order.push(next);
      done.add(id(next));
      progress = true;
    }
  }
  const cycle = sorted.filter((r) => !done.has(id(r)));
  return { order: [...order, ...cycle], edges, cycle: cycle.map(id) };
}
