import { setTimeout as sleep } from 'node:timers/promises';
import type { EtcdConnectionOptions } from '../../adapters/etcd/connection.js';
import { WatchCompactedError, watchKeyspace } from '../../adapters/etcd/watch-stream.js';
import { BrokenLogError, listChains, writeChainManifest } from '../../adapters/etcdlog/store.js';
import { LogWriter } from '../../adapters/etcdlog/writer.js';
import { KeyspaceReader } from '../../adapters/snapshot/keyspace.js';
import type { ByteTransform } from '../../adapters/snapshot/stream.js';
import type { BackupStore } from '../../adapters/store/types.js';
import type { BackupManifest } from '../../domain/backup/manifest.js';
import type { ChainManifest, ChainReason } from '../../domain/etcdlog/chain.js';
import { followLag, type LogPolicy } from '../../domain/etcdlog/replay.js';
import { errorMessage } from '../../errors.js';

/**
 * `backup etcd --follow`: a verified full snapshot, then every revision after it into the change log (ADR 010),
 * until stopped. The watch runs against one member at a time; when it breaks (member restart, leader loss, network)
 * the follower moves to the next member and resumes from the revision after the last one it holds. When etcd has
 * compacted that revision away, the gap is reported and a new chain starts from a fresh snapshot: never a silent
 * hole. A restarted follower continues the newest chain of its cluster from that chain's last durable revision.
 */

export type FollowEventKind = 'chain-started' | 'chain-resumed' | 'gap' | 'watch-lost' | 'watch-resumed' | 'sealed';

export interface FollowEvent {
  kind: FollowEventKind;
  at: number;
  chain: string;
  message: string;
  /** For a gap: revisions lost from..to (to = the compaction). */
  lost?: { from: number; to: number };
}

export interface FollowStatus {
  chain: string | undefined;
  endpoint: string | undefined;
  durableRevision: number;
  durableAt: number;
  /** The newest revision the watched member reported. */
  clusterRevision: number;
  lagRevisions: number;
  lagSeconds: number;
  gaps: number;
  chainsStarted: number;
}

export interface FollowRequest {
  endpoints: string[];
  connection: EtcdConnectionOptions;
  store: BackupStore;
  clusterId?: string;
  policy: LogPolicy;
  encryption?: { encrypt: ByteTransform };
  decrypt?: ByteTransform;
  /** A verified full snapshot (the same backup `backup etcd` takes). */
  snapshot: () => Promise<BackupManifest>;
  onEvent?: (e: FollowEvent) => void;
  signal: AbortSignal;
  now?: () => number;
  /** Silence on the watch for this long ends it (progress requests keep a healthy one talking). */
  idleTimeoutMs?: number;
}

export class Follower {
  private writer: LogWriter | undefined;
  private endpointIndex = 0;
  private clusterRevision = 0;
  private gaps = 0;
  private chainsStarted = 0;
  private endpoint: string | undefined;
  private readonly now: () => number;

  constructor(private readonly req: FollowRequest) {
    this.now = req.now ?? Date.now;
  }

  status(): FollowStatus {
    const now = this.now();
    const durable = this.writer?.durable ?? { revision: 0, at: now };
    const lag = followLag(this.clusterRevision, durable, this.writer?.oldestPendingAt, now);
    return {
      chain: this.writer?.chain,
      endpoint: this.endpoint,
      durableRevision: durable.revision,
      durableAt: durable.at,
      clusterRevision: this.clusterRevision,
      lagRevisions: this.writer ? lag.revisions : 0,
      lagSeconds: this.writer ? lag.seconds : 0,
      gaps: this.gaps,
      chainsStarted: this.chainsStarted,
    };
  }

  private emit(kind: FollowEventKind, message: string, extra: Partial<FollowEvent> = {}): void {
    this.req.onEvent?.({ kind, at: this.now(), chain: this.writer?.chain ?? '', message, ...extra });
  }

  /** Runs until the signal aborts; the last revisions received are made durable before it returns. */
  async run(): Promise<void> {
    const { signal } = this.req;
    this.writer = await this.resumeOrStart();
    const ticker = this.startTicker();
    try {
      let failures = 0;
      while (!signal.aborted) {
        try {
          await this.watchOnce();
          failures = 0;
        } catch (err) {
          if (signal.aborted) break;
          if (err instanceof WatchCompactedError) {
            await ticker.flushNow();
            const lost = { from: this.writer.lastReceived + 1, to: err.compactRevision };
            this.gaps++;
            const message = `${err.message}: the log cannot continue chain ${this.writer.chain}; starting a new chain`;
            this.emit('gap', message, { lost });
            this.writer = await this.newChain('compacted', {
              previousChain: this.writer.chain,
              lastRevision: this.writer.lastReceived,
              lostFrom: lost.from,
              message: err.message,
            });
            continue;
          }
          failures++;
          this.emit('watch-lost', `watch on ${this.endpoint} broke: ${errorMessage(err)}; trying the next member`);
          this.endpointIndex = (this.endpointIndex + 1) % this.req.endpoints.length;
          // Every member tried once without luck: back off (bounded) before the next round.
          if (failures >= this.req.endpoints.length)
            await sleep(Math.min(5000, 250 * failures), undefined, { signal }).catch(() => {});
        }
      }
    } finally {
      await ticker.stop();
    }
  }

  private async watchOnce(): Promise<void> {
    const writer = this.writer!;
    const endpoint = this.req.endpoints[this.endpointIndex]!;
    this.endpoint = endpoint;
    const reader = new KeyspaceReader(endpoint, this.req.connection);
    let token: string | undefined;
    try {
      token = await reader.authToken();
    } finally {
      reader.close();
    }
    const from = writer.lastReceived + 1;
    let announced = false;
    for await (const batch of watchKeyspace(endpoint, this.req.connection, {
      startRevision: from,
      token,
      signal: this.req.signal,
      now: this.now,
      idleTimeoutMs: this.req.idleTimeoutMs,
    })) {
      if (!announced) {
        announced = true;
        this.emit('watch-resumed', `watching ${endpoint} from revision ${from}`);
      }
      this.clusterRevision = Math.max(this.clusterRevision, batch.headerRevision);
      writer.receive(batch.groups);
    }
  }

  /** Flushes every policy.durableEveryMs; a failed write is reported and retried on the next tick. */
  private startTicker() {
    let running: Promise<void> = Promise.resolve();
    const flush = () => {
      running = running.then(async () => {
        try {
          await this.writer?.flush(this.now());
        } catch (err) {
          this.emit('watch-lost', `cannot write the log: ${errorMessage(err)}; retrying`);
        }
      });
      return running;
    };
    const timer = setInterval(flush, this.req.policy.durableEveryMs);
    return {
      flushNow: flush,
      stop: async () => {
        clearInterval(timer);
        await flush();
      },
    };
  }

  private async resumeOrStart(): Promise<LogWriter> {
    const { chains } = await listChains(this.req.store);
    const mine = chains.filter((c) => !this.req.clusterId || c.manifest.clusterId === this.req.clusterId);
    const newest = mine.at(-1);
    if (newest) {
      try {
        const w = await LogWriter.resume(
          this.req.store,
          newest,
          this.req.policy,
          { encrypt: this.req.encryption?.encrypt, decrypt: this.req.decrypt },
          this.now(),
        );
        this.writer = w;
        this.emit('chain-resumed', `continuing chain ${w.chain} after revision ${w.lastReceived}`);
        return w;
      } catch (err) {
        if (!(err instanceof BrokenLogError)) throw err;
        this.gaps++;
        this.emit('gap', `chain ${newest.manifest.chain} cannot be continued (${err.message}); starting a new chain`);
        return this.newChain('broken', {
          previousChain: newest.manifest.chain,
          lastRevision: newest.layout.lastRevision,
          lostFrom: newest.layout.lastRevision + 1,
          message: err.message,
        });
      }
    }
    return this.newChain('started');
  }

  private async newChain(reason: ChainReason, gap?: ChainManifest['gap']): Promise<LogWriter> {
    const base = await this.req.snapshot();
    const chain = chainIdOf(base.name);
    const manifest: ChainManifest = {
      format: 1,
      chain,
      clusterId: base.clusterId,
      base: base.name,
      baseRevision: base.revision,
      createdAt: new Date(this.now()).toISOString(),
      reason,
      ...(gap ? { gap } : {}),
      encrypted: Boolean(this.req.encryption),
    };
    await writeChainManifest(this.req.store, manifest);
    this.chainsStarted++;
    const w = LogWriter.start(
      this.req.store,
      chain,
      base.revision,
      this.req.policy,
      this.req.encryption?.encrypt,
      this.now(),
    );
    this.writer = w;
    this.emit('chain-started', `chain ${chain} starts from snapshot ${base.name} (revision ${base.revision})`);
    return w;
  }
}

/** `etcd/2026-12-02T172400.123Z-home.db[.age]` -> `2026-12-02T172400.123Z-home`. */
export function chainIdOf(snapshotName: string): string {
  return snapshotName.replace(/^etcd\//, '').replace(/\.db(\.age)?$/, '');
}
