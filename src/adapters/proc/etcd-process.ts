import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';

export interface EtcdTlsFiles {
  certFile: string;
  keyFile: string;
  trustedCaFile: string;
}

/** Everything needed to start one etcd member process. */
export interface EtcdMemberSpec {
  name: string;
  dataDir: string;
  clientUrl: string;
  peerUrl: string;
  /** `name=peerUrl,...` of every member the new member should know. */
  initialCluster: string;
  initialClusterState: 'new' | 'existing';
  initialClusterToken: string;
  logFile: string;
  /** Client-side TLS: the member serves https on clientUrl and requires client certificates. */
  clientTls?: EtcdTlsFiles;
  extraArgs?: string[];
  binary?: string;
}

export function etcdArgs(spec: EtcdMemberSpec): string[] {
  const args = [
    `--name=${spec.name}`,
    `--data-dir=${spec.dataDir}`,
    `--listen-client-urls=${spec.clientUrl}`,
    `--advertise-client-urls=${spec.clientUrl}`,
    `--listen-peer-urls=${spec.peerUrl}`,
    `--initial-advertise-peer-urls=${spec.peerUrl}`,
    `--initial-cluster=${spec.initialCluster}`,
    `--initial-cluster-state=${spec.initialClusterState}`,
    `--initial-cluster-token=${spec.initialClusterToken}`,
    // Small-cluster practice settings: fast elections so drills do not wait on defaults meant for WANs.
    '--heartbeat-interval=100',
    '--election-timeout=1000',
    '--logger=zap',
    '--log-outputs=stderr',
  ];
  if (spec.clientTls) {
    args.push(
      `--cert-file=${spec.clientTls.certFile}`,
      `--key-file=${spec.clientTls.keyFile}`,
      `--trusted-ca-file=${spec.clientTls.trustedCaFile}`,
      '--client-cert-auth=true',
    );
  }
  return [...args, ...(spec.extraArgs ?? [])];
}

/**
 * Start an etcd member. `detached` processes outlive the CLI (the lab); output goes to spec.logFile either way.
 * Returns the pid; the caller waits for health with its own probe and deadline.
 */
export function spawnEtcd(spec: EtcdMemberSpec, opts: { detached: boolean }): number {
  mkdirSync(dirname(spec.logFile), { recursive: true });
  const log = openSync(spec.logFile, 'a');
  try {
    const child = spawn(spec.binary ?? 'etcd', etcdArgs(spec), {
      detached: opts.detached,
      stdio: ['ignore', log, log],
      env: { ...process.env, ETCD_UNSUPPORTED_ARCH: process.env.ETCD_UNSUPPORTED_ARCH ?? '' },
    });
    // A missing binary is reported by an async 'error' event; without a listener it would crash the process.
    child.once('error', () => {});
    if (child.pid === undefined) throw new Error(`could not start etcd for member ${spec.name}: is etcd installed?`);
    if (opts.detached) child.unref();
    return child.pid;
  } finally {
    closeSync(log);
  }
}

/** `etcd --version` of the etcd that spawnEtcd starts ("3.5.30"), or undefined when it does not answer. */
export function etcdServerVersion(binary = 'etcd'): string | undefined {
  const out = spawnSync(binary, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  return /etcd Version:\s*(\d+\.\d+\.\d+)/.exec(out.stdout ?? '')?.[1];
}
