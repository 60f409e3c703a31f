import { randomUUID } from 'node:crypto';
import type { LockAcquisition, LockStatus } from '../../domain/lock.js';
import type { LockHolder, LockUpdate, SlotLock } from '../../domain/maintenance/lock-view.js';
import { KEYS } from '../../domain/maintenance/records.js';
import type { EtcdKv, KvEntry } from './etcd-kv.js';

/**
 * The maintenance lock in etcd: one key per slot, bound to a lease, created only if absent in a transaction. The
 * key's create revision is the fencing token (etcd revisions only grow), and every later write to the key is a
 * transaction that compares it, so a holder whose lease expired can never touch its successor's lock. Without
 * quorum no transaction commits: no lock, nothing reboots.
 */

interface StoredLock {
  holder: string;
  reason: string;
  acquiredAt: string;
  renewedAt: string;
  ttlMs: number;
  phase: string;
  leaseId: string;
  /** Identifies one acquisition, so a retried transaction recognises its own success. */
  nonce: string;
}

export class EtcdLock implements SlotLock {
  private held: { token: number; leaseId: string; record: StoredLock } | undefined;

  constructor(
    private readonly kv: EtcdKv,
    readonly name: string,
    private readonly clock: () => number = Date.now,
  ) {}

  get key(): string {
    return KEYS.lock(this.name);
  }

  /** The token of the lock we hold, if any. */
  get fencingToken(): number | undefined {
    return this.held?.token;
  }

  /** Acquires, or resumes the lock when it already names `holder` (an agent back after its node's reboot). */
  async tryAcquire(holder: string, reason: string, ttlMs: number): Promise<LockAcquisition & { resumed?: boolean }> {
    const current = await this.kv.get(this.key);
    if (current) {
      const stored = parseStored(current.value);
      if (stored?.holder === holder && (await this.kv.leaseKeepAlive(current.lease)) > 0) {
        const record = { ...stored, renewedAt: this.iso() };
        this.held = { token: current.createRevision, leaseId: current.lease, record };
        return { acquired: true, resumed: true, fencingToken: current.createRevision, holder, reason: stored.reason };
      }
      return refused(stored);
    }
    const leaseId = await this.kv.leaseGrant(Math.max(2, Math.ceil(ttlMs / 1000)));
    const now = this.iso();
    const record: StoredLock = {
      holder,
      reason,
      acquiredAt: now,
      renewedAt: now,
      ttlMs,
      phase: 'acquired',
      leaseId,
      nonce: randomUUID(),
    };
    let res: Awaited<ReturnType<EtcdKv['txn']>>;
    try {
      res = await this.kv.txn(
        [{ key: this.key, target: 'CREATE', result: 'EQUAL', createRevision: 0 }],
        [{ put: { key: this.key, value: JSON.stringify(record), lease: leaseId } }, { range: { key: this.key } }],
        [{ range: { key: this.key } }],
      );
    } catch (err) {
      await this.kv.leaseRevoke(leaseId).catch(() => {});
      throw err;
    }
    const after = res.ranges[res.ranges.length - 1]?.[0];
    const stored = after && parseStored(after.value);
    // A retried transaction (the first answer was lost) finds our own nonce: that acquisition was ours.
    if (res.succeeded || stored?.nonce === record.nonce) {
      const token = after?.createRevision ?? res.revision;
      this.held = { token, leaseId, record };
      return { acquired: true, fencingToken: token, holder, reason };
    }
    await this.kv.leaseRevoke(leaseId).catch(() => {});
    return refused(stored);
  }

  async renew(update: LockUpdate = {}): Promise<boolean> {
    const held = this.held;
    if (!held) return false;
    if ((await this.kv.leaseKeepAlive(held.leaseId)) <= 0) {
      this.held = undefined;
      return false;
    }
    const record = { ...held.record, ...update, renewedAt: this.iso() };
    const res = await this.kv.txn(
      [{ key: this.key, target: 'CREATE', result: 'EQUAL', createRevision: held.token }],
      [{ put: { key: this.key, value: JSON.stringify(record), ignoreLease: true } }],
    );
    if (!res.succeeded) {
      this.held = undefined;
      return false;
    }
    held.record = record;
    return true;
  }

  /** Frees the lock if it is still ours (the transaction compares the fencing token). */
  async release(): Promise<void> {
    await this.releaseIfOurs();
  }

  /** release(), saying whether the lock was still ours. */
  async releaseIfOurs(): Promise<boolean> {
    const held = this.held;
    if (!held) return false;
    this.held = undefined;
    const res = await this.kv.txn(
      [{ key: this.key, target: 'CREATE', result: 'EQUAL', createRevision: held.token }],
      [{ delete: { key: this.key } }],
    );
    // Only our own lease: revoking it drops nothing but our key (already gone).
    if (res.succeeded) await this.kv.leaseRevoke(held.leaseId).catch(() => {});
    return res.succeeded;
  }

  async status(): Promise<LockStatus> {
    const current = await this.kv.get(this.key);
    const stored = current && parseStored(current.value);
    if (!current || !stored) return { held: false, expired: false, mine: false };
    return {
      held: true,
      holder: stored.holder,
      reason: stored.reason,
      fencingToken: current.createRevision,
      ttlMs: stored.ttlMs,
      renewedAt: stored.renewedAt,
      // etcd expires the lease itself (server side, no clock comparison): a key that exists is live.
      expired: false,
      mine: this.held?.token === current.createRevision,
    };
  }

  /** The lock with its holder's progress (phase), or undefined when free. */
  async describe(): Promise<LockHolder | undefined> {
    const current = await this.kv.get(this.key);
    return current ? holderOf(this.name, current) : undefined;
  }

  private iso(): string {
    return new Date(this.clock()).toISOString();
  }
}

function parseStored(text: string): StoredLock | undefined {
  try {
    const v = JSON.parse(text) as Partial<StoredLock>;
    if (typeof v.holder !== 'string' || typeof v.acquiredAt !== 'string') return undefined;
    return {
      holder: v.holder,
      reason: String(v.reason ?? ''),
      acquiredAt: v.acquiredAt,
      renewedAt: typeof v.renewedAt === 'string' ? v.renewedAt : v.acquiredAt,
      ttlMs: Number(v.ttlMs ?? 0),
      phase: String(v.phase ?? 'acquired'),
      leaseId: String(v.leaseId ?? '0'),
      nonce: String(v.nonce ?? ''),
    };
  } catch {
    return undefined;
  }
}

/** Not acquired: who holds it; the holder's TTL bounds the wait (no remote clock is compared with ours). */
function refused(stored: StoredLock | undefined): LockAcquisition {
  if (!stored) return { acquired: false };
  return { acquired: false, holder: stored.holder, reason: stored.reason, retryAfterMs: stored.ttlMs };
}

function holderOf(slot: string, entry: KvEntry): LockHolder | undefined {
  const s = parseStored(entry.value);
  if (!s) return undefined;
  return {
    lock: slot,
    holder: s.holder,
    reason: s.reason,
    fencingToken: entry.createRevision,
    acquiredAt: s.acquiredAt,
    renewedAt: s.renewedAt,
    ttlMs: s.ttlMs,
    phase: s.phase,
  };
}

/** Every lock slot that is held right now (whatever maxConcurrentWorkers was when it was taken). */
export async function listLocks(kv: EtcdKv): Promise<LockHolder[]> {
  const entries = await kv.range(KEYS.lockPrefix, { prefix: true });
  return entries.flatMap((e) => {
    const h = holderOf(e.key.slice(KEYS.lockPrefix.length), e);
    return h ? [h] : [];
  });
}
