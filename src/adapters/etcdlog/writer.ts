import { pipeline } from 'node:stream/promises';
import { logObjectName } from '../../domain/etcdlog/chain.js';
import { type LogPolicy, sealDue } from '../../domain/etcdlog/replay.js';
import {
  assemblePieces,
  encodeGroups,
  GENESIS_HASH,
  type GroupSummary,
  joinSummaries,
  type RevisionGroup,
  summarize,
} from '../../domain/etcdlog/segment.js';
import type { ByteTransform } from '../snapshot/stream.js';
import type { BackupStore } from '../store/types.js';
import { readChain, type StoredChain, transformBytes } from './store.js';

/**
 * Writes one chain (ADR 010): revisions received are held in memory until the next durability tick, then written as
 * one chunk object; the open segment's chunks are joined into a sealed segment at the size/time bound and then
 * deleted. Only whole objects are ever written (atomic put, or a streamed object committed whole), so a kill leaves
 * the chain readable up to the last chunk written; the follower then resumes from the revision after it.
 *
 * Memory: the open segment's chunk bodies are held (exact size) for the seal, because an age-encrypting follower has
 * no identity to read its chunks back; the seal streams them to the store without joining them (issue 19: peak RSS
 * at the fastest load).
 */
export class LogWriter {
  /**
   * Revisions received since the last tick, already encoded (encodeGroups, one piece per watch response) with what
   * a header says of them: the decoded events die young instead of living until the tick (issue 19's memory bound).
   */
  private pending: Array<{ body: Buffer; summary: GroupSummary; observedAt: number }> = [];
  /** Bodies (as received: a piece per watch response) and summaries of the open segment's chunks, for the seal. */
  private openParts: Array<{ bodies: Buffer[]; summary: GroupSummary; name: string }> = [];
  private openBytes = 0;
  private openSince = 0;
  /** The hash the open segment's first chunk chained to: the sealed segment chains to it too. */
  private openPrev: string;
  private prev: string;
  private received: number;
  private durableRevision: number;
  private durableAt: number;

  private constructor(
    private readonly store: BackupStore,
    readonly chain: string,
    private readonly policy: LogPolicy,
    private readonly encrypt: ByteTransform | undefined,
    state: { prev: string; lastRevision: number; at: number },
  ) {
    this.prev = state.prev;
    this.openPrev = state.prev;
    this.received = state.lastRevision;
    this.durableRevision = state.lastRevision;
    this.durableAt = state.at;
  }

  /** A new, empty chain after `baseRevision`. */
  static start(
    store: BackupStore,
    chain: string,
    baseRevision: number,
    policy: LogPolicy,
    encrypt: ByteTransform | undefined,
    now: number,
  ): LogWriter {
    return new LogWriter(store, chain, policy, encrypt, { prev: GENESIS_HASH, lastRevision: baseRevision, at: now });
  }

  /**
   * Continues a chain after a restart: reads it (checking every link), keeps the open segment's chunks for the next
   * seal. Throws BrokenLogError when the chain does not check out: then a new chain must begin.
   */
  static async resume(
    store: BackupStore,
    stored: StoredChain,
    policy: LogPolicy,
    crypto: { encrypt?: ByteTransform; decrypt?: ByteTransform },
    now: number,
  ): Promise<LogWriter> {
    const w = new LogWriter(store, stored.manifest.chain, policy, crypto.encrypt, {
      prev: stored.layout.startHash ?? GENESIS_HASH,
      lastRevision: stored.layout.baseRevision,
      at: now,
    });
    const lastSealed = stored.layout.objects.filter((o) => o.kind === 'segment').at(-1);
    // Sealed segments before the last one need not be read to continue: their links were checked when written,
    // and verify/restore check them again. Reading from the last sealed segment keeps a restart cheap.
    const fromObject = lastSealed ? stored.layout.objects.indexOf(lastSealed) : 0;
    for await (const { object, decoded } of readChain(store, stored.layout, { decrypt: crypto.decrypt, fromObject })) {
      w.prev = decoded.hash;
      w.received = object.last;
      w.durableRevision = object.last;
      w.durableAt = object.modifiedAt;
      if (object.kind === 'segment') {
        w.openPrev = decoded.hash;
        continue;
      }
      const body = encodeGroups(decoded.groups);
      w.openParts.push({ bodies: [body], summary: summarize(decoded.groups), name: object.name });
      w.openBytes += body.length;
      if (w.openParts.length === 1) w.openSince = object.modifiedAt;
    }
    return w;
  }

  get lastReceived(): number {
    return this.received;
  }

  get durable(): { revision: number; at: number } {
    return { revision: this.durableRevision, at: this.durableAt };
  }

  /** When the oldest revision not yet durable arrived (undefined: everything received is durable). */
  get oldestPendingAt(): number | undefined {
    return this.pending[0]?.observedAt;
  }

  /** Takes revisions from the watch; throws when they do not follow on (that would be a silent gap). */
  receive(groups: RevisionGroup[]): void {
    const fresh: RevisionGroup[] = [];
    for (const g of groups) {
      if (g.revision <= this.received) continue; // a resumed watch may repeat what we already hold
      if (g.revision !== this.received + 1) {
        throw new Error(`the watch skipped from revision ${this.received} to ${g.revision}`);
      }
      fresh.push(g);
      this.received = g.revision;
    }
    if (fresh.length === 0) return;
    const body = encodeGroups(fresh);
    this.pending.push({ body, summary: summarize(fresh), observedAt: fresh[0]!.observedAt });
  }

  /** The durability tick: write what arrived since the last one as one chunk; seal when the bound is reached. */
  async flush(now: number): Promise<void> {
    if (this.pending.length > 0) {
      // Taken before the write: revisions arriving while it runs go to the next chunk.
      const taken = this.pending;
      this.pending = [];
      const summary = joinSummaries(taken.map((p) => p.summary));
      const bodies = taken.map((p) => p.body);
      const chunk = assemblePieces({ chain: this.chain, kind: 'chunk', prev: this.prev }, summary, bodies);
      const name = logObjectName(this.chain, 'chunk', summary.first, summary.last, Boolean(this.encrypt));
      try {
        await this.store.putSmall(name, await transformBytes(Buffer.concat(chunk.pieces, chunk.size), this.encrypt));
      } catch (err) {
        this.pending = [...taken, ...this.pending]; // not durable: they go out with the next tick
        throw err;
      }
      if (this.openParts.length === 0) {
        this.openSince = now;
        this.openPrev = this.prev;
      }
      this.openParts.push({ bodies, summary, name });
      for (const b of bodies) this.openBytes += b.length;
      this.prev = chunk.hash;
      this.durableRevision = summary.last;
      this.durableAt = now;
    }
    if (sealDue({ bytes: this.openBytes, since: this.openSince }, now, this.policy)) await this.seal();
  }

  /** Joins the open segment's chunks into one sealed segment, then deletes them (a reader skips covered chunks). */
  async seal(): Promise<void> {
    if (this.openParts.length === 0) return;
    const summary = joinSummaries(this.openParts.map((p) => p.summary));
    const segment = assemblePieces(
      { chain: this.chain, kind: 'segment', prev: this.openPrev },
      summary,
      this.openParts.flatMap((p) => p.bodies),
    );
    const name = logObjectName(this.chain, 'segment', summary.first, summary.last, Boolean(this.encrypt));
    const pending = await this.store.create(name, { expectedSize: segment.size });
    try {
      const plain = (async function* () {
        yield* segment.pieces;
      })();
      await pipeline(this.encrypt ? this.encrypt(plain) : plain, pending.stream);
      await pending.commit();
    } catch (err) {
      await pending.abort(err instanceof Error ? err : new Error(String(err)));
      throw err;
    }
    const chunks = this.openParts.map((p) => p.name);
    this.openParts = [];
    this.openBytes = 0;
    this.prev = segment.hash;
    this.openPrev = segment.hash;
    for (const chunk of chunks) await this.store.delete(chunk);
  }
}
