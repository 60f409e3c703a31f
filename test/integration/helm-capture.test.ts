import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { generateX25519Identity, identityToRecipient } from 'age-encryption';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  blog,
  certManager,
  type ReleaseSpec,
  releaseConfigMap,
  releaseJson,
  releaseSecret,
  shop,
} from '../fixtures/kube-api/helm.js';
import { json, runCli } from '../helpers/cli.js';
import { type KubeApiFixture, startKubeApi } from '../helpers/kube-api.js';

/**
 * `lifeboat backup helm` / `restore helm` through the compiled CLI against the API fixture, with release objects
 * built exactly as Helm 3 stores them (gzip, legacy plain, Secret and ConfigMap drivers).
 */

let api: KubeApiFixture;
let dir: string;

const SHOP_CONFIG = {
  image: { tag: '1.27.3' },
  replicaCount: 3,
  ingress: { enabled: true },
  mysql: { auth: { password: 'hunter2' } },
  resources: null, // removes the chart's default
};
let shopDeployed: ReleaseSpec;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lifeboat-helm-'));
  api = await startKubeApi();
  for (const ns of ['apps', 'cert-manager', 'old'])
    api.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  shopDeployed = shop(2, 'deployed', SHOP_CONFIG);
  api.create(releaseSecret(shop(1, 'superseded', { replicaCount: 2 })));
  api.create(releaseSecret(shopDeployed));
  api.create(releaseSecret(shop(3, 'failed', { replicaCount: 99 }))); // a failed upgrade: not what runs
  api.create(releaseSecret(certManager(), false)); // legacy: not gzipped
  api.create(releaseConfigMap(blog())); // ConfigMap driver
  const gone = { ...blog(), name: 'gone', namespace: 'old' };
  api.create(releaseSecret({ ...gone, version: 1, status: 'superseded' }));
  api.create(releaseSecret({ ...gone, version: 2, status: 'uninstalled' }));
  api.create({
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'helm.sh/release.v1',
    metadata: { name: 'sh.helm.release.v1.broken.v1', namespace: 'apps', labels: { owner: 'helm', name: 'broken' } },
    data: { release: Buffer.from('not base64 of anything useful').toString('base64') },
  });
  api.create({
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: { name: 'unrelated', namespace: 'apps', labels: { owner: 'helm' } },
    data: { password: Buffer.from('x').toString('base64') },
  });
});
afterAll(async () => {
  await api?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface CaptureDoc {
  location: string;
  encrypted: boolean;
  releases: { namespace: string; name: string; revision: number; status: string; files: Record<string, string> }[];
  uninstalled: { namespace: string; name: string; revision: number }[];
  warnings: string[];
}

const kube = () => ['--kubeconfig', api.kubeconfig];

function files(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else out.push(relative(root, join(d, e.name)));
    }
  };
  walk(root);
  return out.sort();
}

describe('lifeboat backup helm', () => {
  let capture: CaptureDoc;
  let store: string;

  it('captures the current revision of every release, whole, and says which', async () => {
    store = join(dir, 'plain');
    const r = await runCli(['backup', 'helm', ...kube(), '--to', store, '--json']);
    expect(r.stderr).toContain('warning: secret apps/sh.helm.release.v1.broken.v1:');
    expect(r.code).toBe(0);
    capture = json<CaptureDoc>(r);
    expect(capture.releases.map((x) => [`${x.namespace}/${x.name}`, x.revision, x.status])).toEqual([
      ['apps/blog', 1, 'deployed'],
      ['cert-manager/cert-manager', 1, 'deployed'],
      ['apps/shop', 2, 'deployed'],
    ]);
    expect(capture.uninstalled).toEqual([{ namespace: 'old', name: 'gone', revision: 2 }]);
    expect(capture.encrypted).toBe(false);
  });

  it('stores release JSON, values, values with defaults, manifest and hooks that round-trip to the inputs', () => {
    const base = capture.location;
    const shopDir = join(base, 'apps', 'shop');
    expect(JSON.parse(readFileSync(join(shopDir, 'release.json'), 'utf8'))).toEqual(releaseJson(shopDeployed));
    expect(parse(readFileSync(join(shopDir, 'values.yaml'), 'utf8'))).toEqual(SHOP_CONFIG);
    expect(parse(readFileSync(join(shopDir, 'values-all.yaml'), 'utf8'))).toEqual({
      image: { repository: 'nginx', tag: '1.27.3', pullPolicy: 'IfNotPresent' },
      replicaCount: 3,
      ingress: { enabled: true, hosts: ['shop.local'] },
      mysql: { auth: { password: 'hunter2' } },
    });
    expect(readFileSync(join(shopDir, 'manifest.yaml'), 'utf8')).toBe(shopDeployed.manifest);
    expect(readFileSync(join(shopDir, 'hooks.yaml'), 'utf8')).toContain('name: shop-migrate');
    // the legacy (un-gzipped) release decodes the same way
    const cm = join(base, 'cert-manager', 'cert-manager');
    expect(parse(readFileSync(join(cm, 'values.yaml'), 'utf8'))).toEqual({ replicaCount: 2 });
    expect(parse(readFileSync(join(cm, 'values-all.yaml'), 'utf8'))).toEqual({ installCRDs: false, replicaCount: 2 });
    for (const f of files(base)) expect(statSync(join(base, f)).mode & 0o777, f).toBe(0o600);
    const index = JSON.parse(readFileSync(join(base, 'index.json'), 'utf8'));
    expect(index.releases.find((x: { name: string }) => x.name === 'shop').gzipped).toBe(true);
    expect(index.releases.find((x: { name: string }) => x.name === 'cert-manager').gzipped).toBe(false);
    expect(index.releases.find((x: { name: string }) => x.name === 'blog').driver).toBe('configmap');
  });

  it('rebuilds the chart as a .tgz holding every template and file (tar tzf), byte for byte', () => {
    const tgz = join(capture.location, 'apps', 'shop', 'chart.tgz');
    const listed = execFileSync('tar', ['tzf', tgz], { encoding: 'utf8' }).trim().split('\n').sort();
    const expected = [
      'Chart.yaml',
      'values.yaml',
      'values.schema.json',
      ...Object.keys(shopDeployed.templates),
      ...Object.keys(shopDeployed.files ?? {}),
    ]
      .map((f) => `shop/${f}`)
      .sort();
    expect(listed).toEqual(expected);
    const out = join(dir, 'extracted');
    mkdirSync(out);
    execFileSync('tar', ['xzf', tgz, '-C', out]);
    for (const [name, text] of Object.entries({ ...shopDeployed.templates, ...shopDeployed.files })) {
      expect(readFileSync(join(out, 'shop', name), 'utf8')).toBe(text);
    }
    expect(parse(readFileSync(join(out, 'shop', 'Chart.yaml'), 'utf8'))).toMatchObject({
      apiVersion: 'v2',
      name: 'shop',
      version: '1.2.0',
      appVersion: '2.4.1',
    });
    expect(parse(readFileSync(join(out, 'shop', 'values.yaml'), 'utf8'))).toEqual(shopDeployed.values);
    // The manifest chart reinstalls exactly what ran; template delimiters in rendered text stay literal.
    const m = join(capture.location, 'apps', 'shop', 'manifest-chart.tgz');
    execFileSync('tar', ['xzf', m, '-C', out]);
    expect(readFileSync(join(out, 'shop', 'templates', 'manifest.yaml'), 'utf8')).toContain(
      'rule: "{{ "{{" }} $labels.instance }} is down"',
    );
  });
});

describe('lifeboat restore helm', () => {
  it('prints namespaces first, then CRD providers before their users, with the rebuilt chart and values', async () => {
    const r = await runCli(['restore', 'helm', '--from', join(dir, 'plain'), '--json']);
    expect(r.code).toBe(0);
    const doc = json<{
      steps: { kind: string; namespace: string; release?: string; command: string; note?: string }[];
    }>(r);
    expect(doc.steps.map((s) => `${s.kind}:${s.release ?? s.namespace}`)).toEqual([
      'namespace:apps',
      'namespace:cert-manager',
      'release:blog',
      'release:cert-manager',
      'release:shop',
    ]);
    const shopStep = doc.steps.find((s) => s.release === 'shop')!;
    expect(shopStep.command).toMatch(
      /^helm upgrade --install shop \/\S+\/helm\/\d{8}T\d{6}Z\/apps\/shop\/chart\.tgz --namespace apps --create-namespace -f \/\S+\/apps\/shop\/values\.yaml$/,
    );
    expect(shopStep.note).toBe('after cert-manager/cert-manager (defines Certificate.cert-manager.io)');
    const blogStep = doc.steps.find((s) => s.release === 'blog')!;
    expect(blogStep.command).toContain('manifest-chart.tgz');
    expect(blogStep.note).toContain('subcharts Helm did not keep (mariadb)');
    const human = await runCli(['restore', 'helm', '--from', join(dir, 'plain'), '--release', 'apps/shop']);
    expect(human.stdout.split('\n').filter((l) => l && !l.startsWith('#'))).toEqual([
      'kubectl create namespace apps',
      expect.stringMatching(
        /^helm upgrade --install shop .*chart\.tgz --namespace apps --create-namespace -f .*values\.yaml$/,
      ),
    ]);
    const unknown = await runCli(['restore', 'helm', '--from', join(dir, 'plain'), '--release', 'nope']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('no release "nope" in this capture');
  });

  it('--yes runs the commands in order with helm from PATH', async () => {
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    const log = join(dir, 'ran.log');
    // A stand-in helm: records its argv and checks the chart and values files it was given exist.
    writeFileSync(join(bin, 'helm'), `#!/bin/sh\necho "helm $*" >> ${log}\ntest -f "$4" || exit 3\n`);
    writeFileSync(
      join(bin, 'kubectl'),
      `#!/bin/sh\necho "kubectl $*" >> ${log}\necho 'Error from server (AlreadyExists): namespaces "apps" already exists' >&2\nexit 1\n`,
    );
    chmodSync(join(bin, 'helm'), 0o755);
    chmodSync(join(bin, 'kubectl'), 0o755);
    const r = await runCli(['restore', 'helm', '--from', join(dir, 'plain'), '--yes'], {
      env: { PATH: `${bin}:/usr/bin:/bin` },
    });
    expect(r.stderr).toContain('AlreadyExists');
    expect(r.code).toBe(0);
    const ran = readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split(' ').slice(0, 4).join(' '));
    expect(ran).toEqual([
      'kubectl create namespace apps',
      'kubectl create namespace cert-manager',
      'helm upgrade --install blog',
      'helm upgrade --install cert-manager',
      'helm upgrade --install shop',
    ]);
    const noHelm = await runCli(['restore', 'helm', '--from', join(dir, 'plain'), '--yes'], {
      env: { PATH: '/nonexistent' },
    });
    expect(noHelm.code).toBe(2);
    expect(noHelm.stderr).toContain('helm is not on PATH');
  });

  it('encrypted capture: every file but the index is age ciphertext; restore decrypts into a private workdir', async () => {
    const identity = await generateX25519Identity();
    const recipient = await identityToRecipient(identity);
    const idFile = join(dir, 'key.txt');
    writeFileSync(idFile, `${identity}\n`, { mode: 0o600 });
    const store = join(dir, 'sealed');
    const r = await runCli([
      'backup',
      'helm',
      ...kube(),
      '--to',
      store,
      '--recipient',
      recipient,
      '-n',
      'apps',
      '--json',
    ]);
    expect(r.code).toBe(0);
    const doc = json<CaptureDoc>(r);
    expect(doc.encrypted).toBe(true);
    expect(doc.releases.map((x) => x.name)).toEqual(['blog', 'shop']);
    const stored = files(doc.location);
    expect(stored.filter((f) => !f.endsWith('.age'))).toEqual(['index.json']);
    for (const f of stored) {
      const bytes = readFileSync(join(doc.location, f));
      expect(bytes.includes('hunter2'), f).toBe(false);
      if (f !== 'index.json') expect(bytes.subarray(0, 21).toString()).toBe('age-encryption.org/v1');
    }
    const workdir = join(dir, 'work');
    const restored = await runCli([
      'restore',
      'helm',
      '--from',
      store,
      '--identity',
      idFile,
      '--workdir',
      workdir,
      '--release',
      'shop',
      '--json',
    ]);
    expect(restored.code).toBe(0);
    expect(restored.stderr).toContain(`decrypted files are in ${workdir}`);
    const step = json<{ steps: { release?: string; argv: string[] }[] }>(restored).steps.find((s) => s.release)!;
    const values = step.argv[step.argv.indexOf('-f') + 1]!;
    expect(values.startsWith(workdir)).toBe(true);
    expect(parse(readFileSync(values, 'utf8'))).toEqual(SHOP_CONFIG);
    expect(statSync(values).mode & 0o777).toBe(0o600);
    expect(execFileSync('tar', ['tzf', step.argv[4]!], { encoding: 'utf8' })).toContain('shop/templates/NOTES.txt');
    const noKey = await runCli(['restore', 'helm', '--from', store], { env: { LIFEBOAT_AGE_IDENTITY: '' } });
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toContain('age-encrypted and no identity was given');
  });

  it('backup list shows captures; prune deletes an old capture whole and leaves an unfinished one alone', async () => {
    // The capture of the first test; an older one (its copy under an older stamp) and one still being written.
    const store = join(dir, 'plain');
    const [stamp] = readdirSync(join(store, 'helm'));
    const newest = join(store, 'helm', stamp!);
    const old = join(store, 'helm', '20200101T000000Z');
    cpSync(newest, old, { recursive: true });
    const unfinished = join(store, 'helm', '20190101T000000Z', 'apps', 'blog');
    mkdirSync(unfinished, { recursive: true });
    writeFileSync(join(unfinished, 'release.json'), '{}');

    const listed = await runCli(['backup', 'list', '--to', store, '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    const captures = json<{ helm: { name: string; files: number; size: number }[] }>(listed).helm;
    expect(captures.map((c) => c.name)).toEqual([`helm/${stamp}`, 'helm/20200101T000000Z']);
    expect(captures[1]!.files).toBe(files(old).length);
    expect(captures[1]!.size).toBe(files(old).reduce((sum, f) => sum + statSync(join(old, f)).size, 0));

    const config = join(dir, 'retention.yaml');
    writeFileSync(config, `backups:\n  to: [${store}]\n  helm: { retention: { keepLast: 1 } }\n`);
    const pruned = await runCli(['-c', config, 'prune', '--json']);
    expect(pruned.code, pruned.stderr).toBe(0);
    const helm = json<{ helm: { plan: { remove: { name: string; objects: string[] }[] }; deleted: string[] } }>(
      pruned,
    ).helm;
    expect(helm.plan.remove.map((r) => r.name)).toEqual(['helm/20200101T000000Z']);
    // Every file of the capture, index.json last: a prune cut short leaves a capture the next prune finds again.
    expect(helm.deleted.at(-1)).toBe('helm/20200101T000000Z/index.json');
    expect(helm.deleted).toHaveLength(files(newest).length);
    expect(existsSync(join(old, 'index.json'))).toBe(false);
    // The capture's directories went with its files; helm/ stays.
    expect(existsSync(old)).toBe(false);
    expect(existsSync(join(store, 'helm'))).toBe(true);
    expect(files(newest).length).toBeGreaterThan(0);
    expect(existsSync(join(unfinished, 'release.json'))).toBe(true);
  });

  it('no kubeconfig at all is bad input (exit 2) with a hint', async () => {
    const r = await runCli(['backup', 'helm', '--to', join(dir, 'x')], {
      env: { KUBECONFIG: '', HOME: join(dir, 'nohome'), KUBERNETES_SERVICE_HOST: '' },
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no Kubernetes cluster configured');
  });
});
