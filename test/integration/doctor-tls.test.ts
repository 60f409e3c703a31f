import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../src/adapters/proc/wait.js';
import { json, runCli } from '../helpers/cli.js';
import { startTestCluster, type TestCluster } from '../helpers/etcd-cluster.js';
import { makeTestPki, type TestPki } from '../helpers/tls.js';

describe('doctor on a TLS cluster (client certificates required, as kubeadm sets up)', () => {
  let pki: TestPki;
  let cluster: TestCluster;
  let tlsFlags: string[];

  beforeAll(async () => {
    pki = makeTestPki();
    cluster = await startTestCluster(3, {
      tls: { certFile: pki.serverCert, keyFile: pki.serverKey, trustedCaFile: pki.ca },
    });
    tlsFlags = ['--endpoints', cluster.endpoints.join(','), '--cert', pki.clientCert, '--key', pki.clientKey];
    await waitFor(
      'the TLS cluster to be healthy',
      async () => (await runCli([...tlsFlags, '--cacert', pki.ca, 'doctor', '--json'])).code === 0,
      { timeoutMs: 30_000, intervalMs: 300 },
    );
  });
  afterAll(async () => {
    await cluster?.destroy();
    pki?.cleanup();
  });

  it('works with --cacert/--cert/--key', async () => {
    const result = await runCli([...tlsFlags, '--cacert', pki.ca, 'doctor', '--json']);
    expect(result.code).toBe(0);
    expect(json(result)).toMatchObject({ state: 'healthy', reachableVoting: 3, margin: 1 });
  });

  it('a wrong CA: one line per endpoint naming the TLS problem, unreachable, exit 3', async () => {
    const result = await runCli([...tlsFlags, '--cacert', pki.otherCa, 'doctor', '--json']);
    expect(result.code).toBe(3);
    const d = json<{ state: string; members: Array<{ endpoint: string; error: string }> }>(result);
    expect(d.state).toBe('unreachable');
    for (const m of d.members) {
      expect(m.error).not.toContain('\n');
      expect(m.error).toContain(m.endpoint);
      expect(m.error).toMatch(/TLS|certificate/i);
    }
    const human = await runCli([...tlsFlags, '--cacert', pki.otherCa, 'status']);
    expect(human.code).toBe(3);
    expect(human.stderr).not.toMatch(/\n\s+at /);
  });

  it('plain http against a TLS endpoint does not hang and says what failed', async () => {
    const plain = cluster.endpoints.map((e) => e.replace('https://', 'http://')).join(',');
    const result = await runCli(['--endpoints', plain, 'doctor', '--json', '--timeout', '1000']);
    expect(result.code).toBe(3);
    expect(result.ms).toBeLessThan(5000);
  });
});
