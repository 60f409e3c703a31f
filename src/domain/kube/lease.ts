/**
 * Decisions of the Lease-based maintenance lock, without I/O. Time is a parameter: `now` is our local clock (ideally
 * monotonic), which is never compared with the timestamps written by other nodes.
 */

/** The fields of a coordination.k8s.io/v1 Lease that matter here. */
export interface LeaseRecord {
  resourceVersion: string;
  holder: string | undefined;
  durationSeconds: number | undefined;
  /** As written by the holder (its clock). */
  renewTime: string | undefined;
  transitions: number;
  reason: string | undefined;
}

/** What we last saw of a lease, and when (by our clock) we first saw it in that state. */
export interface LeaseObservation {
  resourceVersion: string;
  holder: string | undefined;
  renewTime: string | undefined;
  observedAt: number;
}

/**
 * Remember when *we* saw the lease change. Any change (holder, renewTime, resourceVersion) resets the clock; an
 * unchanged lease keeps the first time we saw it in that state.
 */
export function observe(previous: LeaseObservation | undefined, lease: LeaseRecord, now: number): LeaseObservation {
  const same =
    previous &&
    previous.resourceVersion === lease.resourceVersion &&
    previous.holder === lease.holder &&
    previous.renewTime === lease.renewTime;
  if (same) return previous;
  return { resourceVersion: lease.resourceVersion, holder: lease.holder, renewTime: lease.renewTime, observedAt: now };
}

export type LeaseVerdict =
  | { state: 'free' }
  | { state: 'mine' }
  | { state: 'expired'; holder: string }
  | { state: 'held'; holder: string; remainingMs: number };

/**
 * Who may take the lease now. A lease we have just seen for the first time counts as freshly renewed: we wait a full
 * duration of silence before calling it expired, whatever its renewTime says (that is the holder's clock).
 */
export function judgeLease(lease: LeaseRecord, seen: LeaseObservation, me: string, now: number): LeaseVerdict {
  if (!lease.holder) return { state: 'free' };
  if (lease.holder === me) return { state: 'mine' };
  const durationMs = Math.max(1, lease.durationSeconds ?? 0) * 1000;
  const silentFor = now - seen.observedAt;
  if (silentFor >= durationMs) return { state: 'expired', holder: lease.holder };
  return { state: 'held', holder: lease.holder, remainingMs: durationMs - silentFor };
}

/** Lease durations are whole seconds; never round a TTL down to zero. */
export function leaseSeconds(ttlMs: number): number {
  return Math.max(1, Math.ceil(ttlMs / 1000));
}

/**
 * metav1.MicroTime as the API server parses it (RFC3339Micro): exactly six fractional digits. Date#toISOString gives
 * three, which the server rejects; client libraries that send a plain Date get a 400.
 */
export function formatMicroTime(epochMs: number): string {
  const iso = new Date(epochMs).toISOString(); // 2026-01-02T03:04:05.678Z
  return `${iso.slice(0, 23)}000Z`;
}

/** The holder fields for taking the lease: transitions count up when the holder changes (the fencing token). */
export function takeOver(
  lease: LeaseRecord | undefined,
  me: string,
  ttlMs: number,
  wallNow: number,
): { holder: string; durationSeconds: number; acquireTime: string; renewTime: string; transitions: number } {
  const changed = lease?.holder !== me;
  const transitions = (lease?.transitions ?? 0) + (changed && lease ? 1 : 0);
  const stamp = formatMicroTime(wallNow);
  return { holder: me, durationSeconds: leaseSeconds(ttlMs), acquireTime: stamp, renewTime: stamp, transitions };
}
