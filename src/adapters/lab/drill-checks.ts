import { diagnose } from '../../domain/diagnosis.js';
import { runPool } from '../etcd/bulk.js';
import { EtcdEndpointClient } from '../etcd/client.js';
import { probeCluster } from '../etcd/probe.js';
import { delay } from '../proc/wait.js';
import type { stopLab } from './lab.js';
import { memberHealth, waitForMembers } from './members.js';
import { readLabState } from './state.js';

/** What the drill measures and checks with its own eyes: db size, doctor's verdict, health, writes, keys present. */

export async function dbSize(endpoint: string): Promise<number | null> {
  const client = new EtcdEndpointClient(endpoint);
  try {
    return (await client.status(3000)).dbSize;
  } catch {
    return null;
  } finally {
    client.close();
  }
}

/** Run doctor's probe and diagnosis until it reports the expected state. */
export async function detect(
  endpoints: string[],
  want: string,
  timeoutMs: number,
): Promise<{ state: string; at: number }> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const d = diagnose(await probeCluster(endpoints, {}, 2000));
    last = d.state;
    if (d.state === want) return { state: d.state, at: Date.now() };
    await delay(100);
  }
  throw new Error(`doctor never reported ${want} (last: ${last})`);
}

/** Every member healthy (/health) and a write accepted through each: the recovery is real, not claimed. */
export async function confirmRecovered(state: Parameters<typeof stopLab>[0], endpoints: string[]): Promise<void> {
  const lab = readLabState(state.dir) ?? state;
  await waitForMembers(
    lab,
    lab.members.map((m) => m.name),
    { until: 'healthy', timeoutMs: 30_000 },
  );
  for (const endpoint of endpoints) {
    if ((await memberHealth(endpoint)) !== 'healthy') throw new Error(`${endpoint} is not healthy after recovery`);
    const client = new EtcdEndpointClient(endpoint);
    try {
      await client.put('/drill/check/writable', endpoint, { deadlineMs: 5000 });
    } finally {
      client.close();
    }
  }
}

export async function presentKeys(endpoint: string, keys: string[]): Promise<Set<string>> {
  const present = new Set<string>();
  const client = new EtcdEndpointClient(endpoint);
  try {
    await runPool(keys, 32, async (key) => {
      if ((await client.get(key, { deadlineMs: 10_000 })) !== undefined) present.add(key);
    });
  } finally {
    client.close();
  }
  return present;
}
