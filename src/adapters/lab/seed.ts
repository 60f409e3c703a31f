import { EtcdEndpointClient } from '../etcd/client.js';
import { sampleEntries } from './sample-data.js';

/** Loads the lab with Kubernetes-shaped sample data, so drills restore something that looks like a real cluster. */

/** Entries per putMany round: big enough to keep etcd's batching busy, small enough for a lively progress counter. */
const BATCH = 500;
const CONCURRENCY = 64;

export interface SeedResult {
  keys: number;
  ms: number;
  /** The endpoint written to (the leader: a follower would forward every put to it). */
  endpoint: string;
}

/** The leader's client URL, so writes skip one forwarding hop; the first endpoint when no one answers. */
export async function findLeader(endpoints: string[]): Promise<string> {
  const answers = await Promise.all(
    endpoints.map(async (endpoint) => {
      const client = new EtcdEndpointClient(endpoint);
      try {
        const status = await client.status(2000);
        return status.memberId === status.leaderId ? endpoint : undefined;
      } catch {
        return undefined;
      } finally {
        client.close();
      }
    }),
  );
  return answers.find((e) => e !== undefined) ?? endpoints[0]!;
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
      await client.putMany(batch, { concurrency: CONCURRENCY });
      done += batch.length;
      batch = [];
      onProgress?.(done, count);
    };
    for (const entry of sampleEntries(count)) {
      batch.push(entry);
      if (batch.length === BATCH) await flush();
    }
    if (batch.length > 0) await flush();
    return { keys: done, ms: Date.now() - started, endpoint };
  } finally {
    client.close();
  }
}
