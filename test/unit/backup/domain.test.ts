import { describe, expect, it } from 'vitest';
import { buildCatalog, newestVerified, planPrune } from '../../../src/domain/backup/catalog.js';
import { type BackupManifest, MANIFEST_FORMAT, parseManifest } from '../../../src/domain/backup/manifest.js';
import {
  manifestNameFor,
  parseSnapshotName,
  parseStamp,
  safeClusterName,
  snapshotName,
  snapshotOfManifest,
} from '../../../src/domain/backup/naming.js';
import { nextRunAt, shouldVerify } from '../../../src/domain/backup/schedule.js';
import { chooseSource } from '../../../src/domain/backup/source.js';
import { compareRestore, storedHashProblem } from '../../../src/domain/backup/verify.js';
import { helmCaptureCatalog } from '../../../src/domain/helm/captures.js';
import { dumpBackupName, dumpName } from '../../../src/domain/mysql/manifest.js';
import type { EndpointProbe } from '../../../src/domain/probe.js';

const T = Date.UTC(2026, 10, 27, 15, 9, 5, 123);

function manifest(over: Partial<BackupManifest> = {}): BackupManifest {
  return {
    format: MANIFEST_FORMAT,
    name: snapshotName(T, 'home', false),
    location: '/b/etcd/x.db',
    clusterId: '1',
    memberId: '2',
    memberName: 'cp2',
    endpoint: 'http://127.0.0.1:2379',
    revision: 100,
    raftIndex: 120,
    raftTerm: 2,
    etcdVersion: '3.4.23',
    size: 1000,
    sha256: 'aa',
    plaintextSize: 1000,
    plaintextSha256: 'aa',
    hashKV: { hash: 42, revision: 100, compactRevision: -1 },
    keys: 10,
    createdAt: new Date(T).toISOString(),
    seconds: 1,
    toolVersion: '0.1.0',
    encrypted: false,
    verified: null,
    ...over,
  };
}

describe('snapshot names', () => {
  it('round-trips the instant, cluster and encryption, and sorts chronologically as text', () => {
    const name = snapshotName(T, 'home', true);
    expect(name).toBe('etcd/2026-11-27T150905.123Z-home.db.age');
    expect(parseSnapshotName(name)).toEqual({ name, createdAt: T, cluster: 'home', encrypted: true });
    expect(snapshotName(T, 'home', false) < snapshotName(T + 1, 'home', false)).toBe(true);
    expect(snapshotOfManifest(manifestNameFor(name))).toBe(name);
  });

  it('makes any cluster name safe and refuses strangers', () => {
    expect(safeClusterName('my cluster/../x')).toBe('my-cluster-..-x');
    expect(safeClusterName(undefined)).toBe('etcd');
    expect(parseSnapshotName('etcd/2026-13-45T150905.123Z-home.db')).toBeUndefined();
    expect(parseSnapshotName('etcd/x.db')).toBeUndefined();
    expect(parseSnapshotName(manifestNameFor(snapshotName(T, 'a', false)))).toBeUndefined();
  });
});

describe('manifest', () => {
  it('parses what it writes and keeps unknown fields', () => {
    const text = JSON.stringify({ ...manifest(), futureField: 1 });
    const parsed = parseManifest(text);
    expect('manifest' in parsed && parsed.manifest.futureField).toBe(1);
    expect(parseManifest('{')).toEqual({ error: 'not valid JSON' });
    expect(parseManifest('{"format":"x"}')).toMatchObject({ error: expect.stringContaining('format') });
  });
});

describe('restore comparison', () => {
  const expected = { revision: 100, keys: 10, hashKV: { hash: 42, revision: 100, compactRevision: -1 } };
  it('passes when revision, keys and HashKV agree (a newer restored revision is fine)', () => {
    expect(compareRestore(expected, { revision: 103, keys: 10, hashKV: 42 })).toEqual({
      ok: true,
      hashKVMatch: true,
      problems: [],
    });
  });
  it('names each failed check', () => {
    const r = compareRestore(expected, { revision: 99, keys: 9, hashKV: 7 });
    expect(r.ok).toBe(false);
    expect(r.hashKVMatch).toBe(false);
    expect(r.problems.join('\n')).toMatch(/revision: .*99.*100/);
    expect(r.problems.join('\n')).toMatch(/key count .*9 restored.*10/);
    expect(r.problems.join('\n')).toMatch(/HashKV mismatch/);
  });
  it('has nothing to compare without a manifest or a recorded hash', () => {
    expect(compareRestore(undefined, { revision: 5, keys: 3, hashKV: 1 })).toMatchObject({
      ok: true,
      hashKVMatch: null,
    });
    expect(
      compareRestore({ ...expected, hashKV: null }, { revision: 100, keys: 10, hashKV: 1 }).hashKVMatch,
    ).toBeNull();
  });
  it('checks the stored bytes against the manifest', () => {
    expect(storedHashProblem(manifest(), 1000, 'aa')).toEqual([]);
    expect(storedHashProblem(manifest(), 999, 'aa')[0]).toMatch(/size/);
    expect(storedHashProblem(manifest(), 1000, 'bb')[0]).toMatch(/sha256/);
  });
});

function probe(endpoint: string, id: string, leader: string, over: Partial<EndpointProbe> = {}): EndpointProbe {
  return {
    endpoint,
    elapsedMs: 1,
    linearizableRead: true,
    status: {
      memberId: id,
      leaderId: leader,
      version: '3.4.23',
      dbSize: 1,
      raftTerm: 2,
      raftIndex: 10,
      raftAppliedIndex: Number(id) * 10,
      isLearner: false,
      errors: [],
    },
    ...over,
  };
}

describe('source member', () => {
  it('prefers the most up-to-date healthy follower', () => {
    const c = chooseSource([probe('a', '1', '1'), probe('b', '2', '1'), probe('c', '3', '1')]);
    expect(c).toMatchObject({ endpoint: 'c', role: 'follower', warnings: [] });
  });
  it('falls back to the leader, then to any member that answers (with a warning)', () => {
    expect(chooseSource([probe('a', '1', '1'), { endpoint: 'b', elapsedMs: 1, error: 'refused' }])).toMatchObject({
      endpoint: 'a',
      role: 'leader',
    });
    const lost = chooseSource([
      probe('a', '1', '0', { linearizableRead: false }),
      { endpoint: 'b', elapsedMs: 1, error: 'x' },
    ]);
    expect(lost).toMatchObject({ endpoint: 'a', role: 'member-without-quorum' });
    expect('warnings' in lost && lost.warnings[0]).toMatch(/no healthy member/);
    expect(chooseSource([{ endpoint: 'b', elapsedMs: 1, error: 'refused' }])).toEqual({
      error: 'no etcd member answered (refused)',
    });
  });
});

describe('catalog and prune', () => {
  const H = 3_600_000;
  const names = [0, 1, 2, 3].map((i) => snapshotName(T - i * H, 'home', false));
  const objects = [
    ...names.map((name) => ({ name, size: 100, modifiedAt: T })),
    ...names.slice(0, 3).map((n) => ({ name: manifestNameFor(n), size: 1, modifiedAt: T })),
    { name: manifestNameFor(snapshotName(T - 9 * H, 'home', false)), size: 1, modifiedAt: T },
    { name: 'etcd/unrelated.txt', size: 1, modifiedAt: T },
  ];
  const manifests = new Map(names.slice(0, 3).map((n) => [n, manifest({ name: n })] as const));
  manifests.set(
    names[2]!,
    manifest({
      name: names[2]!,
      verified: { ok: true, at: '', revision: 1, keys: 1, hashKVMatch: true, seconds: 1, problems: [] },
    }),
  );
  const catalog = buildCatalog(objects, (n) => (manifests.has(n) ? { manifest: manifests.get(n)! } : undefined));

  it('lists snapshots newest first with their verification, and finds orphan manifests', () => {
    expect(catalog.entries.map((e) => e.name)).toEqual(names);
    expect(catalog.entries.map((e) => e.verified)).toEqual([null, null, true, null]);
    expect(newestVerified(catalog)?.name).toBe(names[2]);
    expect(catalog.orphanManifests).toEqual([manifestNameFor(snapshotName(T - 9 * H, 'home', false))]);
  });

  it('removes a snapshot together with its manifest and never the newest verified one', () => {
    const plan = planPrune(catalog, { keepLast: 1 }, T + H);
    expect(plan.keep.map((k) => k.name)).toEqual([names[0], names[2]]);
    expect(plan.remove.map((r) => r.objects)).toEqual([[names[1], manifestNameFor(names[1]!)], [names[3]]]);
  });
});

describe('MySQL dumps in the catalog', () => {
  const H = 3_600_000;
  const shop = [0, 1, 2].map((i) => dumpName(T - i * H, 'shop', false));
  const blog = [dumpName(T - 5 * H, 'blog', true)];
  const objects = [...shop, ...blog, 'mysql/notes.txt', 'etcd/x.db'].map((name) => ({ name, size: 10, modifiedAt: T }));
  const verifiedShop = { verified: { ok: true } };
  const catalog = buildCatalog(
    objects,
    (n) => (n === shop[2] ? { manifest: verifiedShop } : n === shop[0] ? { error: 'truncated' } : undefined),
    dumpBackupName,
  );

  it('reads dumps only, grouped by source, newest first', () => {
    expect(catalog.entries.map((e) => [e.name, e.group, e.encrypted, e.verified])).toEqual([
      [shop[0], 'shop', false, null],
      [shop[1], 'shop', false, null],
      [shop[2], 'shop', false, true],
      [blog[0], 'blog', true, null],
    ]);
    expect(catalog.entries[0]!.manifestError).toBe('truncated');
  });

  it('applies retention to each database on its own, keeping its newest verified dump', () => {
    const plan = planPrune(catalog, { keepLast: 1 }, T + H);
    expect(plan.keep.map((k) => k.name).sort()).toEqual([blog[0], shop[0], shop[2]].sort());
    // A dump with a manifest goes with it; a dump without one goes alone.
    expect(plan.remove.map((r) => r.objects)).toEqual([[shop[1]]]);
    expect(planPrune(catalog, {}, T + H).remove).toEqual([]);
    // A policy per source: blog has none, so all of blog is kept.
    const perSource = planPrune(catalog, (source) => (source === 'shop' ? { keepLast: 1 } : {}), T + H);
    expect(perSource.remove.map((r) => r.name)).toEqual([shop[1]]);
    expect(perSource.keep.find((k) => k.name === blog[0])?.reasons).toEqual(['no-policy']);
  });

  it('dates names by their stamp and refuses impossible ones', () => {
    expect(dumpBackupName(shop[0]!)).toEqual({ createdAt: T, encrypted: false, group: 'shop' });
    expect(parseStamp('2026-02-30T000000.000Z')).toBeUndefined();
    expect(parseStamp('2026-02-28T240000.000Z')).toBeUndefined();
    expect(parseStamp('2026-02-28T120960.000Z')).toBeUndefined();
    expect(parseStamp('2026-02-28T126000.000Z')).toBeUndefined();
    expect(parseStamp('2026-02-28T235959.999Z')).toBe(Date.UTC(2026, 1, 28, 23, 59, 59, 999));
  });
});

describe('Helm captures in the catalog', () => {
  const at = (stamp: string, files: string[]) =>
    files.map((f) => ({ name: `helm/${stamp}/${f}`, size: 10, modifiedAt: T }));
  const objects = [
    ...at('20261127T150905Z', ['apps/shop/release.json.age', 'index.json', 'apps/shop/chart.tgz.age']),
    ...at('20261120T150905Z', ['index.json', 'apps/shop/release.json']),
    // Still being written: no index.json, so no capture, and nothing of it is ever planned for deletion.
    ...at('20261128T000000Z', ['apps/shop/release.json']),
    ...at('not-a-stamp', ['index.json']),
  ];
  const catalog = helmCaptureCatalog(objects);

  it('sees complete captures only, newest first, with every file and the index last', () => {
    expect(catalog.entries.map((e) => [e.name, e.size, e.encrypted, e.objects])).toEqual([
      [
        'helm/20261127T150905Z',
        30,
        true,
        [
          'helm/20261127T150905Z/apps/shop/chart.tgz.age',
          'helm/20261127T150905Z/apps/shop/release.json.age',
          'helm/20261127T150905Z/index.json',
        ],
      ],
      [
        'helm/20261120T150905Z',
        20,
        false,
        ['helm/20261120T150905Z/apps/shop/release.json', 'helm/20261120T150905Z/index.json'],
      ],
    ]);
    expect(catalog.entries[1]!.createdAt).toBe(Date.UTC(2026, 10, 20, 15, 9, 5));
  });

  it('prunes a capture with all its files', () => {
    const plan = planPrune(catalog, { keepLast: 1 }, Date.UTC(2026, 11, 1));
    expect(plan.keep.map((k) => k.name)).toEqual(['helm/20261127T150905Z']);
    expect(plan.remove.map((r) => r.objects)).toEqual([catalog.entries[1]!.objects]);
  });
});

describe('schedule', () => {
  it('stays on the grid anchored at the first run and skips missed slots', () => {
    expect(nextRunAt(1000, 100, 1000)).toBe(1100);
    expect(nextRunAt(1000, 100, 1099)).toBe(1100);
    expect(nextRunAt(1000, 100, 1350)).toBe(1400);
    expect(nextRunAt(1000, 100, 900)).toBe(1000);
  });
  it('verifies the first run and every Nth after it', () => {
    expect([1, 2, 3, 4, 5, 6, 7].filter((r) => shouldVerify(r, 3))).toEqual([1, 4, 7]);
    expect([1, 2, 3].filter((r) => shouldVerify(r, 1))).toEqual([1, 2, 3]);
    expect([1, 2].filter((r) => shouldVerify(r, 0))).toEqual([]);
  });
});
