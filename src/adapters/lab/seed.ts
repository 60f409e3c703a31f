import { EtcdEndpointClient } from '../etcd/client.js';
import { isLeader } from './members.js';
import { sampleEntries } from './sample-data.js';

/** Loads the lab with Kubernetes-shaped sample data, so drills restore something that looks like a real cluster. */

/** Entries per putMany round: big enough to keep etcd's batching busy, small enough for a lively progress counter. */
const BATCH = 2048;

export interface SeedResult {
  keys: number;
  ms: number;
  keysPerSecond: number;
  /** The endpoint written to (the leader: a follower would forward every put to it). */
  endpoint: string;
}

/** The leader's client URL, so writes skip one forwarding hop; the first endpoint when no one says it leads. */
export async function findLeader(endpoints: string[]): Promise<string> {
  const leaders = await Promise.all(endpoints.map((e) => isLeader(e)));
  return endpoints[leaders.indexOf(true)] ?? endpoints[0]!;
}

export async function seedSampleData(
  endpoints: string[],
  count: number,
  onProgress?: (done: number, total: number) => void,
): Promise<SeedResult> {
  const started = Date.now();
  const endpoint = await findLeader(endpoints);
  const client = new EtcdEndpointClient(endpoint);
  try {
    let done = 0;
    let batch: Array<[string, string]> = [];
    const flush = async () => {
      await client.putMany(batch);
      done += batch.length;
      batch = [];
      onProgress?.(done, count);
    };
    for (const entry of sampleEntries(count)) {
      batch.push(entry);
      if (batch.length === BATCH) await flush();
    }
    if (batch.length > 0) await flush();
    const ms = Date.now() - started;
    return { keys: done, ms, keysPerSecond: Math.round((done * 1000) / Math.max(ms, 1)), endpoint };
  } finally {
    client.close();
  }
}
