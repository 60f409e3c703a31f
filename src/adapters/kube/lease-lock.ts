import type { V1Lease } from '@kubernetes/client-node';
import {
  formatMicroTime,
  judgeLease,
  type LeaseObservation,
  type LeaseRecord,
  leaseSeconds,
  observe,
  takeOver,
} from '../../domain/kube/lease.js';
import type { LockAcquisition, LockStatus, MaintenanceLock } from '../../domain/lock.js';
import type { LockHolder, LockUpdate } from '../../domain/maintenance/lock-view.js';
import { type KubeApi, KubeApiError } from './api.js';

/**
 * The maintenance lock as a coordination.k8s.io/v1 Lease in Lifeboat's namespace. Every write is a create or a PUT
 * carrying the resourceVersion we read, so of two agents racing, the API server lets exactly one through and the
 * other gets 409. Expiry is judged by our own clock from when we last saw the lease change (domain/kube/lease.ts),
 * so nodes with skewed clocks never steal a live lease. The fencing token is spec.leaseTransitions.
 */

export const REASON_ANNOTATION = 'lifeboat.io/reason';
/** Where the holder is in its maintenance (acquired, draining, rebooting...), for `maintain status`. */
export const PHASE_ANNOTATION = 'lifeboat.io/phase';

export interface LeaseLockOptions {
  namespace?: string;
  name?: string;
  /** Local clock for expiry judgement, in ms; monotonic by default. Tests inject skew here. */
  now?: () => number;
  /** Wall clock for the MicroTime stamps written into the lease (informational for others). */
  wallClock?: () => number;
}

interface Held {
  holder: string;
  reason: string;
  phase: string;
  ttlMs: number;
  token: number;
}

export class KubeLeaseLock implements MaintenanceLock {
  readonly namespace: string;
  readonly name: string;
  private readonly now: () => number;
  private readonly wall: () => number;
  private seen: LeaseObservation | undefined;
  private held: Held | undefined;

  constructor(
    private readonly api: KubeApi,
    opts: LeaseLockOptions = {},
  ) {
    this.namespace = opts.namespace ?? 'lifeboat';
    this.name = opts.name ?? 'lifeboat-maintenance';
    this.now = opts.now ?? (() => performance.now());
    this.wall = opts.wallClock ?? (() => Date.now());
  }

  async tryAcquire(holder: string, reason: string, ttlMs: number): Promise<LockAcquisition> {
    const lease = await this.read();
    if (!lease) return this.create(holder, reason, ttlMs);
    const record = toRecord(lease);
    const verdict = judgeLease(record, this.seen!, holder, this.now());
    if (verdict.state === 'held') {
      return { acquired: false, holder: verdict.holder, reason: record.reason, retryAfterMs: verdict.remainingMs };
    }
    const fields =
      verdict.state === 'mine'
        ? {
            ...takeOver(record, holder, ttlMs, this.wall()),
            acquireTime: lease.spec?.acquireTime ? String(lease.spec.acquireTime) : formatMicroTime(this.wall()),
          }
        : takeOver(record, holder, ttlMs, this.wall());
    const phase =
      verdict.state === 'mine' ? (lease.metadata?.annotations?.[PHASE_ANNOTATION] ?? 'acquired') : 'acquired';
    const written = await this.write(lease, fields, reason, phase);
    if (!written) return this.lost();
    this.held = { holder, reason, phase, ttlMs, token: fields.transitions };
    return { acquired: true, fencingToken: fields.transitions, holder, reason };
  }

  /** Extend our hold; `update` records progress (phase) or a new reason in the lease's annotations. */
  async renew(update: LockUpdate = {}): Promise<boolean> {
    const held = this.held;
    if (!held) return false;
    if (update.phase) held.phase = update.phase;
    if (update.reason) held.reason = update.reason;
    for (let attempt = 0; attempt < 2; attempt++) {
      const lease = await this.read();
      if (!lease || lease.spec?.holderIdentity !== held.holder) {
        this.held = undefined;
        return false;
      }
      const stamp = formatMicroTime(this.wall());
      const ok = await this.write(
        lease,
        {
          holder: held.holder,
          durationSeconds: leaseSeconds(held.ttlMs),
          acquireTime: lease.spec?.acquireTime ? String(lease.spec.acquireTime) : stamp,
          renewTime: stamp,
          transitions: lease.spec?.leaseTransitions ?? held.token,
        },
        held.reason,
        held.phase,
      );
      if (ok) return true;
      // 409: someone wrote the lease since we read it (maybe only an annotation): look again once.
    }
    this.held = undefined;
    return false;
  }

  async release(): Promise<void> {
    const held = this.held;
    this.held = undefined;
    if (!held) return;
    const lease = await this.read();
    if (!lease || lease.spec?.holderIdentity !== held.holder) return;
    const body: V1Lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { ...lease.metadata, annotations: withoutOurs(lease.metadata?.annotations) },
      spec: { leaseTransitions: lease.spec?.leaseTransitions ?? held.token },
    };
    try {
      await this.api.replaceLease(this.namespace, this.name, body);
    } catch (err) {
      // Someone else took or changed it meanwhile: nothing of ours left to release.
      if (!(err instanceof KubeApiError && err.status === 409)) throw err;
    }
  }

  async status(): Promise<LockStatus> {
    const lease = await this.read();
    if (!lease) return { held: false, expired: false, mine: false };
    const record = toRecord(lease);
    const verdict = judgeLease(record, this.seen!, this.held?.holder ?? '', this.now());
    return {
      held: Boolean(record.holder),
      holder: record.holder,
      reason: record.reason,
      fencingToken: record.transitions,
      ttlMs: record.durationSeconds !== undefined ? record.durationSeconds * 1000 : undefined,
      renewedAt: record.renewTime,
      expired: verdict.state === 'expired',
      mine: verdict.state === 'mine',
    };
  }

  /** The holder with its progress, as `maintain status` shows it; undefined when free. */
  async describe(): Promise<LockHolder | undefined> {
    const lease = await this.read();
    const record = lease && toRecord(lease);
    if (!lease || !record?.holder) return undefined;
    return {
      lock: this.name,
      holder: record.holder,
      reason: record.reason ?? '',
      fencingToken: record.transitions,
      acquiredAt: lease.spec?.acquireTime ? String(lease.spec.acquireTime) : (record.renewTime ?? ''),
      renewedAt: record.renewTime ?? '',
      ttlMs: (record.durationSeconds ?? 0) * 1000,
      phase: lease.metadata?.annotations?.[PHASE_ANNOTATION] ?? 'acquired',
    };
  }

  /** GET the lease and note when we saw it change. */
  private async read(): Promise<V1Lease | undefined> {
    const lease = await this.api.getLease(this.namespace, this.name);
    if (lease) this.seen = observe(this.seen, toRecord(lease), this.now());
    return lease;
  }

  private async create(holder: string, reason: string, ttlMs: number): Promise<LockAcquisition> {
    const fields = takeOver(undefined, holder, ttlMs, this.wall());
    try {
      const created = await this.api.createLease(this.namespace, this.leaseBody(undefined, fields, reason, 'acquired'));
      this.seen = observe(this.seen, toRecord(created), this.now());
      this.held = { holder, reason, phase: 'acquired', ttlMs, token: fields.transitions };
      return { acquired: true, fencingToken: fields.transitions, holder, reason };
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 409) return this.lost();
      throw err;
    }
  }

  /** PUT guarded by the resourceVersion we read; false on 409 (someone else wrote first). */
  private async write(
    lease: V1Lease,
    fields: ReturnType<typeof takeOver>,
    reason: string,
    phase: string,
  ): Promise<boolean> {
    try {
      const body = this.leaseBody(lease, fields, reason, phase);
      const updated = await this.api.replaceLease(this.namespace, this.name, body);
      this.seen = observe(this.seen, toRecord(updated), this.now());
      return true;
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 409) return false;
      throw err;
    }
  }

  /** After a lost race: report who won. */
  private async lost(): Promise<LockAcquisition> {
    const lease = await this.read();
    const record = lease ? toRecord(lease) : undefined;
    return { acquired: false, holder: record?.holder, reason: record?.reason };
  }

  private leaseBody(
    lease: V1Lease | undefined,
    f: ReturnType<typeof takeOver>,
    reason: string,
    phase: string,
  ): V1Lease {
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        ...(lease?.metadata ?? { name: this.name, namespace: this.namespace }),
        annotations: {
          ...(lease?.metadata?.annotations ?? {}),
          [REASON_ANNOTATION]: reason,
          [PHASE_ANNOTATION]: phase,
        },
      },
      // MicroTime fields as strings with six fractional digits: client-node would send a Date with three.
      spec: {
        holderIdentity: f.holder,
        leaseDurationSeconds: f.durationSeconds,
        acquireTime: f.acquireTime as unknown as Date,
        renewTime: f.renewTime as unknown as Date,
        leaseTransitions: f.transitions,
      },
    };
  }
}

function withoutOurs(annotations: Record<string, string> | undefined): Record<string, string> | undefined {
  if (!annotations) return undefined;
  const { [REASON_ANNOTATION]: _r, [PHASE_ANNOTATION]: _p, ...rest } = annotations;
  return rest;
}

export function toRecord(lease: V1Lease): LeaseRecord {
  const renew = lease.spec?.renewTime;
  return {
    resourceVersion: lease.metadata?.resourceVersion ?? '',
    holder: lease.spec?.holderIdentity || undefined,
    durationSeconds: lease.spec?.leaseDurationSeconds,
    renewTime: renew === undefined ? undefined : typeof renew === 'string' ? renew : (renew as Date).toISOString(),
    transitions: lease.spec?.leaseTransitions ?? 0,
    reason: lease.metadata?.annotations?.[REASON_ANNOTATION],
  };
}
