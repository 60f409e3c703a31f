import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtcdKv } from '../../src/adapters/lock/etcd-kv.js';
import { EtcdLock, listLocks } from '../../src/adapters/lock/etcd-lock.js';
import { delay, waitFor } from '../../src/adapters/proc/wait.js';
import { startTestCluster, type TestCluster } from '../helpers/etcd-cluster.js';

/**
 * The etcd maintenance lock against a real 3-member etcd: racing agents in separate processes never hold it at the
 * same time, tokens only grow, a dead holder's lock frees itself after the TTL (and not before), a stale holder can
 * neither renew nor release its successor's lock, and without quorum nobody gets it.
 */

let cluster: TestCluster;
const kvs: EtcdKv[] = [];
const kvFor = (endpoints = cluster.endpoints) => {
  const kv = new EtcdKv(endpoints, {}, 1500);
  kvs.push(kv);
  return kv;
};

beforeAll(async () => {
  cluster = await startTestCluster(3);
});

afterAll(async () => {
  for (const kv of kvs) kv.close();
  await cluster?.destroy();
});

interface Hold {
  holder: string;
  token: number;
  start: number;
  end: number;
}

/** A racer process: 3 lock instances (own connections each) competing for one lock for `ms`, printing each hold. */
const RACER = `
const [{ EtcdKv }, { EtcdLock }] = await Promise.all([
  import(${JSON.stringify(resolve('dist/adapters/lock/etcd-kv.js'))}),
  import(${JSON.stringify(resolve('dist/adapters/lock/etcd-lock.js'))}),
]);
const [endpoints, name, ms] = [process.argv[1].split(','), process.argv[2], Number(process.argv[3])];
const until = Date.now() + ms;
const sleep = (t) => new Promise((r) => setTimeout(r, t));
await Promise.all([0, 1, 2].map(async (i) => {
  const kv = new EtcdKv(endpoints, {}, 1500);
  const lock = new EtcdLock(kv, 'race');
  const holder = name + '-' + i;
  while (Date.now() < until) {
    let r;
    try { r = await lock.tryAcquire(holder, 'race', 5000); } catch { await sleep(5); continue; }
    if (!r.acquired) { await sleep(Math.random() * 5); continue; }
    const start = Date.now();
    await sleep(2 + Math.random() * 10);
    const mine = (await lock.status()).mine;
    const end = Date.now();
    await lock.release();
    process.stdout.write(JSON.stringify({ holder, token: r.fencingToken, start, end, mine }) + '\\n');
  }
  kv.close();
}));
`;

function racer(name: string, ms: number): Promise<Array<Hold & { mine: boolean }>> {
  return new Promise((done, fail) => {
    const child = spawn(
      process.execPath,
      ['--input-type=module', '-e', RACER, cluster.endpoints.join(','), name, String(ms)],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), ms + 30_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) return fail(new Error(`racer ${name} exited ${code}: ${err}`));
      done(
        out
          .trim()
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l)),
      );
    });
  });
}

describe('etcd maintenance lock', () => {
  it('12 racing agents in 4 processes: never two holders, fencing tokens strictly increase', async () => {
    const holds = (await Promise.all(['p1', 'p2', 'p3', 'p4'].map((p) => racer(p, 5000)))).flat();
    holds.sort((a, b) => a.start - b.start);
    expect(holds.length).toBeGreaterThan(20);
    expect(new Set(holds.map((h) => h.holder.split('-')[0])).size).toBe(4);
    for (const h of holds) expect(h.mine).toBe(true);
    for (let i = 1; i < holds.length; i++) {
      const [prev, next] = [holds[i - 1]!, holds[i]!];
      // Measured holds lie inside the real ones, so any overlap here would be a real double holder.
      expect(next.start, `${next.holder} acquired while ${prev.holder} held the lock`).toBeGreaterThanOrEqual(prev.end);
      expect(next.token).toBeGreaterThan(prev.token);
    }
    expect(await listLocks(kvFor())).toEqual([]);
  }, 60_000);

  it('a holder that dies keeps the lock until its TTL, then loses it to the next; it cannot renew or release after', async () => {
    const dead = new EtcdLock(kvFor(), 'ttl');
    const next = new EtcdLock(kvFor([...cluster.endpoints].reverse()), 'ttl');
    const t0 = Date.now();
    const first = await dead.tryAcquire('cp1', 'reboot', 3000);
    expect(first).toMatchObject({ acquired: true, holder: 'cp1', reason: 'reboot' });
    expect(await dead.renew({ phase: 'rebooting' })).toBe(true);
    const renewedAt = Date.now();
    // "Dies": no more renewals. The other contender keeps trying.
    const refused = await next.tryAcquire('cp2', 'reboot', 3000);
    expect(refused).toMatchObject({ acquired: false, holder: 'cp1', reason: 'reboot', retryAfterMs: 3000 });
    const [view] = await listLocks(kvFor());
    expect(view).toMatchObject({ lock: 'ttl', holder: 'cp1', phase: 'rebooting', fencingToken: first.fencingToken });
    const second = await waitFor(
      'the TTL to free the lock',
      async () => {
        const r = await next.tryAcquire('cp2', 'reboot', 3000);
        return r.acquired ? { ...r, at: Date.now() } : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 50 },
    );
    expect(second.at - renewedAt).toBeGreaterThanOrEqual(2900);
    expect(second.fencingToken!).toBeGreaterThan(first.fencingToken!);
    expect(second.at - t0).toBeLessThan(12_000);
    // The dead holder wakes up: its renewal fails and its release leaves the new holder's lock alone (fencing).
    expect(await dead.renew()).toBe(false);
    await dead.release();
    expect(await next.status()).toMatchObject({ held: true, holder: 'cp2', mine: true });
    expect((await dead.status()).mine).toBe(false);
    await next.release();
    expect(await next.status()).toEqual({ held: false, expired: false, mine: false });
  }, 30_000);

  it('an agent restarted after its reboot resumes its own lock with the same token', async () => {
    const before = new EtcdLock(kvFor(), 'resume');
    const a = await before.tryAcquire('cp3', 'kernel', 10_000);
    const after = new EtcdLock(kvFor(), 'resume');
    const b = await after.tryAcquire('cp3', 'finishing', 10_000);
    expect(b).toMatchObject({ acquired: true, resumed: true, fencingToken: a.fencingToken, reason: 'kernel' });
    expect(await after.renew({ phase: 'recovering' })).toBe(true);
    expect(await new EtcdLock(kvFor(), 'resume').tryAcquire('cp1', 'x', 10_000)).toMatchObject({ acquired: false });
    await after.release();
    expect((await after.status()).held).toBe(false);
  });

  it('one member down: the lock still works; no quorum: nobody gets it (fail-safe)', async () => {
    const lock = new EtcdLock(kvFor(), 'quorum');
    await cluster.stop('m1');
    // If m1 led, the other two need an election first (longer under CI load than the 1.5 s request deadline), and
    // an agent simply asks again: what must hold is that two of three members grant the lock within seconds.
    const withTwo = await waitFor(
      'the two remaining members to grant the lock',
      async () => {
        const r = await lock.tryAcquire('cp2', 'x', 5000).catch(() => undefined);
        return r?.acquired ? r : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 200 },
    );
    expect(withTwo.acquired).toBe(true);
    await lock.release();
    await cluster.stop('m2');
    const started = Date.now();
    await expect(lock.tryAcquire('cp3', 'x', 5000)).rejects.toThrow(/no endpoint could answer|no answer|no leader/);
    expect(Date.now() - started).toBeLessThan(10_000);
    cluster.start('m1');
    cluster.start('m2');
    const back = await waitFor(
      'quorum to return and the lock to be granted',
      async () => {
        const r = await lock.tryAcquire('cp3', 'x', 5000).catch(() => undefined);
        return r?.acquired ? r : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    expect(back.acquired).toBe(true);
    await lock.release();
    await delay(0);
  }, 60_000);
});
