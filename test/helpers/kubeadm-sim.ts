import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
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
import { join, resolve } from 'node:path';
import { waitFor } from '../../src/adapters/proc/wait.js';

/**
 * Three simulated kubeadm control-plane nodes on one machine, for running recovery runbooks against something that
 * behaves like kubeadm's stacked etcd:
 * - each node has its own network namespace (`ip netns`, a veth on a private bridge, node address 10.X.Y.11-13) and
 *   its own mount namespace (`unshare -m`), where /etc/kubernetes and /var/lib are the node's own folders, so etcd
 *   listens on the fixed ports 2379/2380/2381 and the scripts use the real paths;
 * - kubeadm's PKI made with openssl (etcd CA, server/peer/healthcheck-client certificates per node) and kubeadm's
 *   etcd.yaml (1.31-1.33, the image tag follows the etcd on PATH);
 * - a static-pod runner that behaves like the kubelet (kubeadm-sim/kubelet.mjs) and `crictl ps` answered from it;
 * - power cut (SIGKILL to the node's processes), boot (the runner starts again), lost disk, /var/lib/etcd on its own
 *   mount.
 * Needs root (namespaces, mounts); `simulatorUnavailable()` says why not when it cannot run.
 */

const HERE = resolve(import.meta.dirname, 'kubeadm-sim');

export interface SimNode {
  name: string;
  ip: string;
  /** The node's folders on the host: etc-kubernetes, var-lib (etcd, lifeboat), run. */
  root: string;
  peerUrl: string;
  clientUrl: string;
  /** Runs bash inside the node (its network and mount namespaces), with the simulator's crictl first on PATH. */
  sh(command: string, timeoutMs?: number): Promise<ShResult>;
  /** Starts a long-running bash command inside the node; its output goes to `log`. */
  spawn(command: string, log: string): ChildProcess;
  running(): boolean;
}

export interface ShResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface KubeadmSim {
  dir: string;
  nodes: SimNode[];
  node(name: string): SimNode;
  /** etcd's version (from `etcd --version` on PATH), e.g. "3.5.30". */
  etcdVersion: string;
  /** Power cut: every process of the node dies at once (kubelet and etcd). */
  powerCut(name: string): Promise<void>;
  /** Boot: the kubelet starts and runs whatever is in the manifests dir. */
  boot(name: string): void;
  /** The disk holding /var/lib/etcd is replaced by an empty one. Only while the node is down. */
  loseDisk(name: string): void;
  /** etcdctl with the node's healthcheck-client certificate, run on `via`. */
  etcdctl(via: string, args: string): Promise<ShResult>;
  /** Every file under /etc/kubernetes of every node, hashed: manifests and PKI must come back byte for byte. */
  fingerprint(): Map<string, string>;
  /** The last `lines` lines of a node's kubelet log and etcd log: what a failed test prints to say why. */
  logs(name: string, lines?: number): string;
  destroy(): Promise<void>;
}

/** Why the simulator cannot run here, or null when it can. */
export function simulatorUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'the kubeadm node simulator needs root (network and mount namespaces)';
  for (const tool of ['ip', 'unshare', 'nsenter', 'openssl', 'etcd', 'etcdctl']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `the kubeadm node simulator needs ${tool}`;
  }
  return null;
}

function run(cmd: string, args: string[], input?: string): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr || r.stdout}`);
  return r.stdout;
}

/** True when the command succeeded; otherwise throws its output, so a timed-out waitFor says why it kept failing. */
function succeeded(r: ShResult): true {
  if (r.code !== 0)
    throw new Error(`exit ${r.code}: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}`);
  return true;
}

export function etcdVersionOnPath(): string {
  const out = spawnSync('etcd', ['--version'], { encoding: 'utf8' }).stdout;
  return /etcd Version: (\S+)/.exec(out)?.[1] ?? 'unknown';
}

/**
 * kubeadm's etcd.yaml for one member, as kubeadm 1.31-1.33 writes it (init: one member, new; join: existing).
 * `clientUrl` replaces the node's https://IP:2379 (a test etcd on another address and port).
 */
export function kubeadmEtcdManifest(o: {
  name: string;
  ip: string;
  initialCluster: string;
  join: boolean;
  version: string;
  clientUrl?: string;
}): string {
  const clientUrl = o.clientUrl ?? `https://${o.ip}:2379`;
  const [major, minor, patch] = o.version.split('.').map(Number);
  // kubeadm probes /livez and /readyz on etcd versions that have them (3.5.11+), /health before.
  const modern = (major ?? 0) > 3 || (minor ?? 0) > 5 || ((minor ?? 0) === 5 && (patch ?? 0) >= 11);
  const live = modern ? '/livez' : '/health?exclude=NOSPACE&serializable=true';
  const ready = modern ? '/readyz' : '/health?serializable=false';
  const flags = [
    `--advertise-client-urls=${clientUrl}`,
    '--cert-file=/etc/kubernetes/pki/etcd/server.crt',
    '--client-cert-auth=true',
    '--data-dir=/var/lib/etcd',
    '--experimental-initial-corrupt-check=true',
    '--experimental-watch-progress-notify-interval=5s',
    `--initial-advertise-peer-urls=https://${o.ip}:2380`,
    `--initial-cluster=${o.initialCluster}`,
    ...(o.join ? ['--initial-cluster-state=existing'] : []),
    '--key-file=/etc/kubernetes/pki/etcd/server.key',
    `--listen-client-urls=https://127.0.0.1:2379,${clientUrl}`,
    '--listen-metrics-urls=http://127.0.0.1:2381',
    `--listen-peer-urls=https://${o.ip}:2380`,
    `--name=${o.name}`,
    '--peer-cert-file=/etc/kubernetes/pki/etcd/peer.crt',
    '--peer-client-cert-auth=true',
    '--peer-key-file=/etc/kubernetes/pki/etcd/peer.key',
    '--peer-trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt',
    '--snapshot-count=10000',
    '--trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt',
  ];
  const probe = (path: string, threshold: number) =>
    [
      `      failureThreshold: ${threshold}`,
      '      httpGet:',
      '        host: 127.0.0.1',
      `        path: ${path}`,
      '        port: 2381',
      '        scheme: HTTP',
      '      initialDelaySeconds: 10',
      '      periodSeconds: 10',
      '      timeoutSeconds: 15',
    ].join('\n');
  return `apiVersion: v1
kind: Pod
metadata:
  annotations:
    kubeadm.kubernetes.io/etcd.advertise-client-urls: ${clientUrl}
  creationTimestamp: null
  labels:
    component: etcd
    tier: control-plane
  name: etcd
  namespace: kube-system
spec:
  containers:
  - command:
    - etcd
${flags.map((f) => `    - ${f}`).join('\n')}
    image: registry.k8s.io/etcd:${o.version}-0
    imagePullPolicy: IfNotPresent
    livenessProbe:
${probe(live, 8)}
    name: etcd
    readinessProbe:
      failureThreshold: 3
      httpGet:
        host: 127.0.0.1
        path: ${ready}
        port: 2381
        scheme: HTTP
      periodSeconds: 1
      timeoutSeconds: 15
    resources:
      requests:
        cpu: 100m
        memory: 100Mi
    startupProbe:
${probe(ready, 24)}
    volumeMounts:
    - mountPath: /var/lib/etcd
      name: etcd-data
    - mountPath: /etc/kubernetes/pki/etcd
      name: etcd-certs
  hostNetwork: true
  priority: 2000001000
  priorityClassName: system-node-critical
  securityContext:
    seccompProfile:
      type: RuntimeDefault
  volumes:
  - hostPath:
      path: /etc/kubernetes/pki/etcd
      type: DirectoryOrCreate
    name: etcd-certs
  - hostPath:
      path: /var/lib/etcd
      type: DirectoryOrCreate
    name: etcd-data
status: {}
`;
}

/** kubeadm's etcd PKI: one CA, and per node server and peer certificates (node name, IP, localhost) and clients. */
function makePki(dir: string, nodes: Array<{ name: string; root: string; ip: string }>): void {
  const ca = join(dir, 'ca');
  mkdirSync(ca, { recursive: true });
  run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '3650',
    '-subj',
    '/CN=etcd-ca',
    '-keyout',
    join(ca, 'ca.key'),
    '-out',
    join(ca, 'ca.crt'),
    '-addext',
    'keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
  ]);
  for (const n of nodes) {
    const pki = join(n.root, 'etc-kubernetes', 'pki');
    const etcd = join(pki, 'etcd');
    mkdirSync(etcd, { recursive: true });
    writeFileSync(join(etcd, 'ca.crt'), readFileSync(join(ca, 'ca.crt')));
    writeFileSync(join(etcd, 'ca.key'), readFileSync(join(ca, 'ca.key')), { mode: 0o600 });
    const sans = `DNS:${n.name},DNS:localhost,IP:${n.ip},IP:127.0.0.1,IP:0:0:0:0:0:0:0:1`;
    const certs: Array<[string, string, string, string]> = [
      [etcd, 'server', `/CN=${n.name}`, `subjectAltName=${sans}\nextendedKeyUsage=serverAuth,clientAuth`],
      [etcd, 'peer', `/CN=${n.name}`, `subjectAltName=${sans}\nextendedKeyUsage=serverAuth,clientAuth`],
      [etcd, 'healthcheck-client', '/CN=kube-etcd-healthcheck-client', 'extendedKeyUsage=clientAuth'],
      [pki, 'apiserver-etcd-client', '/O=system:masters/CN=kube-apiserver-etcd-client', 'extendedKeyUsage=clientAuth'],
    ];
    for (const [where, base, subj, ext] of certs) {
      const key = join(where, `${base}.key`);
      const csr = join(dir, `${n.name}-${base}.csr`);
      const extFile = join(dir, `${n.name}-${base}.ext`);
      writeFileSync(extFile, `keyUsage=critical,digitalSignature,keyEncipherment\n${ext}\n`);
      run('openssl', ['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-subj', subj, '-keyout', key, '-out', csr]);
      run('openssl', [
        'x509',
        '-req',
        '-in',
        csr,
        '-CA',
        join(ca, 'ca.crt'),
        '-CAkey',
        join(ca, 'ca.key'),
        '-CAcreateserial',
        '-days',
        '365',
        '-extfile',
        extFile,
        '-out',
        join(where, `${base}.crt`),
      ]);
      spawnSync('chmod', ['600', key]);
    }
  }
}

export interface SimOptions {
  /** /var/lib/etcd on its own mount (a mount point: `mv /var/lib/etcd` fails with EBUSY). */
  ownMount?: boolean;
  /** Shrinks the kubelet's times (probes, back-off, grace) for tests; 1 = the kubelet's own. */
  kubeletScale?: number;
}

/** Builds the three nodes, `kubeadm init` on cp1, `kubeadm join --control-plane` on cp2 and cp3 (learner, promote). */
export async function startKubeadmSim(opts: SimOptions = {}): Promise<KubeadmSim> {
  const dir = mkdtempSync(join(tmpdir(), 'lifeboat-kubeadm-sim-'));
  const tag = randomBytes(3).toString('hex');
  const bridge = `lbk${tag}`;
  const subnet = `10.${200 + (Number.parseInt(tag.slice(0, 2), 16) % 50)}.${Number.parseInt(tag.slice(2, 4), 16)}`;
  const etcdVersion = etcdVersionOnPath();
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'crictl'), `#!/bin/sh\nexec ${process.execPath} ${join(HERE, 'crictl.mjs')} "$@"\n`, {
    mode: 0o755,
  });
  const env = {
    ...process.env,
    PATH: `${bin}:${process.env.PATH}`,
    KUBELET_SIM_STATE: '/var/lib/kubelet-sim',
    KUBELET_SIM_SCALE: String(opts.kubeletScale ?? 0.2),
  };
  // Mount points the node namespaces bind over; created on the host only if missing (left empty).
  for (const d of ['/etc/kubernetes']) mkdirSync(d, { recursive: true });
  run('ip', ['link', 'add', bridge, 'type', 'bridge']);
  run('ip', ['addr', 'add', `${subnet}.1/24`, 'dev', bridge]);
  run('ip', ['link', 'set', bridge, 'up']);
  const holders = new Map<string, ChildProcess>();
  const kubelets = new Map<string, ChildProcess>();
  const nodes: SimNode[] = [];
  const specs = [1, 2, 3].map((i) => ({
    name: `cp${i}`,
    ip: `${subnet}.1${i}`,
    root: join(dir, `cp${i}`),
    ns: `lbk${tag}cp${i}`,
  }));
  for (const s of specs) {
    for (const d of ['etc-kubernetes/manifests', 'var-lib/etcd', 'var-lib/lifeboat', 'var-lib/kubelet-sim', 'disk'])
      mkdirSync(join(s.root, d), { recursive: true });
    run('ip', ['netns', 'add', s.ns]);
    run('ip', [
      'link',
      'add',
      `${bridge}${s.name}`.slice(0, 15),
      'type',
      'veth',
      'peer',
      'name',
      'eth0',
      'netns',
      s.ns,
    ]);
    run('ip', ['link', 'set', `${bridge}${s.name}`.slice(0, 15), 'master', bridge, 'up']);
    run('ip', ['-n', s.ns, 'addr', 'add', `${s.ip}/24`, 'dev', 'eth0']);
    run('ip', ['-n', s.ns, 'link', 'set', 'eth0', 'up']);
    run('ip', ['-n', s.ns, 'link', 'set', 'lo', 'up']);
    const mounts = [
      `mount --bind ${s.root}/etc-kubernetes /etc/kubernetes`,
      `mount --bind ${s.root}/var-lib /var/lib`,
      ...(opts.ownMount ? [`mount --bind ${s.root}/disk /var/lib/etcd`] : []),
    ];
    const holder = spawn(
      'ip',
      [
        'netns',
        'exec',
        s.ns,
        'unshare',
        '-m',
        '--propagation',
        'private',
        'bash',
        '-c',
        `set -e; ${mounts.join('; ')}; echo ready; exec sleep infinity`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    await new Promise<void>((ok, fail) => {
      let err = '';
      holder.stderr!.on('data', (d) => (err += d));
      holder.stdout!.once('data', () => ok());
      holder.once('exit', (code) => fail(new Error(`node ${s.name} did not start (exit ${code}): ${err}`)));
    });
    holders.set(s.name, holder);
    const enter = (command: string) => ['-t', String(holder.pid), '-m', '-n', '--', 'bash', '-c', command];
    nodes.push({
      name: s.name,
      ip: s.ip,
      root: s.root,
      peerUrl: `https://${s.ip}:2380`,
      clientUrl: `https://${s.ip}:2379`,
      sh: (command, timeoutMs = 60_000) =>
        new Promise((ok) => {
          const child = spawn('nsenter', enter(command), { env, stdio: ['ignore', 'pipe', 'pipe'] });
          let stdout = '';
          let stderr = '';
          child.stdout.on('data', (d) => (stdout += d));
          child.stderr.on('data', (d) => (stderr += d));
          const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
          child.on('close', (code) => {
            clearTimeout(timer);
            ok({ code: code ?? 137, stdout, stderr });
          });
        }),
      spawn: (command, log) => {
        const child = spawn('nsenter', enter(`exec >>${log} 2>&1; ${command}`), {
          env,
          stdio: 'ignore',
          detached: true,
        });
        return child;
      },
      running: () => kubelets.has(s.name),
    });
  }
  const node = (name: string) => nodes.find((n) => n.name === name)!;
  const boot = (name: string) => {
    if (kubelets.has(name)) return;
    const n = node(name);
    const k = n.spawn(
      `exec ${process.execPath} ${join(HERE, 'kubelet.mjs')} /etc/kubernetes/manifests /var/lib/kubelet-sim`,
      join(n.root, 'kubelet.log'),
    );
    kubelets.set(name, k);
    k.on('exit', () => {
      if (kubelets.get(name) === k) kubelets.delete(name);
    });
  };
  const powerCut = async (name: string) => {
    const k = kubelets.get(name);
    if (!k?.pid) return;
    kubelets.delete(name);
    // The kubelet and its containers share one process group (nsenter started it detached): all die at once.
    try {
      process.kill(-k.pid, 'SIGKILL');
    } catch {}
    await waitFor(
      `${name}'s processes to die`,
      () => {
        try {
          process.kill(-k.pid!, 0);
          return false;
        } catch {
          return true;
        }
      },
      { timeoutMs: 10_000, intervalMs: 500 },
    );
    // The container runtime's state lives in /run (tmpfs): after a power cut `crictl ps` lists nothing.
    rmSync(join(node(name).root, 'var-lib', 'kubelet-sim', 'containers.json'), { force: true });
  };
  const tls =
    '--cacert=/etc/kubernetes/pki/etcd/ca.crt --cert=/etc/kubernetes/pki/etcd/healthcheck-client.crt --key=/etc/kubernetes/pki/etcd/healthcheck-client.key';
  const etcdctl = (via: string, args: string) =>
    node(via).sh(`ETCDCTL_API=3 etcdctl ${tls} --dial-timeout=3s --command-timeout=10s ${args}`);
  const sim: KubeadmSim = {
    dir,
    nodes,
    node,
    etcdVersion,
    powerCut,
    boot,
    loseDisk(name) {
      if (kubelets.has(name)) throw new Error(`${name} is running: power it off before replacing its disk`);
      const root = node(name).root;
      const disk = opts.ownMount ? join(root, 'disk') : join(root, 'var-lib', 'etcd');
      for (const e of readdirSync(disk)) rmSync(join(disk, e), { recursive: true, force: true });
    },
    etcdctl,
    fingerprint() {
      const out = new Map<string, string>();
      const walk = (d: string, rel: string) => {
        for (const e of readdirSync(d, { withFileTypes: true })) {
          const p = join(d, e.name);
          if (e.isDirectory()) walk(p, `${rel}/${e.name}`);
          else out.set(`${rel}/${e.name}`, createHash('sha256').update(readFileSync(p)).digest('hex'));
        }
      };
      for (const n of nodes) {
        walk(join(n.root, 'etc-kubernetes', 'pki'), `${n.name}/pki`);
        walk(join(n.root, 'etc-kubernetes', 'manifests'), `${n.name}/manifests`);
      }
      return out;
    },
    logs(name, lines = 30) {
      const root = node(name).root;
      const tail = (file: string) => {
        try {
          return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
        } catch {
          return '(none)';
        }
      };
      return [
        `--- ${name} kubelet log`,
        tail(join(root, 'kubelet.log')),
        `--- ${name} etcd log`,
        tail(join(root, 'var-lib', 'kubelet-sim', 'etcd.log')),
      ].join('\n');
    },
    async destroy() {
      if (process.env.KUBEADM_SIM_KEEP) {
        console.error(`kubeadm-sim: KUBEADM_SIM_KEEP is set: the nodes' folders stay in ${dir}`);
      }
      for (const n of nodes) await powerCut(n.name);
      for (const h of holders.values()) h.kill('SIGKILL');
      for (const s of specs) spawnSync('ip', ['netns', 'del', s.ns]);
      spawnSync('ip', ['link', 'del', bridge]);
      if (!process.env.KUBEADM_SIM_KEEP) rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    makePki(dir, specs);
    // kubeadm init on cp1, then kubeadm join --control-plane on cp2 and cp3: learner first, promoted once in sync.
    const [first, ...rest] = specs;
    let initialCluster = `${first!.name}=https://${first!.ip}:2380`;
    writeFileSync(
      join(first!.root, 'etc-kubernetes/manifests/etcd.yaml'),
      kubeadmEtcdManifest({ ...first!, initialCluster, join: false, version: etcdVersion }),
    );
    boot(first!.name);
    await waitFor('cp1 to be healthy', async () => succeeded(await etcdctl('cp1', 'endpoint health')), {
      timeoutMs: 60_000,
      intervalMs: 500,
    });
    for (const s of rest) {
      let added = '';
      await waitFor(
        `member add ${s.name}`,
        async () => {
          const r = await etcdctl('cp1', `member add ${s.name} --learner --peer-urls=https://${s.ip}:2380`);
          added = r.stdout;
          return succeeded(r);
        },
        { timeoutMs: 60_000, intervalMs: 500 },
      );
      initialCluster =
        /ETCD_INITIAL_CLUSTER="([^"]+)"/.exec(added)?.[1] ?? `${initialCluster},${s.name}=https://${s.ip}:2380`;
      // etcdctl prints the id as %16x: an id with a leading zero nibble is padded with a space.
      const id = /Member\s+([0-9a-f]+) added/.exec(added)?.[1];
      writeFileSync(
        join(s.root, 'etc-kubernetes/manifests/etcd.yaml'),
        kubeadmEtcdManifest({ ...s, initialCluster, join: true, version: etcdVersion }),
      );
      boot(s.name);
      await waitFor(`${s.name} to be promoted`, async () => succeeded(await etcdctl('cp1', `member promote ${id}`)), {
        timeoutMs: 90_000,
        intervalMs: 500,
      });
    }
    await waitFor(
      'all three members healthy',
      async () => succeeded(await etcdctl('cp1', `endpoint health --cluster`)),
      { timeoutMs: 60_000, intervalMs: 500 },
    );
  } catch (err) {
    await sim.destroy();
    throw err;
  }
  return sim;
}

export function hasFile(path: string): boolean {
  return existsSync(path) && statSync(path).isFile();
}
