import { hostname } from 'node:os';
import { type EtcdConnectionOptions, EtcdEndpointClient, type HashKVResult } from '../../adapters/etcd/client.js';
import { rawSnapshot } from '../../adapters/etcd/snapshot-stream.js';
import { KeyspaceReader } from '../../adapters/snapshot/keyspace.js';
import { type ByteTransform, streamSnapshot } from '../../adapters/snapshot/stream.js';
import { StoreError } from '../../adapters/store/errors.js';
import type { BackupStore } from '../../adapters/store/types.js';
import { type BackupManifest, MANIFEST_FORMAT, renderManifest } from '../../domain/backup/manifest.js';
import { manifestNameFor, snapshotName } from '../../domain/backup/naming.js';
import { chooseSource, memberName } from '../../domain/backup/source.js';
import type { EndpointProbe } from '../../domain/probe.js';
import { errorMessage } from '../../errors.js';
import { VERSION } from '../../version.js';
import { probeWithDiscovery } from '../probe.js';
import { connectionOptions, type Settings } from '../settings.js';

/**
 * One backup: snapshot one member into the store, prove the bytes, write the manifest, commit.
 *
 * What a restore must show is fixed before the stream starts. One serializable count-only Range on the source member
 * gives the key count and the revision R it was counted at (same response, so they belong together); HashKV(R) on the
 * same member hashes exactly the revisions <= R. The snapshot starts after that on the same member (etcd commits its
 * backend before streaming), so it holds every revision <= R, maybe a few more written meanwhile. A restore drill
 * asks the restored copy for the count at R and HashKV(R), and both must be equal: writes after R do not disturb the
 * comparison. One thing can: a compaction between HashKV and the snapshot (HashKV covers uncompacted history). After
 * the stream a count at (compact revision + 1) fails exactly when a compaction ran meanwhile; then the hash is not
 * recorded (hashKV: null, with a note) rather than recorded wrong.
 */

export interface BackupRequest {
  endpoint: string;
  memberName: string;
  connection: EtcdConnectionOptions;
  store: BackupStore;
  clusterName?: string;
  encryption?: { recipients: string[]; encrypt: ByteTransform };
  onProgress?: (bytes: number, total: number) => void;
  signal?: AbortSignal;
  /** No chunk for this long: the member is frozen or gone. */
  idleTimeoutMs?: number;
  now?: () => number;
}

/** A snapshot that arrived but did not check out: nothing was committed. */
export class SnapshotRejectedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SnapshotRejectedError';
  }
}

/**
 * Back up the cluster the probes describe: pick the source member (domain/backup/source.ts), then backupEtcd.
 * `onSource` hears which member streams (for a progress label) and any warning about the choice.
 */
export async function backupFromProbes(
  probes: EndpointProbe[],
  req: Omit<BackupRequest, 'endpoint' | 'memberName'>,
  onSource?: (source: { endpoint: string; memberName: string; warnings: string[] }) => void,
): Promise<BackupManifest> {
  const choice = chooseSource(probes);
  if ('error' in choice) throw new Error(`cannot back up: ${choice.error}`);
  const name = memberName(probes, choice.memberId);
  onSource?.({ endpoint: choice.endpoint, memberName: name, warnings: choice.warnings });
  return backupEtcd({ ...req, endpoint: choice.endpoint, memberName: name });
}

/**
 * `lifeboat backup etcd`, once: find every member (probing with discovery), pick the source, stream. The CLI, its
 * `--every` loop and serve's etcd job all come through here.
 */
export async function backupCluster(
  settings: Settings,
  req: Omit<BackupRequest, 'endpoint' | 'memberName' | 'connection' | 'clusterName'>,
  onSource?: (source: { endpoint: string; memberName: string; warnings: string[] }) => void,
): Promise<BackupManifest> {
  const target = settings.etcdTarget();
  const request = {
    ...req,
    connection: connectionOptions(target),
    clusterName: settings.config()?.config.cluster?.name,
  };
  return backupFromProbes(await probeWithDiscovery(target, PROBE_DEADLINE_MS), request, onSource);
}

/** Per-endpoint deadline of the probe that picks the source member. */
const PROBE_DEADLINE_MS = 3000;

export async function backupEtcd(req: BackupRequest): Promise<BackupManifest> {
  const now = req.now ?? Date.now;
  const started = now();
  const client = new EtcdEndpointClient(req.endpoint, req.connection);
  const reader = new KeyspaceReader(req.endpoint, req.connection);
  try {
    const [status, point, token] = await Promise.all([client.status(10_000), reader.point(), reader.authToken()]);
    // HashKV makes the member hash its whole keyspace: let it run while the snapshot streams instead of before it.
    // Both describe revision R, whenever they run; stillValid() below catches a compaction past R meanwhile.
    const beforePromise = hashAt(client, point.revision);
    const { name, createdAt } = await claimName(req.store, now(), req.clusterName, Boolean(req.encryption));
    let pending: Awaited<ReturnType<BackupStore['create']>> | undefined;
    try {
      pending = await req.store.create(name, { expectedSize: status.dbSize });
      const chunks = rawSnapshot(req.endpoint, req.connection, { token, idleTimeoutMs: req.idleTimeoutMs });
      const streamed = await streamSnapshot(chunks, pending.stream, {
        encrypt: req.encryption?.encrypt,
        onProgress: req.onProgress,
        signal: req.signal,
      });
      const problem = streamed.check.problem;
      if (problem) {
        const early = problem.code === 'truncated' ? 'snapshot stream ended early (member killed?): ' : '';
        throw new SnapshotRejectedError(`${early}${problem.message}; nothing was stored`);
      }
      const hashKV = await beforePromise.then((before) => stillValid(reader, before, point.revision));
      const manifest: BackupManifest = {
        format: MANIFEST_FORMAT,
        name,
        location: req.store.locate(name),
        ...(req.clusterName ? { clusterName: req.clusterName } : {}),
        clusterId: point.clusterId,
        memberId: point.memberId,
        memberName: req.memberName,
        endpoint: req.endpoint,
        revision: point.revision,
        raftIndex: status.raftAppliedIndex ?? status.raftIndex,
        raftTerm: status.raftTerm,
        etcdVersion: status.version,
        size: streamed.stored.size,
        sha256: streamed.stored.sha256,
        plaintextSize: streamed.check.size,
        plaintextSha256: streamed.check.sha256,
        hashKV: hashKV.record,
        ...(hashKV.note ? { hashKVNote: hashKV.note } : {}),
        keys: point.keys,
        createdAt: new Date(createdAt).toISOString(),
        seconds: Math.round(now() - started) / 1000,
        toolVersion: VERSION,
        encrypted: Boolean(req.encryption),
        ...(req.encryption ? { recipients: req.encryption.recipients } : {}),
        verified: null,
      };
      // Manifest first (replacing the claim), then the snapshot under its name: a crash (or a full disk) in between
      // leaves a manifest without a snapshot, which nothing lists as a backup (prune removes it), never a snapshot
      // listed "no manifest".
      await req.store.putSmall(manifestNameFor(name), renderManifest(manifest));
      await pending.commit();
      return manifest;
    } catch (err) {
      await beforePromise; // never rejects; do not leave the call running behind a closed client
      await pending?.abort(err instanceof Error ? err : new Error(String(err)));
      await req.store.delete(manifestNameFor(name)).catch(() => undefined); // the claim (or the manifest) goes too
      throw err;
    }
  } finally {
    client.close();
    reader.close();
  }
}

/** Names tried before giving up: each try is the next millisecond. */
const NAME_CLAIM_TRIES = 20;

/**
 * Claims a snapshot name in the store before anything streams, by creating its manifest exclusively (a placeholder the
 * real manifest replaces). Two backups of one cluster started in the same millisecond (two timers, an agent per node)
 * would otherwise share a name and could pair one's manifest with the other's snapshot. A claim left by a killed run
 * is an orphan manifest: nothing lists it, and prune removes it after an hour.
 */
async function claimName(
  store: BackupStore,
  at: number,
  clusterName: string | undefined,
  encrypted: boolean,
): Promise<{ name: string; createdAt: number }> {
  for (let createdAt = at; createdAt < at + NAME_CLAIM_TRIES; createdAt++) {
    const name = snapshotName(createdAt, clusterName, encrypted);
    const claim = { claim: 'a backup is being written under this name', name, by: `${hostname()}.${process.pid}` };
    try {
      await store.putSmall(manifestNameFor(name), `${JSON.stringify(claim)}\n`, { exclusive: true });
      return { name, createdAt };
    } catch (err) {
      if (!(err instanceof StoreError) || err.code !== 'EEXIST') throw err;
    }
  }
  throw new Error(
    `${store.location}: ${NAME_CLAIM_TRIES} backups started in the same instant; this one stored nothing`,
  );
}

type HashAttempt = { result: HashKVResult } | { error: string };

async function hashAt(client: EtcdEndpointClient, revision: number): Promise<HashAttempt> {
  try {
    return { result: await client.hashKV(revision, 120_000) };
  } catch (err) {
    return { error: errorMessage(err) };
  }
}

async function stillValid(
  reader: KeyspaceReader,
  before: HashAttempt,
  revision: number,
): Promise<{ record: BackupManifest['hashKV']; note?: string }> {
  if ('error' in before) return { record: null, note: `HashKV failed on the source member: ${before.error}` };
  const { hash, compactRevision } = before.result;
  try {
    await reader.countAt(Math.max(compactRevision, 0) + 1);
  } catch (err) {
    return { record: null, note: `a compaction ran during the backup; HashKV not recorded (${errorMessage(err)})` };
  }
  return { record: { hash, revision, compactRevision } };
}
