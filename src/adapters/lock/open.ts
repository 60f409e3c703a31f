import { lockSlots } from '../../domain/maintenance/lock-view.js';
import { UserError } from '../../errors.js';
import type { EtcdKv } from './etcd-kv.js';
import { EtcdLock } from './etcd-lock.js';

/** The lock slots a node may take, on the configured backend (`maintenance.lock`, default etcd). */
export function openLocks(
  kv: EtcdKv,
  backend: 'etcd' | 'kubernetes' | undefined,
  kind: 'etcd-member' | 'worker',
  maxConcurrentWorkers: number,
): EtcdLock[] {
  if (backend === 'kubernetes') {
    throw new UserError(
      'the Kubernetes Lease lock backend is not available yet',
      'set maintenance.lock: etcd (or leave it out) in lifeboat.yaml',
    );
  }
  return lockSlots(kind, maxConcurrentWorkers).map((slot) => new EtcdLock(kv, slot));
}
