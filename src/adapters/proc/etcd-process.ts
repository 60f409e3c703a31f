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

/** Among a process's arguments: it is a start still waiting for the member's previous process to exit. */
export const HANDOVER_MARK = 'lifeboat-handover';

/**
 * sh -c SCRIPT lifeboat-handover OLD_PID COPY_TO DATA_DIR etcd ARGS...: wait until OLD_PID is gone, copy DATA_DIR to
 * COPY_TO once (when given and not there yet), then exec etcd: the same pid becomes the member, without the mark. The
 * log marker it writes first keeps the old process's last lines out of the new run's (lastLogMessage).
 */
const HANDOVER_SCRIPT = `old=$1 copy=$2 data=$3
shift 3
while [ -n "$old" ] && kill -0 "$old" 2>/dev/null; do sleep 0.05; done
echo "--- lifeboat: the member's previous process has exited: starting etcd (pid $$)" >&2
if [ -n "$copy" ] && [ ! -e "$copy" ] && [ -e "$data" ]; then
  rm -rf "$copy.partial" && cp -a "$data" "$copy.partial" && mv "$copy.partial" "$copy" || {
    echo "lifeboat: could not copy $data to $copy: etcd not started" >&2
    exit 1
  }
fi
exec "$@"`;

export interface Handover {
  /** The member's process to outlive: etcd starts once it has exited (undefined: at once). */
  pid: number | undefined;
  /** Copy the data dir here first (a directory that does not exist yet; skipped when it does). */
  copyDataTo?: string;
}

/**
 * Start an etcd member. `detached` processes outlive the CLI (the lab); output goes to spec.logFile either way.
 * Returns the pid; the caller waits for health with its own probe and deadline.
 * `after`: a detached shell that waits for the member's previous process to exit, then becomes etcd (same pid). A
 * restart made of it and a stop cannot be cut in half by the death of the CLI: killed before it, the old process
 * runs on; after it, whoever stops the old process also starts the new one.
 */
export function spawnEtcd(spec: EtcdMemberSpec, opts: { detached: boolean; after?: Handover }): number {
  mkdirSync(dirname(spec.logFile), { recursive: true });
  const log = openSync(spec.logFile, 'a');
  const binary = spec.binary ?? 'etcd';
  const { after } = opts;
  const [command, args] = after
    ? [
        'sh',
        [
          '-c',
          HANDOVER_SCRIPT,
          HANDOVER_MARK,
          after.pid === undefined ? '' : String(after.pid),
          after.copyDataTo ?? '',
          spec.dataDir,
          binary,
          ...etcdArgs(spec),
        ],
      ]
    : [binary, etcdArgs(spec)];
  try {
    return spawnLogged(command, args, log, opts.detached, `etcd for member ${spec.name}`);
  } finally {
    closeSync(log);
  }
}

/**
 * Start again, detached, the command line of a member's process read before it was stopped (`argv`, as
 * processArgs gives it), its output appended to `logFile`: how a restart that failed puts the member back as it ran.
 */
export function respawnEtcd(argv: string[], logFile: string): number {
  const log = openSync(logFile, 'a');
  try {
    return spawnLogged(argv[0]!, argv.slice(1), log, true, `${argv[0]} again`);
  } finally {
    closeSync(log);
  }
}

function spawnLogged(command: string, args: string[], log: number, detached: boolean, what: string): number {
  const child = spawn(command, args, {
    detached,
    stdio: ['ignore', log, log],
    env: { ...process.env, ETCD_UNSUPPORTED_ARCH: process.env.ETCD_UNSUPPORTED_ARCH ?? '' },
  });
  // A missing binary is reported by an async 'error' event; without a listener it would crash the process.
  child.once('error', () => {});
  if (child.pid === undefined) throw new Error(`could not start ${what}: is etcd installed?`);
  if (detached) child.unref();
  return child.pid;
}

/** `etcd --version` of the etcd that spawnEtcd starts ("3.5.30"), or undefined when it does not answer. */
export function etcdServerVersion(binary = 'etcd'): string | undefined {
  const out = spawnSync(binary, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  return /etcd Version:\s*(\d+\.\d+\.\d+)/.exec(out.stdout ?? '')?.[1];
}
