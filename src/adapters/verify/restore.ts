import { spawnSync } from 'node:child_process';
import type { RestoreTool } from '../../domain/recover/types.js';
import { runToEnd } from '../proc/run.js';
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

export interface InstalledTool {
  tool: RestoreTool['tool'];
  command: string;
  env: NodeJS.ProcessEnv;
}

/** The restore tool on this machine (the one home of that choice: verify, recover and drills all use it). */
export function restoreTool(): InstalledTool | undefined {
  const etcdutl = which('etcdutl');
  if (etcdutl) return { tool: 'etcdutl', command: etcdutl, env: {} };
  const etcdctl = which('etcdctl');
  if (etcdctl) return { tool: 'etcdctl', command: etcdctl, env: { ETCDCTL_API: '3' } };
  return undefined;
}

/** The tool and its version (decides --bump-revision), or undefined when neither is installed. */
export function restoreToolVersion(): RestoreTool | undefined {
  const found = restoreTool();
  if (!found) return undefined;
  const out = spawnSync(found.command, ['version'], {
    env: { ...process.env, ...found.env },
    encoding: 'utf8',
    timeout: 10_000,
  });
  return { tool: found.tool, version: /(\d+\.\d+\.\d+)/.exec(out.stdout ?? '')?.[1] ?? '0.0.0' };
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
export async function restoreSnapshot(file: string, target: RestoreTarget, signal?: AbortSignal): Promise<void> {
  await runTool('snapshot restore', restoreArgs(file, target), signal);
}

/** What a plaintext snapshot file holds, as etcd's own tool reads it (`snapshot status`). */
export async function snapshotStatus(file: string, signal?: AbortSignal): Promise<{ revision: number; keys: number }> {
  const text = await runTool('snapshot status', ['snapshot', 'status', file, '-w', 'json'], signal);
  try {
    const status = JSON.parse(text) as { revision: number; totalKey: number };
    return { revision: status.revision, keys: status.totalKey };
  } catch {
    throw new Error(`snapshot status printed no JSON for ${file}`);
  }
}

/** The restore tool with `args`; its stdout, or a rejection with the tool's own error line. */
async function runTool(what: string, args: string[], signal?: AbortSignal): Promise<string> {
  const tool = restoreTool();
  if (!tool) throw new Error(`neither etcdutl nor etcdctl is installed: cannot run ${what}`);
  const run = await runToEnd(tool.command, args, { env: tool.env, signal });
  signal?.throwIfAborted();
  if (run.error) throw new Error(`${tool.tool} ${what} failed: ${run.error}`);
  if (run.code === 0) return run.stdout;
  const lines = run.stderr.trim().split('\n');
  const line = lines.reverse().find((l) => /^Error:|error/i.test(l)) ?? lines[0] ?? `exit ${run.code}`;
  throw new Error(`${tool.tool} ${what} failed: ${line.replace(/^Error:\s*/, '').slice(0, 300)}`);
}
