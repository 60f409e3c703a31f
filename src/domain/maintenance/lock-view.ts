import type { MaintenanceLock } from '../lock.js';

/**
 * How the agent uses the maintenance lock port (src/domain/lock.ts): one lock per slot. etcd members share the single
 * `etcd-member` slot, always; workers take any of `worker-0..N-1` (maintenance.maxConcurrentWorkers). Backends:
 * adapters/lock/etcd-lock.ts now, the Kubernetes Lease (adapters/kube/lease-lock.ts) behind the same shape.
 */
export interface SlotLock extends MaintenanceLock {
  readonly name: string;
  /** Backends that can store it keep the holder's progress with the lock (shown by `maintain status`). */
  renew(update?: LockUpdate): Promise<boolean>;
}

export interface LockUpdate {
  phase?: string;
  reason?: string;
}

/** One held lock as `maintain status` shows it. */
export interface LockHolder {
  lock: string;
  holder: string;
  reason: string;
  fencingToken: number;
  /** ISO-8601 instants written by the holder (its clock; for display). */
  acquiredAt: string;
  renewedAt: string;
  ttlMs: number;
  /** Where the holder is in its maintenance: acquired, draining, rebooting, recovering. */
  phase: string;
}

/** Time left before a lock frees itself if not renewed, from its record (never negative; display only). */
export function remainingMs(holder: LockHolder, now: number): number {
  return Math.max(0, Date.parse(holder.renewedAt) + holder.ttlMs - now);
}

export const ETCD_MEMBER_SLOT = 'etcd-member';

export function lockSlots(kind: 'etcd-member' | 'worker', maxConcurrentWorkers: number): string[] {
  if (kind === 'etcd-member') return [ETCD_MEMBER_SLOT];
  return Array.from({ length: Math.max(1, maxConcurrentWorkers) }, (_, i) => `worker-${i}`);
}
