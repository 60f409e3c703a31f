import { afterAll, beforeAll, expect, it } from 'vitest';
import { EtcdEndpointClient } from '../../src/adapters/etcd/client.js';
import { startTestCluster, type TestCluster } from '../helpers/etcd-cluster.js';

let cluster: TestCluster;
beforeAll(async () => { cluster = await startTestCluster(3); });
afterAll(async () => { await cluster?.destroy(); });

it('measures', async () => {
  const c = new EtcdEndpointClient(cluster.endpoints[0]!, {});
  for (const conc of [16, 64, 256, 512, 1024]) {
    const entries: Array<[string, string]> = [];
    for (let i = 0; i < 3000; i++) entries.push([`/b${conc}/${i}`, `value-${i}`.repeat(5)]);
    const t = Date.now();
    await c.putMany(entries, { concurrency: conc });
    console.log(conc, Date.now() - t);
  }
  c.close();
  expect(1).toBe(1);
});
