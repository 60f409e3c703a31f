import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { get } from 'node:http';
import type { Observation } from '../../domain/backup/verify.js';
import { errorMessage } from '../../errors.js';
import { spawnEtcd } from '../proc/etcd-process.js';
import { freePort } from '../proc/ports.js';
import { isAlive } from '../proc/process.js';
import { delay } from '../proc/wait.js';
import { KeyspaceReader } from '../snapshot/keyspace.js';
import { restoreSnapshot } from './restore.js';
import type { Scratch } from './scratch.js';

/**
 * The restore drill proper: etcd's own `snapshot restore` into the scratch directory, a throwaway single-member etcd
 * on free loopback ports, and the questions whose answers must match the manifest. The member is stopped by the
 * caller's Scratch (deadline, then SIGKILL), whatever happens here.
 */

export interface DrillOptions {
  /** Ask the key count and HashKV at this revision (the manifest's); the current revision otherwise. */
  atRevision?: number;
  signal?: AbortSignal;
  startTimeoutMs?: number;
  /** A snapshot of a cluster with auth enabled keeps its users: the drill must log in like any client. */
  auth?: { user: string; password?: string };
}

export interface DrillResult {
  observation: Observation;
  timings: { restoreMs: number; startMs: number; checkMs: number };
}

const NAME = 'lifeboat-verify';

export async function runDrill(file: string, scratch: Scratch, opts: DrillOptions = {}): Promise<DrillResult> {
  const clientUrl = `http://127.0.0.1:${await freePort()}`;
  // Built while the restore runs: the first client of a process loads the etcd proto (a synchronous parse of
  // ~0.1-0.3 s) and no connection is made until the first call, after the member is up.
  let reader = new KeyspaceReader(clientUrl, opts.auth ?? {});
  try {
    const member = await startRestoredMember(file, scratch, { ...opts, clientUrl });
    if (member.clientUrl !== clientUrl) {
      // Its port was taken before etcd bound it: the member came up on another one.
      reader.close();
      reader = new KeyspaceReader(member.clientUrl, opts.auth ?? {});
    }
    const t2 = Date.now();
    const observation = await observe(reader, opts.atRevision);
    opts.signal?.throwIfAborted(); // interrupted while asking: report the interruption, not a result
    return { observation, timings: { restoreMs: member.restoreMs, startMs: member.startMs, checkMs: Date.now() - t2 } };
  } finally {
    reader.close();
  }
}

/**
 * etcd's own `snapshot restore` of `file` into the scratch directory, then a throwaway single-member etcd on it, on
 * free loopback ports, leading and serving when this returns. The caller's Scratch stops it.
 * A free port can be taken by another process between our probe and etcd's bind (parallel drills, tests): then the
 * restore is redone on fresh ports (the peer URL is written into the data dir), at most PORT_ATTEMPTS times.
 */
export async function startRestoredMember(
  file: string,
  scratch: Scratch,
  opts: { clientUrl?: string; signal?: AbortSignal; startTimeoutMs?: number; extraArgs?: string[] } = {},
): Promise<{ clientUrl: string; pid: number; restoreMs: number; startMs: number }> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(file, scratch, attempt, attempt === 1 ? opts.clientUrl : undefined, opts);
    } catch (err) {
      if (!(err instanceof PortTaken) || attempt >= PORT_ATTEMPTS) throw err;
    }
  }
}

const PORT_ATTEMPTS = 3;

class PortTaken extends Error {}

async function startOnce(
  file: string,
  scratch: Scratch,
  attempt: number,
  chosenClientUrl: string | undefined,
  opts: { signal?: AbortSignal; startTimeoutMs?: number; extraArgs?: string[] },
): Promise<{ clientUrl: string; pid: number; restoreMs: number; startMs: number }> {
  const t0 = Date.now();
  const peerUrl = `http://127.0.0.1:${await freePort()}`;
  const clientUrl = chosenClientUrl ?? `http://127.0.0.1:${await freePort()}`;
  const token = `${NAME}-${randomBytes(4).toString('hex')}`;
  const dataDir = scratch.path(attempt === 1 ? 'data' : `data-${attempt}`);
  await restoreSnapshot(file, { dataDir, name: NAME, peerUrl, token }, opts.signal);
  const t1 = Date.now();
  const logFile = scratch.path(attempt === 1 ? 'etcd.log' : `etcd-${attempt}.log`);
  const pid = spawnEtcd(
    {
      name: NAME,
      dataDir,
      clientUrl,
      peerUrl,
      initialCluster: `${NAME}=${peerUrl}`,
      initialClusterState: 'new',
      initialClusterToken: token,
      logFile,
      // One member: no peer to wait for, so a short election timeout only makes it lead sooner.
      extraArgs: ['--heartbeat-interval=10', '--election-timeout=100', ...(opts.extraArgs ?? [])],
    },
    { detached: false },
  );
  scratch.track(pid);
  await waitUntilLeading(clientUrl, pid, logFile, opts.startTimeoutMs ?? 120_000, opts.signal);
  return { clientUrl, pid, restoreMs: t1 - t0, startMs: Date.now() - t1 };
}

/**
 * Polls etcd's /health (plain HTTP, a fresh connection each time) rather than gRPC: a gRPC channel that was refused
 * while etcd was still starting waits out its reconnect backoff, which would add up to a second to every drill.
 * /health answers true once the member has a leader and serves reads.
 */
async function waitUntilLeading(
  clientUrl: string,
  pid: number,
  logFile: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    signal?.throwIfAborted();
    if (!isAlive(pid)) {
      const why = lastLogError(logFile);
      throw /address already in use/.test(why)
        ? new PortTaken(`the restored etcd exited at start: ${why}`)
        : new Error(`the restored etcd exited at start: ${why}`);
    }
    if (await healthy(clientUrl)) return;
    if (Date.now() > deadline) throw new Error(`the restored etcd did not start serving within ${timeoutMs} ms`);
    await delay(20);
  }
}

/** GET /health with node:http (fetch would load undici: ~25 MB of RSS for one tiny request). */
function healthy(clientUrl: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = get(`${clientUrl}/health`, { timeout: 1000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        body += d;
      });
      res.on('end', () => resolve(/"health"\s*:\s*"true"/.test(body)));
      res.on('error', () => resolve(false));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

async function observe(reader: KeyspaceReader, atRevision: number | undefined): Promise<Observation> {
  const point = await reader.point(30_000).catch((err: unknown) => {
    const text = errorMessage(err);
    if (!/user name is empty|permission denied|auth/i.test(text)) throw err;
    throw new Error(
      `the restored copy has etcd auth enabled and refused the drill (${text}); pass --user NAME with ETCDCTL_PASSWORD`,
    );
  });
  const observation: Observation = { revision: point.revision, keys: null, hashKV: null };
  const [keys, hash] = await Promise.allSettled([
    atRevision === undefined ? Promise.resolve(point.keys) : reader.countAt(atRevision, 60_000),
    reader.hashKV(atRevision ?? point.revision),
  ]);
  if (keys.status === 'fulfilled') observation.keys = keys.value;
  else observation.keysError = errorMessage(keys.reason);
  if (hash.status === 'fulfilled') observation.hashKV = hash.value.hash;
  else observation.hashKVError = errorMessage(hash.reason);
  return observation;
}

/** The most telling line of etcd's log: its last error, else its last line. */
function lastLogError(logFile: string): string {
  try {
    const lines = readFileSync(logFile, 'utf8').trim().split('\n');
    const line = [...lines].reverse().find((l) => /"level":"(fatal|panic|error)"/.test(l)) ?? lines.at(-1) ?? '';
    const msg = /"msg":"([^"]*)"/.exec(line)?.[1];
    const err = /"error":"([^"]*)"/.exec(line)?.[1];
    return [msg, err].filter(Boolean).join(': ') || line.slice(0, 300);
  } catch {
    return 'no log';
  }
}
