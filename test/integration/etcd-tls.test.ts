import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtcdEndpointClient, EtcdError } from '../../src/adapters/etcd/client.js';
import { validateConnectionOptions } from '../../src/adapters/etcd/connection.js';
import { probeCluster, probeEndpoint } from '../../src/adapters/etcd/probe.js';
import { waitFor } from '../../src/adapters/proc/wait.js';
import { UserError } from '../../src/errors.js';
import { startTestCluster, type TestCluster } from '../helpers/etcd-cluster.js';
import { etcdVersionOnPath } from '../helpers/kubeadm-sim.js';
import { makeTestPki, type TestPki } from '../helpers/tls.js';

async function rejection(p: Promise<unknown>): Promise<EtcdError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(EtcdError);
  return err as EtcdError;
}

describe('TLS', () => {
  let pki: TestPki;
  let cluster: TestCluster;
  let good: { tls: { ca: string; cert: string; key: string } };

  beforeAll(async () => {
    pki = makeTestPki();
    good = { tls: { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey } };
    cluster = await startTestCluster(3, {
      tls: { certFile: pki.serverCert, keyFile: pki.serverKey, trustedCaFile: pki.ca },
    });
    // The helper cannot poll /health over TLS; our own probe can.
    await waitFor(
      'the TLS cluster to elect a leader and serve linearizable reads',
      async () => {
        const probes = await probeCluster(cluster.endpoints, good, 1000);
        return probes.every((p) => p.linearizableRead && p.status && p.status.leaderId !== '0');
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
  });

  afterAll(async () => {
    await cluster?.destroy();
    pki?.cleanup();
  });

  it('works with ca/cert/key', async () => {
    const c = new EtcdEndpointClient(cluster.endpoints[0]!, good);
    try {
      await c.put('/tls/k', 'secure');
      expect(await c.get('/tls/k')).toBe('secure');
      expect(await c.memberList(2000)).toHaveLength(3);
    } finally {
      c.close();
    }
    // localhost is in the server certificate's SANs too.
    const byName = new EtcdEndpointClient(cluster.endpoints[1]!.replace('127.0.0.1', 'localhost'), good);
    try {
      expect((await byName.status(2000)).leaderId).not.toBe('0');
    } finally {
      byName.close();
    }
  });

  it('a wrong CA gives one line naming the endpoint and the certificate problem', async () => {
    const endpoint = cluster.endpoints[0]!;
    const probe = await probeEndpoint(endpoint, { tls: { ...good.tls, ca: pki.otherCa } }, 2000);
    expect(probe.error).toBe(
      `${endpoint}: TLS handshake failed: certificate signed by unknown authority (check --cacert)`,
    );
    expect(probe.error).not.toContain('\n');
    const err = await rejection(
      new EtcdEndpointClient(endpoint, { tls: { ...good.tls, ca: pki.otherCa } }).status(2000),
    );
    expect(err.kind).toBe('tls');
  });

  it('no client certificate, or plain http to a TLS port, is named as such', async () => {
    const endpoint = cluster.endpoints[0]!;
    const noCert = await probeEndpoint(endpoint, { tls: { ca: pki.ca } }, 2000);
    expect(noCert.error).toBe(
      `${endpoint}: TLS handshake failed: server rejected our client certificate (check --cert/--key)`,
    );
    const plain = endpoint.replace('https://', 'http://');
    const wrongScheme = await probeEndpoint(plain, good, 2000);
    expect(wrongScheme.error).toContain(`${plain}: `);
    expect(wrongScheme.error).toContain('use https://');
  });

  it('a missing certificate file is a clear error naming the file', async () => {
    const missing = `${pki.dir}/nope/client.crt`;
    const opts = { tls: { ...good.tls, cert: missing } };
    expect(() => new EtcdEndpointClient(cluster.endpoints[0]!, opts)).toThrow(UserError);
    expect(() => validateConnectionOptions(opts)).toThrow(`cannot read TLS certificate file ${missing}: no such file`);
    const probe = await probeEndpoint(cluster.endpoints[0]!, opts, 2000);
    expect(probe.error).toContain(missing);
  });
});

function etcdctl(endpoint: string, args: string[], stdin?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      'etcdctl',
      [`--endpoints=${endpoint}`, ...args],
      { env: { ...process.env, ETCDCTL_API: '3' }, timeout: 15_000 },
      (err, stdout, stderr) =>
        err ? reject(new Error(`etcdctl ${args.join(' ')}: ${stderr || err.message}`)) : resolve(stdout),
    );
    if (stdin !== undefined) child.stdin?.end(stdin);
  });
}

describe('user/password auth', () => {
  let cluster: TestCluster;
  let endpoint: string;
  const password = 'lifeboat-s3cret';

  beforeAll(async () => {
    // Two members: losing one loses quorum, which is the case where Authenticate itself cannot succeed.
    cluster = await startTestCluster(2);
    endpoint = cluster.endpoints[0]!;
    await etcdctl(endpoint, ['user', 'add', 'root', '--interactive=false'], `${password}\n`);
    await etcdctl(endpoint, ['auth', 'enable']);
  });

  afterAll(async () => {
    await cluster?.destroy();
  });

  it('works with the right password, also after the server forgets the token', async () => {
    const c = new EtcdEndpointClient(endpoint, { user: 'root', password });
    try {
      await c.put('/auth/k', 'v');
      expect(await c.get('/auth/k')).toBe('v');
      const probe = await probeEndpoint(endpoint, { user: 'root', password }, 2000);
      expect(probe.error).toBeUndefined();
      expect(probe.linearizableRead).toBe(true);
      expect(probe.serializableRead).toBe(true);

      // Simple tokens live in the member's memory: a restart invalidates ours, and the client must re-authenticate.
      await cluster.stop('m1');
      cluster.start('m1');
      await waitFor('m1 back after restart', () => c.get('/auth/k', { deadlineMs: 1000 }), { timeoutMs: 20_000 });
      expect(await c.get('/auth/k')).toBe('v');
    } finally {
      c.close();
    }
  });

  it('a wrong password is an auth error, and so is no password at all', async () => {
    const wrong = new EtcdEndpointClient(endpoint, { user: 'root', password: 'wrong' });
    try {
      const err = await rejection(wrong.get('/auth/k'));
      expect(err.kind).toBe('auth');
      expect(err.message).toBe(
        `${endpoint}: etcdserver: authentication failed, invalid user ID or password (check --user/--password)`,
      );
    } finally {
      wrong.close();
    }
    const anonymous = new EtcdEndpointClient(endpoint, {});
    try {
      const err = await rejection(anonymous.get('/auth/k'));
      expect(err.kind).toBe('auth');
    } finally {
      anonymous.close();
    }
  });

  it('without quorum, status and members still answer although Authenticate cannot (3.4); 3.5 says why not', async () => {
    await cluster.kill('m2');
    const started = Date.now();
    const probe = await probeEndpoint(endpoint, { user: 'root', password }, 2000);
    expect(Date.now() - started).toBeLessThan(3000);
    if (!etcdVersionOnPath().startsWith('3.4.')) {
      // etcd 3.5+ refuses Status and MemberList without a token, and Authenticate needs quorum.
      expect(probe.error).toMatch(/Authenticate needs quorum.*client certificates reach a cluster without quorum/);
      expect(probe.error).toMatch(/user name is empty/);
      return;
    }
    expect(probe.error).toBeUndefined();
    expect(probe.status?.memberId).toMatch(/^\d+$/);
    expect(probe.members).toHaveLength(2);
    expect(probe.linearizableRead).toBe(false);
  });
});
