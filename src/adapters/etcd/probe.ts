import type { EndpointProbe } from '../../domain/probe.js';
import { EtcdEndpointClient } from './client.js';
import type { EtcdConnectionOptions } from './connection.js';
import { EtcdError, toEtcdError } from './errors.js';

/** The key the probe reads. It need not exist: an empty answer still proves the read path works. */
export const PROBE_KEY = '/lifeboat/probe';

/** Slack past the call deadline before we stop waiting on our own: the call's timer is reliable, this is a seatbelt. */
const SEATBELT_MS = 250;

function bounded<T>(endpoint: string, work: Promise<T>, deadlineMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const seatbelt = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new EtcdError(endpoint, 'timeout', `no answer within ${deadlineMs} ms`)),
      deadlineMs + SEATBELT_MS,
    );
  });
  return Promise.race([work, seatbelt]).finally(() => clearTimeout(timer));
}

function message(endpoint: string, err: unknown): string {
  return toEtcdError(endpoint, err).message;
}

/**
 * Everything one endpoint can tell us, asked in parallel with one deadline, so the probe costs one deadline at most.
 * Never rejects: whatever failed is recorded; `error` is set only when the endpoint answered nothing at all.
 */
export async function probeEndpoint(
  endpoint: string,
  opts: EtcdConnectionOptions,
  deadlineMs = 2000,
): Promise<EndpointProbe> {
  const started = Date.now();
  const elapsed = () => Date.now() - started;
  let client: EtcdEndpointClient;
  try {
    client = new EtcdEndpointClient(endpoint, opts);
  } catch (err) {
    // Bad endpoint or unreadable TLS file: no network involved, report it like any other failure.
    const text = err instanceof EtcdError ? err.message : `${endpoint}: ${(err as Error).message}`;
    return { endpoint, error: text, elapsedMs: elapsed() };
  }
  try {
    const [status, members, alarms, linearizable, serializable] = await Promise.allSettled([
      bounded(endpoint, client.status(deadlineMs), deadlineMs),
      bounded(endpoint, client.memberList(deadlineMs), deadlineMs),
      bounded(endpoint, client.alarms(deadlineMs), deadlineMs),
      bounded(endpoint, client.get(PROBE_KEY, { serializable: false, deadlineMs }), deadlineMs),
      bounded(endpoint, client.get(PROBE_KEY, { serializable: true, deadlineMs }), deadlineMs),
    ]);
    const probe: EndpointProbe = { endpoint, elapsedMs: 0 };
    if (status.status === 'fulfilled') probe.status = status.value;
    if (members.status === 'fulfilled') probe.members = members.value;
    if (alarms.status === 'fulfilled') probe.alarms = alarms.value;
    probe.linearizableRead = linearizable.status === 'fulfilled';
    if (linearizable.status === 'rejected') probe.linearizableError = message(endpoint, linearizable.reason);
    probe.serializableRead = serializable.status === 'fulfilled';
    const all = [status, members, alarms, linearizable, serializable];
    if (all.every((r) => r.status === 'rejected')) {
      // Status is the most basic question; its failure describes the endpoint best.
      probe.error = message(endpoint, (status as PromiseRejectedResult).reason);
    }
    probe.elapsedMs = elapsed();
    return probe;
  } finally {
    client.close();
  }
}

/** Probes every endpoint at once: a frozen member costs one deadline, not one per member. */
export function probeCluster(
  endpoints: string[],
  opts: EtcdConnectionOptions,
  deadlineMs = 2000,
): Promise<EndpointProbe[]> {
  return Promise.all(endpoints.map((endpoint) => probeEndpoint(endpoint, opts, deadlineMs)));
}
