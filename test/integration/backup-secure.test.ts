import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../src/adapters/proc/wait.js';
import { json, runCli } from '../helpers/cli.js';
import { startTestCluster, type TestCluster } from '../helpers/etcd-cluster.js';
import { makeTestPki, type TestPki } from '../helpers/tls.js';

/** The snapshot stream speaks HTTP/2 itself (not through grpc-js), so TLS and auth get their own proof. */
describe('backup and verify with client-certificate TLS and with etcd auth', () => {
  let pki: TestPki;
  let tlsCluster: TestCluster;
  let authCluster: TestCluster;
  let dir: string;
  let tlsFlags: string[];

  beforeAll(async () => {
    pki = makeTestPki();
    dir = mkdtempSync(join(tmpdir(), 'lifeboat-backup-secure-'));
    [tlsCluster, authCluster] = await Promise.all([
      startTestCluster(1, { tls: { certFile: pki.serverCert, keyFile: pki.serverKey, trustedCaFile: pki.ca } }),
      startTestCluster(1),
    ]);
    tlsFlags = ['--endpoints', tlsCluster.endpoints[0]!, '--cert', pki.clientCert, '--key', pki.clientKey];
    await waitFor(
      'the TLS member to serve',
      async () => (await runCli([...tlsFlags, '--cacert', pki.ca, 'status', '--json'])).code === 0,
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    const etcdctl = (args: string[]) => {
      const r = spawnSync('etcdctl', ['--endpoints', authCluster.endpoints[0]!, ...args], {
        env: { ...process.env, ETCDCTL_API: '3' },
        encoding: 'utf8',
      });
      if (r.status !== 0) throw new Error(`etcdctl ${args.join(' ')}: ${r.stderr}`);
    };
    etcdctl(['put', '/secret/a', '1']);
    etcdctl(['user', 'add', 'root:s3cret']);
    etcdctl(['auth', 'enable']);
  });

  afterAll(async () => {
    await Promise.all([tlsCluster?.destroy(), authCluster?.destroy()]);
    pki?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('streams over TLS with client certificates, and verify restores it', async () => {
    const to = join(dir, 'tls');
    const r = await runCli([...tlsFlags, '--cacert', pki.ca, '--json', 'backup', 'etcd', '--to', to]);
    expect(r.code, r.stderr).toBe(0);
    const b = json<{ location: string }>(r);
    const v = await runCli(['--json', 'verify', b.location]);
    expect(v.code, v.stderr).toBe(0);
    expect(json(v)).toMatchObject({ ok: true, hashKVMatch: true });
  });

  it('a CA that did not sign the server: one line naming TLS, exit 1, nothing stored', async () => {
    const r = await runCli([...tlsFlags, '--cacert', pki.otherCa, 'backup', 'etcd', '--to', join(dir, 'bad')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/TLS|certificate/i);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('authenticates (ETCDCTL_PASSWORD) and streams with the token', async () => {
    const to = join(dir, 'auth');
    const flags = ['--endpoints', authCluster.endpoints[0]!, '--user', 'root'];
    const r = await runCli([...flags, '--json', 'backup', 'etcd', '--to', to], { env: { ETCDCTL_PASSWORD: 's3cret' } });
    expect(r.code, r.stderr).toBe(0);
    const location = json<{ location: string }>(r).location;
    // The snapshot keeps the cluster's users and its auth switch: the drill logs in like any client.
    const anonymous = await runCli(['--json', 'verify', location]);
    expect(anonymous.code).toBe(1);
    expect(json<{ problems: string[] }>(anonymous).problems[0]).toMatch(/auth enabled .* pass --user/);
    const v = await runCli(['--user', 'root', '--json', 'verify', location], { env: { ETCDCTL_PASSWORD: 's3cret' } });
    expect(v.code, v.stderr).toBe(0);
    expect(json(v)).toMatchObject({ ok: true, hashKVMatch: true });
    const wrong = await runCli([...flags, 'backup', 'etcd', '--to', join(dir, 'x')], {
      env: { ETCDCTL_PASSWORD: 'nope' },
    });
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toMatch(/authentication failed|auth/i);
  });
});
