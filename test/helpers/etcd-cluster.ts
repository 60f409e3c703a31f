import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type EtcdMemberSpec, type EtcdTlsFiles, spawnEtcd } from '../../src/adapters/proc/etcd-process.js';
import { freePort } from '../../src/adapters/proc/ports.js';
import { killProcess, signal, stopProcess } from '../../src/adapters/proc/process.js';
import { waitFor } from '../../src/adapters/proc/wait.js';

export interface TestMember {
  spec: EtcdMemberSpec;
  pid: number | undefined;
}

export interface TestCluster {
  dir: string;
  members: TestMember[];
  endpoints: string[];
  stop(name: string): Promise<void>;
  kill(name: string): Promise<void>;
  start(name: string): void;
  freeze(name: string): void;
  thaw(name: string): void;
  /** Stops every process this cluster started and removes its directory. */
  destroy(): Promise<void>;
}

/**
 * A real etcd cluster of `size` members on 127.0.0.1 free ports, for integration tests.
 * With `tls`, clients must present certificates (peers stay plain http: peer TLS is not what we test).
 */
export async function startTestCluster(size: number, opts: { tls?: EtcdTlsFiles } = {}): Promise<TestCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'lifeboat-test-etcd-'));
  const scheme = opts.tls ? 'https' : 'http';
  const members: TestMember[] = [];
  // One token for the whole cluster: members with different tokens form different clusters.
  const token = `test-${process.pid}-${Date.now()}`;
  for (let i = 0; i < size; i++) {
    const name = `m${i + 1}`;
    members.push({
      pid: undefined,
      spec: {
        name,
        dataDir: join(dir, name),
        clientUrl: `${scheme}://127.0.0.1:${await freePort()}`,
        peerUrl: `http://127.0.0.1:${await freePort()}`,
        initialCluster: '',
        initialClusterState: 'new',
        initialClusterToken: token,
        logFile: join(dir, `${name}.log`),
        clientTls: opts.tls,
      },
    });
  }
  const initialCluster = members.map((m) => `${m.spec.name}=${m.spec.peerUrl}`).join(',');
  for (const m of members) {
    m.spec.initialCluster = initialCluster;
    m.pid = spawnEtcd(m.spec, { detached: false });
  }
  const byName = (name: string) => {
    const m = members.find((x) => x.spec.name === name);
    if (!m) throw new Error(`no member ${name}`);
    return m;
  };
  const cluster: TestCluster = {
    dir,
    members,
    endpoints: members.map((m) => m.spec.clientUrl),
    async stop(name) {
      const m = byName(name);
      if (m.pid) await stopProcess(m.pid, 5000);
      m.pid = undefined;
    },
    async kill(name) {
      const m = byName(name);
      if (m.pid) await killProcess(m.pid);
      m.pid = undefined;
    },
    start(name) {
      const m = byName(name);
      m.pid = spawnEtcd({ ...m.spec, initialClusterState: 'existing' }, { detached: false });
    },
    freeze(name) {
      const m = byName(name);
      if (m.pid) signal(m.pid, 'SIGSTOP');
    },
    thaw(name) {
      const m = byName(name);
      if (m.pid) signal(m.pid, 'SIGCONT');
    },
    async destroy() {
      for (const m of members) {
        if (m.pid) {
          signal(m.pid, 'SIGCONT');
          await killProcess(m.pid);
        }
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  if (!opts.tls) {
    try {
      await waitFor(
        'every test etcd member to report healthy',
        async () => {
          const answers = await Promise.all(cluster.endpoints.map((e) => httpHealthy(e)));
          return answers.every(Boolean);
        },
        { timeoutMs: 30_000 },
      );
    } catch (err) {
      await cluster.destroy();
      throw err;
    }
  }
  return cluster;
}

/** etcd's /health answers {"health":"true"} once the member has a leader and can serve. */
export async function httpHealthy(endpoint: string): Promise<boolean> {
  try {
    const res = await fetch(`${endpoint}/health`, { signal: AbortSignal.timeout(1000) });
    const body = (await res.json()) as { health?: string };
    return body.health === 'true';
  } catch {
    return false;
  }
}
