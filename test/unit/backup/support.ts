import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { stringify } from 'yaml';
import { EtcdEndpointClient } from '../../../src/adapters/etcd/client.js';
import { spawnEtcd } from '../../../src/adapters/proc/etcd-process.js';
import { freePort } from '../../../src/adapters/proc/ports.js';
import { killProcess } from '../../../src/adapters/proc/process.js';
import { waitFor } from '../../../src/adapters/proc/wait.js';

/** Shared by the backup/verify integration tests (kept here so it sits with the backup tests it serves). */

export function writeConfig(
  dir: string,
  opts: { endpoints: string[]; to?: string[]; retention?: Record<string, number>; recipients?: string[] },
): string {
  const path = join(dir, 'lifeboat.yaml');
  const doc: Record<string, unknown> = { cluster: { name: 'test' }, etcd: { endpoints: opts.endpoints } };
  if (opts.to) {
    doc.backups = {
      to: opts.to,
      ...(opts.retention ? { retention: opts.retention } : {}),
      ...(opts.recipients ? { encryption: { recipients: opts.recipients } } : {}),
    };
  }
  writeFileSync(path, stringify(doc));
  return path;
}

/** The real `etcdctl snapshot restore` (API v3), as an operator would run it. */
export function etcdctlRestore(file: string, dataDir: string, peerUrl: string): { code: number; stderr: string } {
  const r = spawnSync(
    'etcdctl',
    [
      ...['snapshot', 'restore', file, `--data-dir=${dataDir}`, '--name=r'],
      `--initial-cluster=r=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
    ],
    { env: { ...process.env, ETCDCTL_API: '3' }, encoding: 'utf8' },
  );
  return { code: r.status ?? 1, stderr: r.stderr };
}

/** `etcdctl snapshot restore` into DIR/restored, then a single member on it; `stop` kills it. */
export async function restoreAndStart(file: string, dir: string) {
  const peerUrl = `http://127.0.0.1:${await freePort()}`;
  const dataDir = join(dir, 'restored');
  const restored = etcdctlRestore(file, dataDir, peerUrl);
  if (restored.code !== 0) throw new Error(`etcdctl snapshot restore failed: ${restored.stderr}`);
  const clientUrl = `http://127.0.0.1:${await freePort()}`;
  const pid = spawnEtcd(
    {
      name: 'r',
      dataDir,
      clientUrl,
      peerUrl,
      initialCluster: `r=${peerUrl}`,
      initialClusterState: 'new',
      initialClusterToken: 'restored',
      logFile: join(dir, 'restored.log'),
    },
    { detached: false },
  );
  const client = new EtcdEndpointClient(clientUrl);
  try {
    await waitFor('the restored member to lead', async () => (await client.status(1000)).leaderId !== '0', {
      timeoutMs: 30_000,
    });
  } catch (err) {
    client.close();
    await killProcess(pid);
    throw err;
  }
  return {
    client,
    async stop() {
      client.close();
      await killProcess(pid);
    },
  };
}

/** A fresh age identity made by the real age-keygen. */
export function ageKeygen(dir: string): { identityFile: string; recipient: string } {
  const identityFile = join(dir, 'age.key');
  execFileSync('age-keygen', ['-o', identityFile], { stdio: 'ignore' });
  const recipient = execFileSync('age-keygen', ['-y', identityFile], { encoding: 'utf8' }).trim();
  return { identityFile, recipient };
}

/** Every file under `dir` (relative paths, dotfiles included), sorted. */
export function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

export function modeOf(path: string): string {
  return (statSync(path).mode & 0o777).toString(8);
}
