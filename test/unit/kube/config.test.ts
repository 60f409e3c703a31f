import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadKubeConfig, NoKubeConfigError, SERVICE_ACCOUNT_DIR } from '../../../src/adapters/kube/config.js';
import { UserError } from '../../../src/errors.js';

/** Where the Kubernetes API is: --kubeconfig, $KUBECONFIG (several files), ~/.kube/config, in-cluster; --context. */

const dir = mkdtempSync(join(tmpdir(), 'lifeboat-kubeconfig-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function kubeconfig(file: string, contexts: { name: string; server: string }[], current?: string): string {
  const path = join(dir, file);
  const clusters = contexts.map((c) => `- name: ${c.name}\n  cluster:\n    server: ${c.server}\n`).join('');
  const ctx = contexts.map((c) => `- name: ${c.name}\n  context:\n    cluster: ${c.name}\n    user: u\n`).join('');
  writeFileSync(
    path,
    `apiVersion: v1\nkind: Config\nclusters:\n${clusters}contexts:\n${ctx}users:\n- name: u\n  user:\n    token: t\n` +
      (current ? `current-context: ${current}\n` : ''),
  );
  return path;
}

const empty = { env: {}, home: join(dir, 'no-home') };

describe('loadKubeConfig', () => {
  const a = kubeconfig('a', [{ name: 'prod', server: 'https://10.0.0.10:6443' }], 'prod');
  const b = kubeconfig('b', [{ name: 'lab', server: 'http://127.0.0.1:8001' }]);

  it('--kubeconfig wins over $KUBECONFIG; --context picks a context', async () => {
    const loaded = await loadKubeConfig({ kubeconfig: a }, { env: { KUBECONFIG: b } });
    expect(loaded.server).toBe('https://10.0.0.10:6443');
    expect(loaded.source).toBe(`kubeconfig ${a} (context prod)`);
  });

  it('$KUBECONFIG lists several files, merged like kubectl; a plain http server works like kubectl proxy', async () => {
    const loaded = await loadKubeConfig({ context: 'lab' }, { env: { KUBECONFIG: `${a}:${b}` } });
    expect(loaded.server).toBe('http://127.0.0.1:8001');
    expect(loaded.kc.getCurrentCluster()?.skipTLSVerify).toBe(true);
    expect((await loadKubeConfig({}, { env: { KUBECONFIG: `${a}:${b}` } })).server).toBe('https://10.0.0.10:6443');
  });

  it('~/.kube/config when nothing else is set', async () => {
    const home = join(dir, 'home');
    mkdirSync(join(home, '.kube'), { recursive: true });
    writeFileSync(join(home, '.kube', 'config'), readFileSync(a));
    expect((await loadKubeConfig({}, { env: {}, home })).server).toBe('https://10.0.0.10:6443');
  });

  it('in a pod: the service account (token file, CA, KUBERNETES_SERVICE_HOST)', async () => {
    const prefix = join(dir, 'root');
    mkdirSync(join(prefix, SERVICE_ACCOUNT_DIR), { recursive: true });
    writeFileSync(join(prefix, SERVICE_ACCOUNT_DIR, 'token'), 'sa-token');
    writeFileSync(join(prefix, SERVICE_ACCOUNT_DIR, 'namespace'), 'lifeboat');
    const loaded = await loadKubeConfig(
      {},
      {
        ...empty,
        env: { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' },
        inClusterPrefix: prefix,
      },
    );
    expect(loaded.server).toBe('https://10.96.0.1:443');
    expect(loaded.source).toBe('in-cluster service account');
    expect(process.env.KUBERNETES_SERVICE_HOST).toBe(undefined);
  });

  it('nothing configured, a missing file, an unknown context: one-line errors with hints', async () => {
    await expect(loadKubeConfig({}, empty)).rejects.toBeInstanceOf(NoKubeConfigError);
    await expect(loadKubeConfig({ kubeconfig: join(dir, 'nope') }, empty)).rejects.toThrow(
      /cannot read kubeconfig .*nope: no such file/,
    );
    const err = await loadKubeConfig({ kubeconfig: a, context: 'staging' }, empty).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).message).toBe(`no context "staging" in kubeconfig ${a}`);
    expect((err as UserError).hint).toBe('contexts: prod');
  });
});
