/**
 * The maintenance lock: at most one node of the cluster is under maintenance (drained, rebooting) at a time. Two
 * backends implement this port: a Kubernetes Lease (src/adapters/kube/lease-lock.ts) and etcd (the agent's own).
 *
 * Contract for implementations:
 * - `tryAcquire` never waits: it answers at once whether we hold the lock now. Re-acquiring a lock we already hold
 *   renews it and keeps the fencing token.
 * - Expiry is judged by the *local* clock from the moment we last saw the lock change, never by comparing a remote
 *   timestamp with our clock, so skewed clocks between nodes cannot make a live holder look expired.
 * - `fencingToken` increases every time the lock changes hands; work done under the lock can carry it so a stale
 *   holder's late writes are recognisable.
 */

export interface LockAcquisition {
  acquired: boolean;
  /** Present when acquired. Strictly increasing across holders. */
  fencingToken?: number;
  /** Who holds the lock now (us when acquired). */
  holder?: string;
  /** The holder's stated reason ("reboot cp2 (kernel update)"). */
  reason?: string;
  /** When not acquired: how long, by our clock, until the current holder's lease would expire if not renewed. */
  retryAfterMs?: number;
}

export interface LockStatus {
  held: boolean;
  holder?: string;
  reason?: string;
  fencingToken?: number;
  ttlMs?: number;
  /** Last renewal as the holder wrote it (remote clock; for display only, never compared with ours). */
  renewedAt?: string;
  /** By our observation the holder has stopped renewing for longer than the TTL. */
  expired: boolean;
  /** We (this lock instance) hold it. */
  mine: boolean;
}

export interface MaintenanceLock {
  tryAcquire(holder: string, reason: string, ttlMs: number): Promise<LockAcquisition>;
  /** Extend our hold. false when the lock is no longer ours (lost to expiry and a new holder): stop work at once. */
  renew(): Promise<boolean>;
  /** Give the lock up (no-op when not ours). */
  release(): Promise<void>;
  status(): Promise<LockStatus>;
}
