import type { LifeboatConfig } from '../../domain/config.js';
import { type LockHolder, lockSlots, type SlotLock } from '../../domain/maintenance/lock-view.js';
import { UserError } from '../../errors.js';
import { KubeApi } from '../kube/api.js';
import { type KubeTarget, NoKubeConfigError } from '../kube/config.js';
import type { EtcdKv } from './etcd-kv.js';
import { EtcdLock, listLocks } from './etcd-lock.js';
import { DEFAULT_LOCK_NAMESPACE, LeaseSlotLock } from './lease-slot.js';

/**
 * Where the maintenance lock lives (`maintenance.lock`, default etcd): keys in etcd, or one Lease per slot in
 * Lifeboat's Kubernetes namespace (`maintenance.namespace`, default lifeboat). Same slots either way.
 */
export type LockBackend =
  | { kind: 'etcd'; kv: EtcdKv }
  | { kind: 'kubernetes'; api: KubeApi; namespace: string; maxConcurrentWorkers: number };

export function lockNamespace(config: LifeboatConfig | undefined): string {
  return config?.maintenance?.namespace ?? DEFAULT_LOCK_NAMESPACE;
}

/**
 * The backend the config asks for. `kube` is the API already connected by the caller, or how to connect it; the
 * Lease backend without any Kubernetes configuration is a user error (nothing could serialise the reboots).
 */
export async function openLockBackend(
  config: LifeboatConfig | undefined,
  kv: EtcdKv,
  kube: KubeApi | KubeTarget | undefined,
): Promise<LockBackend> {
  if (config?.maintenance?.lock !== 'kubernetes') return { kind: 'etcd', kv };
  let api: KubeApi;
  if (kube instanceof KubeApi) api = kube;
  else {
    try {
      api = await KubeApi.connect(kube ?? {});
    } catch (err) {
      if (err instanceof NoKubeConfigError) {
        throw new UserError(
          'maintenance.lock is kubernetes, but no Kubernetes cluster is configured',
          'pass --kubeconfig FILE (or set $KUBECONFIG; in a pod the service account is used), or set maintenance.lock: etcd',
        );
      }
      throw err;
    }
  }
  return {
    kind: 'kubernetes',
    api,
    namespace: lockNamespace(config),
    maxConcurrentWorkers: config.maintenance.maxConcurrentWorkers ?? 1,
  };
}

/** The lock slots a node may take, on the backend. */
export function openLocks(
  backend: LockBackend,
  kind: 'etcd-member' | 'worker',
  maxConcurrentWorkers: number,
): SlotLock[] {
  const slots = lockSlots(kind, maxConcurrentWorkers);
  if (backend.kind === 'kubernetes')
    return slots.map((slot) => new LeaseSlotLock(backend.api, slot, backend.namespace));
  return slots.map((slot) => new EtcdLock(backend.kv, slot));
}

/**
 * Every held slot, for `maintain status`. etcd lists its key prefix (whatever maxConcurrentWorkers was when a slot
 * was taken); the Lease backend reads the slots the config defines (leases.get only: no list permission needed).
 */
export async function readLockHolders(backend: LockBackend): Promise<LockHolder[]> {
  if (backend.kind === 'etcd') return listLocks(backend.kv);
  const slots = [...lockSlots('etcd-member', 1), ...lockSlots('worker', backend.maxConcurrentWorkers)];
  const holders = await Promise.all(
    slots.map((slot) => new LeaseSlotLock(backend.api, slot, backend.namespace).describe()),
  );
  return holders.filter((h): h is LockHolder => h !== undefined);
}
