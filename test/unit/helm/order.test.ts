import { describe, expect, it } from 'vitest';
import type { CapturedRelease, CaptureIndex } from '../../../src/domain/helm/capture.js';
import { installOrder, type ReleaseDeps, releaseDeps } from '../../../src/domain/helm/order.js';
import type { HelmRelease } from '../../../src/domain/helm/release.js';
import { restorePlan, shellLine } from '../../../src/domain/helm/restore.js';
import { certManager, releaseJson, shop } from '../../fixtures/kube-api/helm.js';

const deps = (namespace: string, name: string, provides: string[] = [], uses: string[] = []): ReleaseDeps => ({
  namespace,
  name,
  provides: provides.map((k) => ({ group: 'x.io', kind: k })),
  uses: uses.map((k) => ({ group: 'x.io', kind: k })),
});

describe('releaseDeps', () => {
  it('CRDs from crds/ and from the manifest; custom kinds used by the manifest', () => {
    expect(releaseDeps(releaseJson(certManager()) as HelmRelease).provides).toEqual([
      { group: 'cert-manager.io', kind: 'Certificate' },
    ]);
    const s = releaseDeps(releaseJson(shop(1, 'deployed', {})) as HelmRelease);
    expect(s.provides).toEqual([]);
    expect(s.uses).toEqual([{ group: 'cert-manager.io', kind: 'Certificate' }]);
  });
});

describe('installOrder', () => {
  it('providers before users, otherwise name order; chains resolve', () => {
    const { order, edges, cycle } = installOrder([
      deps('a', 'app', [], ['Widget']),
      deps('b', 'other'),
      deps('z', 'widgets', ['Widget'], ['Gear']),
      deps('y', 'gears', ['Gear']),
    ]);
    expect(order.map((r) => r.name)).toEqual(['other', 'gears', 'widgets', 'app']);
    expect(edges).toEqual([
      { before: 'z/widgets', after: 'a/app', kind: 'Widget.x.io' },
      { before: 'y/gears', after: 'z/widgets', kind: 'Gear.x.io' },
    ]);
    expect(cycle).toEqual([]);
  });

  it('a cycle does not lose releases: they come last, named', () => {
    const { order, cycle } = installOrder([
      deps('a', 'p', ['P'], ['Q']),
      deps('b', 'q', ['Q'], ['P']),
      deps('c', 'free'),
    ]);
    expect(order.map((r) => r.name)).toEqual(['free', 'p', 'q']);
    expect(cycle).toEqual(['a/p', 'b/q']);
  });
});

describe('restorePlan', () => {
  const entry = (namespace: string, name: string, extra: Partial<CapturedRelease> = {}): CapturedRelease => ({
    namespace,
    name,
    revision: 1,
    status: 'deployed',
    chart: name,
    chartVersion: '1.0.0',
    driver: 'secret',
    gzipped: true,
    files: {
      release: `${namespace}/${name}/release.json`,
      values: `${namespace}/${name}/values.yaml`,
      valuesAll: `${namespace}/${name}/values-all.yaml`,
      manifest: `${namespace}/${name}/manifest.yaml`,
      hooks: `${namespace}/${name}/hooks.yaml`,
      chart: `${namespace}/${name}/chart.tgz`,
      manifestChart: `${namespace}/${name}/manifest-chart.tgz`,
    },
    provides: [],
    uses: [],
    missingSubcharts: [],
    rejectedFiles: [],
    ...extra,
  });
  const index: CaptureIndex = {
    kind: 'lifeboat-helm-capture',
    version: 1,
    createdAt: '2026-01-05T00:00:00.000Z',
    encrypted: false,
    uninstalled: [],
    releases: [
      entry('web', 'shop', { uses: [{ group: 'cert-manager.io', kind: 'Certificate' }] }),
      entry('web', 'blog'),
      entry('cert-manager', 'cert-manager', { provides: [{ group: 'cert-manager.io', kind: 'Certificate' }] }),
      entry('db', 'blog', { missingSubcharts: ['mariadb'] }),
    ],
  };
  const path = (n: string) => `/cap/${n}`;

  it('namespaces first, then releases with CRD providers first', () => {
    const steps = restorePlan(index, { path });
    expect(steps.map(shellLineOf)).toEqual([
      'kubectl create namespace cert-manager',
      'kubectl create namespace db',
      'kubectl create namespace web',
      'helm upgrade --install cert-manager /cap/cert-manager/cert-manager/chart.tgz --namespace cert-manager --create-namespace -f /cap/cert-manager/cert-manager/values.yaml',
      'helm upgrade --install blog /cap/db/blog/manifest-chart.tgz --namespace db --create-namespace',
      'helm upgrade --install blog /cap/web/blog/chart.tgz --namespace web --create-namespace -f /cap/web/blog/values.yaml',
      'helm upgrade --install shop /cap/web/shop/chart.tgz --namespace web --create-namespace -f /cap/web/shop/values.yaml',
    ]);
    expect(steps.at(-1)?.note).toBe('after cert-manager/cert-manager (defines Certificate.cert-manager.io)');
  });

  it('--release NAME or NS/NAME; ambiguity and unknown names are errors', () => {
    expect(restorePlan(index, { path, release: 'shop' }).map((s) => s.kind)).toEqual(['namespace', 'release']);
    expect(restorePlan(index, { path, release: 'db/blog' })[1]?.release).toBe('blog');
    expect(() => restorePlan(index, { path, release: 'blog' })).toThrow(/ambiguous \(web\/blog, db\/blog\)/);
    expect(() => restorePlan(index, { path, release: 'nope' })).toThrow(/no release "nope"/);
  });

  it('shell lines quote what needs quoting', () => {
    expect(shellLine(['helm', '-f', "/a b/it's.yaml"])).toBe(`helm -f '/a b/it'\\''s.yaml'`);
  });
});

function shellLineOf(s: { argv: string[] }): string {
  return shellLine(s.argv);
}
