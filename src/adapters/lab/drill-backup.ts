import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { errorMessage } from '../../errors.js';
import { lifeboatCommand } from '../../package-root.js';
import { EtcdEndpointClient } from '../etcd/client.js';
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

function cli(args: string[], timeoutMs: number): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const self = lifeboatCommand();
    const child = spawn(self.command, [...self.args, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString('utf8')).slice(-4096)));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (err) => resolve({ code: 1, stdout, stderr: errorMessage(err) }));
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout, stderr });
    });
  });
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
