import type { LockAcquisition, LockStatus } from '../../domain/lock.js';
import type { LockHolder, LockUpdate, SlotLock } from '../../domain/maintenance/lock-view.js';
import type { KubeApi } from '../kube/api.js';
import { KubeLeaseLock } from '../kube/lease-lock.js';

/**
 * One maintenance lock slot (`etcd-member`, `worker-0`...) as a Kubernetes Lease named `maintenance-SLOT` in
 * Lifeboat's namespace: the same slots as the etcd backend, so node records (`slot`) and `maintain status` read the
 * same whichever backend holds them.
 *
 * The one difference the agent must not see: an etcd lock frees itself (the server drops the key with its lease),
 * while a Lease whose holder stopped renewing keeps naming it and is only *judged* expired, by our own clock
 * (domain/kube/lease.ts). Such a slot is reported as not held, so a waiting agent goes on to `tryAcquire`, which
 * takes it over.
 */

export const DEFAULT_LOCK_NAMESPACE = 'lifeboat';

export function leaseNameOf(slot: string): string {
  return `maintenance-${slot}`;
}

export class LeaseSlotLock implements SlotLock {
  readonly lease: KubeLeaseLock;

  constructor(
    api: KubeApi,
    readonly name: string,
    namespace: string = DEFAULT_LOCK_NAMESPACE,
  ) {
    this.lease = new KubeLeaseLock(api, { namespace, name: leaseNameOf(name) });
  }

  tryAcquire(holder: string, reason: string, ttlMs: number): Promise<LockAcquisition> {
    return this.lease.tryAcquire(holder, reason, ttlMs);
  }

  renew(update: LockUpdate = {}): Promise<boolean> {
    return this.lease.renew(update);
  }

  release(): Promise<void> {
    return this.lease.release();
  }

  async status(): Promise<LockStatus> {
    const s = await this.lease.status();
    return s.expired ? { ...s, held: false } : s;
  }

  /** The holder with its progress, under the slot's name (not the Lease's); undefined when free. */
  async describe(): Promise<LockHolder | undefined> {
    const holder = await this.lease.describe();
    return holder && { ...holder, lock: this.name };
  }
}
