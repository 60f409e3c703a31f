import { spawn } from 'node:child_process';
import { which } from '../proc/which.js';

/**
 * `snapshot restore` with the tool etcd itself ships: etcdutl (3.5+) when installed, else etcdctl (3.4, API v3).
 * Using etcd's own restore is the point of the drill: it is what a real recovery will run.
 */

export interface RestoreTarget {
  dataDir: string;
  name: string;
  peerUrl: string;
  token: string;
  /** `name=peerUrl,...` of every member restored together (recover); default: this member alone (a drill). */
  initialCluster?: string;
  /** etcd >= 3.5: bump revisions by this much and mark them compacted, so Kubernetes watchers resync. */
  bumpRevision?: number | null;
}

export function restoreTool(): { command: string; env: NodeJS.ProcessEnv } | undefined {
  const etcdutl = which('etcdutl');
  if (etcdutl) return { command: etcdutl, env: {} };
  const etcdctl = which('etcdctl');
  if (etcdctl) return { command: etcdctl, env: { ETCDCTL_API: '3' } };
  return undefined;
}

export function restoreArgs(file: string, t: RestoreTarget): string[] {
  return [
    'snapshot',
    'restore',
    file,
    `--data-dir=${t.dataDir}`,
    `--name=${t.name}`,
    `--initial-cluster=${t.initialCluster ?? `${t.name}=${t.peerUrl}`}`,
    `--initial-advertise-peer-urls=${t.peerUrl}`,
    `--initial-cluster-token=${t.token}`,
    ...(t.bumpRevision ? [`--bump-revision=${t.bumpRevision}`, '--mark-compacted'] : []),
  ];
}

/** Runs the restore; rejects with the tool's own error line ("Error: expected sha256 ...") when it fails. */
export function restoreSnapshot(file: string, target: RestoreTarget, signal?: AbortSignal): Promise<void> {
  const tool = restoreTool();
  if (!tool) return Promise.reject(new Error('neither etcdutl nor etcdctl is installed: cannot restore'));
  const name = tool.command.split('/').pop();
  return new Promise((resolve, reject) => {
    const child = spawn(tool.command, restoreArgs(file, target), {
      env: { ...process.env, ...tool.env },
      stdio: ['ignore', 'ignore', 'pipe'],
      signal,
      killSignal: 'SIGKILL',
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString('utf8')).slice(-8192);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) return resolve();
      const lines = stderr.trim().split('\n');
      const line = lines.reverse().find((l) => /^Error:|error/i.test(l)) ?? lines[0] ?? `exit ${code}`;
      reject(new Error(`${name} snapshot restore failed: ${line.replace(/^Error:\s*/, '').slice(0, 300)}`));
    });
  });
}
