import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BoltFileWriter, openBoltFile } from '../../src/adapters/bbolt/file.js';
import { EtcdConnection } from '../../src/adapters/etcd/connection.js';
import { BackendReplay, backendSnapshotChunks } from '../../src/adapters/etcdlog/backend-replay.js';
import { streamSnapshot } from '../../src/adapters/snapshot/stream.js';
import { LocalStore } from '../../src/adapters/store/local.js';
import { startRestoredMember } from '../../src/adapters/verify/drill.js';
import { snapshotStatus } from '../../src/adapters/verify/restore.js';
import { Scratch } from '../../src/adapters/verify/scratch.js';
import { readKeyspace } from '../../src/app/etcdlog/restore.js';
import { BucketWriter, writeRootBucket } from '../../src/domain/bbolt/tree.js';
import { Keyspace, type Write } from '../../src/domain/etcdlog/keyspace.js';
import type { RevisionGroup } from '../../src/domain/etcdlog/segment.js';
import { startTestCluster, type TestCluster } from '../helpers/etcd-cluster.js';

/**
 * The replay that writes etcd's backend itself (ADR 015), read by the real thing: a snapshot of a real etcd, plus
 * logged revisions (puts over old keys, deletes, multi-key transactions, a lease the snapshot does not hold, a value
 * big enough for overflow pages, enough keys for several branch levels), written as a new bbolt file; then the
 * installed etcd's own `snapshot restore` (etcdctl on 3.4, etcdutl on 3.5) and an etcd started on it must serve
 * exactly the keys, values, create/mod revisions, versions and leases the log describes, at the logged revision.
 */

describe('a backend written by the replay, read by a real etcd', () => {
  let cluster: TestCluster;
  let dir: string;
  let conn: EtcdConnection;

  beforeAll(async () => {
    cluster = await startTestCluster(1);
    dir = mkdtempSync(join(tmpdir(), 'lifeboat-backend-'));
    conn = new EtcdConnection(cluster.endpoints[0]!, {});
  }, 60_000);

  afterAll(async () => {
    conn?.close();
    await cluster?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const txn = (success: unknown[]) => conn.unary('KV', 'Txn', { compare: [], success, failure: [] }, 10_000);
  const put = (key: string, value: string, lease = '0') => ({
    request_put: { key: Buffer.from(key), value: Buffer.from(value), lease },
  });

  it('etcd restores it and serves the logged keyspace, revisions, versions and leases', async () => {
    // The source: keys overwritten and deleted, one under a lease, a compaction (the base holds compacted history).
    const lease = (await conn.unary<{ ID: string }>('Lease', 'LeaseGrant', { TTL: '600', ID: '0' }, 10_000)).ID;
    for (let i = 0; i < 30; i++) await txn([put(`/a/${i % 7}`, `v${i}`), put(`/b/${i}`, 'x')]);
    await txn([put('/leased/base', 'l', String(lease))]);
    await txn([{ request_delete_range: { key: Buffer.from('/b/3') } }]);
    const status = await conn.unary<{ header: { revision: string } }>('Maintenance', 'Status', {}, 10_000);
    const sourceRevision = Number(status.header.revision);
    await conn.unary('KV', 'Compact', { revision: String(sourceRevision - 5), physical: true }, 10_000);
    const base = join(dir, 'base.db');
    const saved = spawnSync('etcdctl', ['--endpoints', cluster.endpoints[0]!, 'snapshot', 'save', base], {
      encoding: 'utf8',
      env: { ...process.env, ETCDCTL_API: '3' },
    });
    expect(saved.status, saved.stderr).toBe(0);

    // The log: what the model of etcd's MVCC rules says these writes give, revision after revision.
    const model = Keyspace.of(sourceRevision, (await readKeyspace(cluster.endpoints[0]!, sourceRevision)).entries());
    const groups: RevisionGroup[] = [];
    const write = (writes: Write[]) => {
      const g = model.transact(writes);
      if (g) groups.push(g);
    };
    const k = (s: string) => Buffer.from(s);
    const newLease = '7587887999999999999'; // above 2^53: lease ids are int64
    write([{ type: 'put', key: k('/a/1'), value: k('over') }]); // an old key: create revision kept, version + 1
    write([
      { type: 'delete', key: k('/a/2') },
      { type: 'put', key: k('/a/2'), value: k('again') },
      { type: 'put', key: k('/new/x'), value: k('x'), lease: newLease },
    ]);
    write([{ type: 'put', key: k('/big'), value: Buffer.alloc(50_000, 7) }]); // overflow pages
    for (let i = 0; i < 4000; i++) {
      write([{ type: 'put', key: k(`/many/${String(i).padStart(5, '0')}`), value: Buffer.alloc(200, i % 256) }]);
    }
    write([
      { type: 'delete', key: k('/a/4') },
      { type: 'delete', key: k('/many/00007') },
    ]);
    write([{ type: 'put', key: k('/leased/base'), value: k('still'), lease: String(lease) }]);

    const backend = join(dir, 'point.backend');
    const replay = new BackendReplay(base, backend);
    expect(replay.baseRevision).toBe(sourceRevision);
    for (const g of groups) replay.apply(g);
    expect(() => replay.apply({ ...groups[0]!, revision: model.revision + 2 })).toThrow(/gap/);
    replay.finish();

    // Several branch levels in the key bucket, and the file is what the tree reader reads back.
    const f = openBoltFile(backend);
    try {
      const keyBucket = f.reader.bucket('key')!;
      expect([...f.reader.entries(keyBucket)].length).toBeGreaterThan(4000);
    } finally {
      f.close();
    }

    const point = join(dir, 'point.db');
    const pending = await new LocalStore(dir).create('point.db');
    const streamed = await streamSnapshot(backendSnapshotChunks(backend), pending.stream);
    expect(streamed.check.problem).toBeUndefined();
    await pending.commit();
    expect((await snapshotStatus(point)).revision).toBe(model.revision);

    const scratch = new Scratch(dir);
    try {
      const member = await startRestoredMember(point, scratch);
      const restored = await readKeyspace(member.clientUrl, model.revision);
      expect(restored.revision).toBe(model.revision);
      const plain = (ks: Keyspace) =>
        ks.entries().map((s) => ({ ...s, key: s.key.toString('hex'), value: s.value.toString('hex') }));
      expect(plain(restored)).toEqual(plain(model));
      const restoredConn = new EtcdConnection(member.clientUrl, {});
      try {
        const st = await restoredConn.unary<{ header: { revision: string } }>('Maintenance', 'Status', {}, 10_000);
        expect(Number(st.header.revision)).toBe(model.revision);
        // The compaction the base held still holds: revisions before it are gone.
        await expect(
          restoredConn.unary('KV', 'Range', { key: k('/a/1'), revision: String(sourceRevision - 10) }, 10_000),
        ).rejects.toThrow(/compacted/);
        const leases = await restoredConn.unary<{ leases: Array<{ ID: string }> }>('Lease', 'LeaseLeases', {}, 10_000);
        expect(leases.leases.map((l) => String(l.ID)).sort()).toEqual([String(lease), newLease].sort());
        const ttlRun = spawnSync(
          'etcdctl',
          [
            '--endpoints',
            member.clientUrl,
            'lease',
            'timetolive',
            BigInt(newLease).toString(16),
            '--keys',
            '-w',
            'json',
          ],
          { encoding: 'utf8', env: { ...process.env, ETCDCTL_API: '3' } },
        );
        expect(ttlRun.status, ttlRun.stderr).toBe(0);
        const ttl = JSON.parse(ttlRun.stdout) as { 'granted-ttl': number; keys: string[] };
        expect(ttl['granted-ttl']).toBe(3600);
        expect(ttl.keys.map((x) => Buffer.from(x, 'base64').toString())).toEqual(['/new/x']);
        // It takes writes on top: the next revision follows the logged one.
        const next = await restoredConn.unary<{ header: { revision: string } }>(
          'KV',
          'Txn',
          { compare: [], success: [put('/after', '1')], failure: [] },
          10_000,
        );
        expect(Number(next.header.revision)).toBe(model.revision + 1);
      } finally {
        restoredConn.close();
      }
    } finally {
      await scratch.cleanup();
    }
  }, 120_000);

  it('a file without the key and meta buckets is refused; one without keys is at revision 1', () => {
    const file = join(dir, 'not-etcd.db');
    const w = new BoltFileWriter(file, 4096);
    const b = new BucketWriter(4096, w.alloc, w.sink);
    b.add(Buffer.from('k'), Buffer.from('v'));
    const root = writeRootBucket(4096, w.alloc, w.sink, [
      { name: Buffer.from('other'), header: { root: b.finish(), sequence: 0n } },
    ]);
    w.finish({ root: { root, sequence: 0n }, txid: 1 });
    expect(() => new BackendReplay(file, join(dir, 'out.db'))).toThrow(/not an etcd backend/);

    // A backend without a single key (a fresh etcd) is at revision 1: the log continues at 2.
    const empty = join(dir, 'empty.db');
    const e = new BoltFileWriter(empty, 4096);
    const buckets = ['key', 'meta'].map((name) => ({
      name: Buffer.from(name),
      header: { root: new BucketWriter(4096, e.alloc, e.sink).finish(), sequence: 0n },
    }));
    e.finish({ root: { root: writeRootBucket(4096, e.alloc, e.sink, buckets), sequence: 0n }, txid: 1 });
    const replay = new BackendReplay(empty, join(dir, 'from-empty.db'));
    expect(replay.baseRevision).toBe(1);
    replay.apply({ revision: 2, observedAt: 0, events: [{ type: 'delete', key: Buffer.from('x') }] });
    replay.finish();
  });

  it('a restored member whose port another process took in the meantime comes up on fresh ports', async () => {
    // Free ports are probed, then bound by etcd a moment later: parallel drills can take one in between. Hold the
    // client port we hand in, as such a neighbour would.
    const base = join(dir, 'base.db');
    const holder = createServer();
    await new Promise<void>((done) => holder.listen(0, '127.0.0.1', done));
    const taken = `http://127.0.0.1:${(holder.address() as AddressInfo).port}`;
    const scratch = new Scratch(dir);
    try {
      const member = await startRestoredMember(base, scratch, { clientUrl: taken });
      expect(member.clientUrl).not.toBe(taken);
      const served = new EtcdConnection(member.clientUrl, {});
      try {
        const res = await served.unary<{ kvs: unknown[] }>('KV', 'Range', { key: Buffer.from('/a/0') }, 10_000);
        expect(res.kvs).toHaveLength(1);
      } finally {
        served.close();
      }
    } finally {
      await scratch.cleanup();
      holder.close();
    }
  }, 60_000);
});
