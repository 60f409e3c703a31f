import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { buildCatalog, type ListedObject, newestVerified } from '../../domain/backup/catalog.js';
import { parseManifest } from '../../domain/backup/manifest.js';
import { MANIFEST_SUFFIX, manifestNameFor, SNAPSHOT_PREFIX } from '../../domain/backup/naming.js';
import type { RestoreTool, SnapshotInfo } from '../../domain/recover/types.js';
import { errorMessage } from '../../errors.js';
import { restoreTool as findRestoreTool, type RestoreTarget, restoreArgs } from '../verify/restore.js';

/**
 * Snapshot files for the snapshot plan: what a file holds (etcd's own `snapshot status`), which tool restores it, the
 * newest verified backup in a local store, and a multi-member restore (etcdutl on 3.5+, etcdctl on 3.4).
 */

/** The restore tool on this machine and its version, or undefined when neither etcdutl nor etcdctl is installed. */
export function restoreTool(): (RestoreTool & { command: string; env: NodeJS.ProcessEnv }) | undefined {
  const found = findRestoreTool();
  if (!found) return undefined;
  const out = spawnSync(found.command, ['version'], { env: { ...process.env, ...found.env }, encoding: 'utf8' });
  const version = /(\d+\.\d+\.\d+)/.exec(out.stdout ?? '')?.[1] ?? '0.0.0';
  const tool = found.command.endsWith('etcdutl') ? 'etcdutl' : 'etcdctl';
  return { tool, version, command: found.command, env: found.env };
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString('utf8')).slice(-8192)));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) return resolve(out);
      const line =
        err
          .trim()
          .split('\n')
          .reverse()
          .find((l) => /error/i.test(l)) ?? err.trim().split('\n')[0];
      reject(new Error(`${command.split('/').pop()} ${args.slice(0, 2).join(' ')} failed: ${line ?? `exit ${code}`}`));
    });
  });
}

/** What the file holds, read by etcd's own tool (which also checks its integrity hash). */
export async function inspectSnapshot(file: string): Promise<SnapshotInfo> {
  const tool = restoreTool();
  if (!tool) throw new Error('neither etcdutl nor etcdctl is installed: cannot read a snapshot');
  if (!existsSync(file)) throw new Error(`no such file: ${file}`);
  const text = await run(tool.command, ['snapshot', 'status', file, '-w', 'json'], tool.env);
  const status = JSON.parse(text) as { revision: number; totalKey: number };
  const sidecar = `${file}${MANIFEST_SUFFIX}`;
  const manifest = existsSync(sidecar) ? parseManifest(readFileSync(sidecar, 'utf8')) : undefined;
  const m = manifest && 'manifest' in manifest ? manifest.manifest : undefined;
  return {
    file,
    revision: status.revision,
    createdAt: m?.createdAt ?? statSync(file).mtime.toISOString(),
    keys: status.totalKey,
    verified: m?.verified ? m.verified.ok : null,
    size: statSync(file).size,
  };
}

/**
 * The newest verified, unencrypted snapshot in the local directories of `backups.to` (an NFS mount is a directory).
 * Object stores are not searched here: download the snapshot and pass --snapshot FILE.
 */
export async function newestVerifiedLocal(targets: string[]): Promise<{ info?: SnapshotInfo; problem?: string }> {
  const locals = targets.filter((t) => !/^[a-z0-9]+:\/\//i.test(t));
  for (const dir of locals) {
    const folder = join(dir, SNAPSHOT_PREFIX);
    let names: string[];
    try {
      names = readdirSync(folder);
    } catch {
      continue;
    }
    const objects: ListedObject[] = names.map((n) => {
      const st = statSync(join(folder, n));
      return { name: `${SNAPSHOT_PREFIX}${n}`, size: st.size, modifiedAt: st.mtimeMs };
    });
    const catalog = buildCatalog(objects, (name) => {
      const path = join(dir, manifestNameFor(name));
      return existsSync(path) ? parseManifest(readFileSync(path, 'utf8')) : undefined;
    });
    const entry = newestVerified({ entries: catalog.entries.filter((e) => !e.encrypted), orphanManifests: [] });
    if (entry) {
      try {
        return { info: await inspectSnapshot(join(dir, entry.name)) };
      } catch (err) {
        return { problem: `the newest verified snapshot ${entry.name} cannot be read: ${errorMessage(err)}` };
      }
    }
  }
  if (locals.length === 0) return { problem: 'no local backup directory in backups.to; pass --snapshot FILE' };
  return { problem: `no verified unencrypted snapshot in ${locals.join(', ')}; pass --snapshot FILE` };
}

export async function restoreInto(file: string, target: RestoreTarget): Promise<void> {
  const tool = restoreTool();
  if (!tool) throw new Error('neither etcdutl nor etcdctl is installed: cannot restore');
  await run(tool.command, restoreArgs(file, target), tool.env);
}
