import { pipeline } from 'node:stream/promises';
import { logObjectName } from '../../domain/etcdlog/chain.js';
import { type LogPolicy, sealDue } from '../../domain/etcdlog/replay.js';
import {
  assemblePieces,
  encodedSize,
  encodeGroupsInto,
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
 * Memory (issue 19: peak RSS at the fastest load): the open segment is held until the seal, because a follower that
 * encrypts to an age recipient has no identity to read its own chunks back. It is held encoded, in ONE buffer that
 * outlives the seal (OpenRecords): a watch response is encoded into it on arrival (its decoded events die young), a
 * chunk and the sealed segment are written from views of it, and a steady load allocates nothing else that lives.
 */
export class LogWriter {
  private readonly records = new OpenRecords();
  /** What a header says of the records not yet durable, and when the first of them arrived. */
  private pending: { summary: GroupSummary; observedAt: number } | undefined;
  /** The open segment's chunks already written (names and summaries; their bytes are in `records`). */
  private openParts: Array<{ summary: GroupSummary; name: string }> = [];
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
      w.records.append(decoded.groups);
      w.records.markDurable(w.records.end);
      w.openParts.push({ summary: summarize(decoded.groups), name: object.name });
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
    return this.pending?.observedAt;
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
    this.records.append(fresh);
    const summary = summarize(fresh);
    this.pending = this.pending
      ? { summary: joinSummaries([this.pending.summary, summary]), observedAt: this.pending.observedAt }
      : { summary, observedAt: fresh[0]!.observedAt };
  }

  /** The durability tick: write what arrived since the last one as one chunk; seal when the bound is reached. */
  async flush(now: number): Promise<void> {
    const taken = this.pending;
    if (taken) {
      // Taken before the write: revisions arriving while it runs go to the next chunk.
      this.pending = undefined;
      const end = this.records.end;
      const { summary } = taken;
      const chunk = assemblePieces({ chain: this.chain, kind: 'chunk', prev: this.prev }, summary, [
        this.records.view(this.records.durableEnd, end),
      ]);
      const name = logObjectName(this.chain, 'chunk', summary.first, summary.last, Boolean(this.encrypt));
      try {
        await this.store.putSmall(name, this.encrypt ? await transformBytes(chunk.pieces, this.encrypt) : chunk.pieces);
      } catch (err) {
        // Not durable: they go out with the next tick, with what arrived meanwhile.
        const arrived = this.pending as typeof taken | undefined;
        this.pending = arrived
          ? { summary: joinSummaries([summary, arrived.summary]), observedAt: taken.observedAt }
          : taken;
        throw err;
      }
      this.records.markDurable(end);
      if (this.openParts.length === 0) {
        this.openSince = now;
        this.openPrev = this.prev;
      }
      this.openParts.push({ summary, name });
      this.prev = chunk.hash;
      this.durableRevision = summary.last;
      this.durableAt = now;
    }
    if (sealDue({ bytes: this.records.durableEnd, since: this.openSince }, now, this.policy)) await this.seal();
  }

  /** Joins the open segment's chunks into one sealed segment, then deletes them (a reader skips covered chunks). */
  private async seal(): Promise<void> {
    if (this.openParts.length === 0) return;
    const summary = joinSummaries(this.openParts.map((p) => p.summary));
    const sealed = this.records.durableEnd;
    const segment = assemblePieces({ chain: this.chain, kind: 'segment', prev: this.openPrev }, summary, [
      this.records.view(0, sealed),
    ]);
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
    this.records.dropSealed(sealed, this.policy.sealBytes);
    const chunks = this.openParts.map((p) => p.name);
    this.openParts = [];
    this.prev = segment.hash;
    this.openPrev = segment.hash;
    for (const chunk of chunks) await this.store.delete(chunk);
  }
}

/**
 * The open segment's revision records, encoded, back to back in one buffer reused from segment to segment:
 * [0, durableEnd) is in chunks already written, [durableEnd, end) arrived since the last tick. Views handed out stay
 * valid while a write runs: appending past the end never touches them, and a grown buffer is a new one.
 */
class OpenRecords {
  private buf = Buffer.allocUnsafeSlow(64 * 1024);
  end = 0;
  durableEnd = 0;

  append(groups: RevisionGroup[]): void {
    const size = encodedSize(groups);
    if (this.end + size > this.buf.length) this.resize(Math.max(this.buf.length * 2, this.end + size));
    this.end = encodeGroupsInto(groups, this.buf, this.end);
  }

  view(from: number, to: number): Buffer {
    return this.buf.subarray(from, to);
  }

  markDurable(end: number): void {
    this.durableEnd = end;
  }

  /** After a seal of [0, sealed): what arrived meanwhile moves to the front; a buffer a burst grew is given back. */
  dropSealed(sealed: number, sealBytes: number): void {
    const rest = this.end - sealed;
    if (this.buf.length > 4 * sealBytes && rest < sealBytes) {
      this.resize(Math.max(64 * 1024, 2 * sealBytes), sealed);
    } else this.buf.copy(this.buf, 0, sealed, this.end);
    this.end = rest;
    this.durableEnd -= sealed;
  }

  private resize(size: number, from = 0): void {
    const next = Buffer.allocUnsafeSlow(size);
    this.buf.copy(next, 0, from, this.end);
    this.buf = next;
  }
}
