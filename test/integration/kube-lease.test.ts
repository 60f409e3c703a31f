import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { KubeApi } from '../../src/adapters/kube/api.js';
import { KubeLeaseLock } from '../../src/adapters/kube/lease-lock.js';
import { type KubeApiFixture, startKubeApi } from '../helpers/kube-api.js';

/** The Lease maintenance lock against the API fixture (resourceVersion 409s, strict MicroTime parsing). */

let api: KubeApiFixture;
let kube: KubeApi;
let leaseName: string;
let n = 0;

beforeAll(async () => {
  api = await startKubeApi();
  api.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'lifeboat' } });
  kube = await KubeApi.connect({ kubeconfig: api.kubeconfig });
});
afterAll(async () => {
  await api?.close();
});
beforeEach(() => {
  leaseName = `maintenance-${++n}`;
});

/** A hand-driven clock: skew is simply a different starting point. */
function clock(start: number) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

const lock = (c: { now: () => number }, wallSkewMs = 0) =>
  new KubeLeaseLock(kube, { name: leaseName, now: c.now, wallClock: () => Date.now() + wallSkewMs });

describe('Lease maintenance lock', () => {
  it('two agents racing for a new Lease: exactly one wins, the other learns who', async () => {
    for (let round = 0; round < 5; round++) {
      leaseName = `race-${round}`;
      const a = lock(clock(0));
      const b = lock(clock(0));
      const [ra, rb] = await Promise.all([
        a.tryAcquire('agent-cp1', 'reboot cp1', 30_000),
        b.tryAcquire('agent-cp2', 'reboot cp2', 30_000),
      ]);
      expect([ra.acquired, rb.acquired].filter(Boolean)).toHaveLength(1);
      const [winner, loser] = ra.acquired ? [ra, rb] : [rb, ra];
      expect(loser.holder).toBe(winner.holder);
      expect(api.get('Lease', 'lifeboat', leaseName)?.spec.holderIdentity).toBe(winner.holder);
    }
  });

  it('racing for an existing, expired Lease: one PUT wins, the other gets 409 and loses', async () => {
    const owner = lock(clock(0));
    await owner.tryAcquire('agent-old', 'old', 1000);
    const ca = clock(0);
    const cb = clock(0);
    const a = lock(ca);
    const b = lock(cb);
    await Promise.all([a.status(), b.status()]); // both observe the lease now
    ca.advance(1500);
    cb.advance(1500);
    const results = await Promise.all([a.tryAcquire('agent-a', 'a', 10_000), b.tryAcquire('agent-b', 'b', 10_000)]);
    expect(results.filter((r) => r.acquired)).toHaveLength(1);
    expect(api.requests.some((q) => q.resource === 'leases' && q.verb === 'update' && q.status === 409)).toBe(true);
    expect(await owner.renew()).toBe(false);
  });

  it('expiry is judged by our own clock, so a holder whose clock is an hour behind is not robbed', async () => {
    const holderClock = clock(0);
    const holder = lock(holderClock, -3600_000); // its renewTime stamps look an hour old to everyone else
    const first = await holder.tryAcquire('agent-cp1', 'kernel update', 10_000);
    expect(first).toMatchObject({ acquired: true, fencingToken: 0, holder: 'agent-cp1' });
    const stored = api.get('Lease', 'lifeboat', leaseName)!;
    expect(stored.spec.renewTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect(stored.spec.leaseDurationSeconds).toBe(10);
    expect(stored.metadata.annotations['lifeboat.io/reason']).toBe('kernel update');

    const otherClock = clock(5_000_000); // a different, unrelated local clock
    const other = lock(otherClock);
    const seen = await other.tryAcquire('agent-cp2', 'reboot cp2', 10_000);
    expect(seen).toMatchObject({ acquired: false, holder: 'agent-cp1', reason: 'kernel update', retryAfterMs: 10_000 });
    otherClock.advance(9_000);
    expect((await other.tryAcquire('agent-cp2', 'reboot cp2', 10_000)).acquired).toBe(false);
    // The holder renews: the lease changed, so the other agent's count starts again.
    expect(await holder.renew()).toBe(true);
    otherClock.advance(9_000);
    expect(await other.tryAcquire('agent-cp2', 'reboot cp2', 10_000)).toMatchObject({
      acquired: false,
      retryAfterMs: 10_000,
    });
    expect((await other.status()).expired).toBe(false);
    // Silence for a whole duration by our clock: expired, taken, with a higher fencing token.
    otherClock.advance(10_000);
    expect((await other.status()).expired).toBe(true);
    const taken = await other.tryAcquire('agent-cp2', 'reboot cp2', 10_000);
    expect(taken).toMatchObject({ acquired: true, fencingToken: 1, holder: 'agent-cp2' });
    expect(await holder.renew()).toBe(false);
    expect((await holder.tryAcquire('agent-cp1', 'again', 10_000)).acquired).toBe(false);
  });

  it('a holder ahead of everyone (clock in the future) still expires after a duration of silence', async () => {
    const holder = lock(clock(0), +3600_000);
    await holder.tryAcquire('agent-fast', 'x', 5_000);
    const c = clock(0);
    const other = lock(c);
    expect((await other.tryAcquire('agent-slow', 'y', 5_000)).acquired).toBe(false);
    c.advance(5_000);
    expect((await other.tryAcquire('agent-slow', 'y', 5_000)).acquired).toBe(true);
  });

  it('re-acquiring keeps the token; release frees the lease for the next holder; status tells who holds it', async () => {
    const c = clock(0);
    const a = lock(c);
    const r1 = await a.tryAcquire('agent-a', 'one', 20_000);
    const r2 = await a.tryAcquire('agent-a', 'one', 20_000);
    expect(r2.fencingToken).toBe(r1.fencingToken);
    expect(await a.status()).toMatchObject({
      held: true,
      holder: 'agent-a',
      mine: true,
      expired: false,
      ttlMs: 20_000,
    });
    // progress for `maintain status` (the agent's SlotLock shape)
    expect(await a.renew({ phase: 'draining' })).toBe(true);
    expect(await lock(clock(0)).describe()).toMatchObject({
      lock: leaseName,
      holder: 'agent-a',
      reason: 'one',
      phase: 'draining',
      fencingToken: r1.fencingToken,
      ttlMs: 20_000,
      renewedAt: expect.stringMatching(/\.\d{6}Z$/),
    });
    await a.release();
    expect(await a.describe()).toBeUndefined();
    const after = api.get('Lease', 'lifeboat', leaseName)!;
    expect(after.spec.holderIdentity).toBeUndefined();
    expect(after.metadata.annotations?.['lifeboat.io/reason']).toBeUndefined();
    const b = lock(clock(0));
    expect(await b.status()).toMatchObject({ held: false, expired: false });
    const rb = await b.tryAcquire('agent-b', 'two', 20_000);
    expect(rb).toMatchObject({ acquired: true, fencingToken: (r1.fencingToken ?? 0) + 1 });
    expect(await a.renew()).toBe(false);
  });
});
