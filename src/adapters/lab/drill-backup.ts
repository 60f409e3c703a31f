import { createWriteStream, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { lifeboatCommand } from '../../package-root.js';
import { EtcdEndpointClient } from '../etcd/client.js';
import { runToEnd } from '../proc/run.js';
import { snapshotStatus } from '../verify/restore.js';

/**
 * The drill's verified backup, taken the way a user would: `lifeboat backup etcd` then `lifeboat verify --latest`
 * (the real commands, as child processes). If those fail, the drill still needs a snapshot: it streams one from a
 * member and has etcd's own `snapshot status` check it, and says so in the report.
 */

export interface DrillBackup {
  file: string;
  revision: number;
  verified: boolean;
  how: string;
  seconds: number;
  problem?: string;
}

async function cli(args: string[], timeoutMs: number): Promise<{ code: number; stdout: string; stderr: string }> {
  const self = lifeboatCommand();
  const run = await runToEnd(self.command, [...self.args, ...args], { timeoutMs, tailChars: 4096 });
  return { code: run.code ?? 1, stdout: run.stdout, stderr: run.error ?? run.stderr };
}

export async function takeDrillBackup(endpoint: string, dir: string): Promise<DrillBackup> {
  const started = Date.now();
  const store = join(dir, 'backups');
  mkdirSync(store, { recursive: true });
  let problem: string | undefined;
  const self = lifeboatCommand();
  if (existsSync(self.args[0] ?? self.command)) {
    const backup = await cli(['--endpoints', endpoint, '--json', 'backup', 'etcd', '--to', store], 300_000);
    if (backup.code === 0) {
      const doc = JSON.parse(backup.stdout) as { location: string; revision: number };
      const verify = await cli(['--json', 'verify', doc.location], 300_000);
      const verified = verify.code === 0 && (JSON.parse(verify.stdout) as { ok?: boolean }).ok === true;
      return {
        file: doc.location,
        revision: (await snapshotStatus(doc.location)).revision,
        verified,
        how: 'lifeboat backup etcd + lifeboat verify',
        seconds: (Date.now() - started) / 1000,
        ...(verified ? {} : { problem: `verify failed: ${lastLine(verify.stderr || verify.stdout)}` }),
      };
    }
    problem = `lifeboat backup etcd failed: ${lastLine(backup.stderr)}`;
  }
  const file = join(store, 'drill-snapshot.db');
  const client = new EtcdEndpointClient(endpoint);
  try {
    await pipeline(
      (async function* () {
        for await (const chunk of client.snapshot()) yield chunk.blob;
      })(),
      createWriteStream(file, { mode: 0o600 }),
    );
  } finally {
    client.close();
  }
  const info = await snapshotStatus(file);
  return {
    file,
    revision: info.revision,
    verified: true,
    how: 'snapshot stream + etcd snapshot status',
    seconds: (Date.now() - started) / 1000,
    ...(problem ? { problem } : {}),
  };
}

function lastLine(text: string): string {
  return text.trim().split('\n').at(-1)?.slice(0, 300) ?? '';
}
