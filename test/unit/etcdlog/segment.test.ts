import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  chainLayout,
  chainStart,
  checkLink,
  type LogObjectName,
  logObjectName,
  parseLogObjectName,
} from '../../../src/domain/etcdlog/chain.js';
import { Keyspace, keyspaceDigest, type Write } from '../../../src/domain/etcdlog/keyspace.js';
import {
  DEFAULT_LOG_POLICY,
  followLag,
  lastRevisionAtOrBefore,
  parsePoint,
  ReplayCursor,
  restoreSources,
  sealDue,
} from '../../../src/domain/etcdlog/replay.js';
import {
  assemblePieces,
  decodeSegment,
  encodeGroups,
  encodeSegment,
  GENESIS_HASH,
  joinSummaries,
  type RevisionGroup,
  summarize,
} from '../../../src/domain/etcdlog/segment.js';

const key = fc.uint8Array({ minLength: 1, maxLength: 6 }).map((a) => Buffer.from(a));
const smallKey = fc.constantFrom(...'abcdefgh'.split('')).map((c) => Buffer.from(`/k/${c}`));
const lease = fc.oneof(fc.constant('0'), fc.bigInt({ min: 1n, max: (1n << 63n) - 1n }).map(String));
const write: fc.Arbitrary<Write> = fc.oneof(
  fc.record({ type: fc.constant('put' as const), key: smallKey, value: key, lease }),
  fc.record({ type: fc.constant('delete' as const), key: smallKey }),
);
/** Transactions as etcd takes them: a key at most once per transaction. */
const txn = fc.uniqueArray(write, { minLength: 1, maxLength: 4, selector: (w) => w.key.toString('latin1') });

/** Runs `txns` through the MVCC model from `start`; returns the log etcd's watch would give. */
function history(start: number, txns: Write[][]): { groups: RevisionGroup[]; model: Keyspace } {
  const model = new Keyspace(start);
  const groups: RevisionGroup[] = [];
  for (const t of txns) {
    const g = model.transact(t);
    if (g) groups.push({ ...g, observedAt: 1_000 * g.revision });
  }
  return { groups, model };
}

describe('log object encoding', () => {
  it('round-trips any revisions (keys, values, create/mod revision, version, lease)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 40 }), fc.array(txn, { minLength: 1, maxLength: 20 }), (s, txns) => {
        const { groups } = history(s, txns);
        fc.pre(groups.length > 0);
        const { bytes, hash, header } = encodeSegment({ chain: 'c1', kind: 'chunk', prev: GENESIS_HASH }, groups);
        const back = decodeSegment(bytes);
        if ('error' in back) throw new Error(back.error);
        expect(back.hash).toBe(hash);
        expect(back.header).toEqual(header);
        expect(back.groups).toEqual(groups);
      }),
    );
  });

  it('a segment sealed from chunk bodies, piece by piece, is the object encoded from all its revisions', () => {
    fc.assert(
      fc.property(
        fc.array(txn, { minLength: 2, maxLength: 20 }),
        fc.array(fc.nat(), { maxLength: 4 }),
        (txns, cuts) => {
          const { groups } = history(1, txns);
          fc.pre(groups.length > 1);
          // The follower's chunks: consecutive runs of revisions, cut at random places.
          const at = [...new Set(cuts.map((c) => 1 + (c % (groups.length - 1))))].sort((a, b) => a - b);
          const runs = [0, ...at].map((from, i) => groups.slice(from, [...at, groups.length][i]));
          const meta = { chain: 'c1', kind: 'segment' as const, prev: 'ab'.repeat(32) };
          const sealed = assemblePieces(meta, joinSummaries(runs.map(summarize)), runs.map(encodeGroups));
          const whole = encodeSegment(meta, groups);
          const joined = Buffer.concat(sealed.pieces);
          expect(joined.equals(whole.bytes)).toBe(true);
          expect(sealed.size).toBe(joined.length);
          expect(sealed.hash).toBe(whole.hash);
        },
      ),
    );
  });

  it('a cut anywhere, or any changed byte, is reported in one line and never decodes', () => {
    const { groups } = history(10, [
      [{ type: 'put', key: Buffer.from('/a'), value: Buffer.from('1') }],
      [{ type: 'put', key: Buffer.from('/b'), value: Buffer.from('2'), lease: '7587' }],
      [{ type: 'delete', key: Buffer.from('/a') }],
    ]);
    const { bytes } = encodeSegment({ chain: 'c', kind: 'segment', prev: GENESIS_HASH }, groups);
    for (let cut = 0; cut < bytes.length; cut++) {
      const r = decodeSegment(bytes.subarray(0, cut));
      expect('error' in r ? r.error : 'decoded').toMatch(/truncated|empty|magic|header|mismatch/);
    }
    for (let at = 0; at < bytes.length; at++) {
      const altered = Buffer.from(bytes);
      altered[at] = altered[at]! ^ 0x01;
      const r = decodeSegment(altered);
      expect('error' in r, `byte ${at}`).toBe(true);
      expect('error' in r && !r.error.includes('\n')).toBe(true);
    }
  });

  it('refuses revisions that do not follow on', () => {
    const g = (revision: number): RevisionGroup => ({
      revision,
      observedAt: 0,
      events: [{ type: 'delete', key: Buffer.from('x') }],
    });
    expect(() => encodeSegment({ chain: 'c', kind: 'chunk', prev: GENESIS_HASH }, [g(3), g(5)])).toThrow(/consecutive/);
    expect(() => encodeSegment({ chain: 'c', kind: 'chunk', prev: GENESIS_HASH }, [])).toThrow();
  });
});

function names(chain: string, ranges: Array<['segment' | 'chunk', number, number]>): LogObjectName[] {
  return ranges.map(([kind, first, last]) => {
    const parsed = parseLogObjectName({
      name: logObjectName(chain, kind, first, last, false),
      size: 10,
      modifiedAt: last,
    });
    if (!parsed) throw new Error('name does not parse');
    return parsed;
  });
}

describe('chain layout', () => {
  it('orders sealed segments then the open chunks, and skips chunks a seal covers', () => {
    const layout = chainLayout(
      'c',
      100,
      names('c', [
        ['chunk', 111, 111],
        ['segment', 101, 105],
        ['chunk', 101, 103],
        ['segment', 106, 110],
        ['chunk', 104, 105],
        ['chunk', 112, 120],
      ]),
    );
    expect(layout.problem).toBeUndefined();
    expect(layout.objects.map((o) => `${o.kind}${o.first}`)).toEqual([
      'segment101',
      'segment106',
      'chunk111',
      'chunk112',
    ]);
    expect(layout.superseded.map((o) => o.first)).toEqual([101, 104]);
    expect(layout.lastRevision).toBe(120);
  });

  it('a chain cut by retention starts after the cut; objects before it (a prune that stopped) are superseded', () => {
    const cutHash = 'ab'.repeat(32);
    const layout = chainLayout(
      'c',
      110,
      names('c', [
        ['segment', 101, 105],
        ['segment', 106, 110],
        ['segment', 111, 115],
        ['chunk', 116, 116],
      ]),
      cutHash,
    );
    expect(layout.problem).toBeUndefined();
    expect(layout.startHash).toBe(cutHash);
    expect(layout.objects.map((o) => o.first)).toEqual([111, 116]);
    expect(layout.superseded.map((o) => o.first)).toEqual([101, 106]);
    expect(
      chainStart({ baseRevision: 100, pruned: { through: 110, prev: cutHash, base: 'b', at: 1 } } as never),
    ).toEqual({ revision: 110, prev: cutHash });
    expect(chainStart({ baseRevision: 100 } as never)).toEqual({ revision: 100, prev: GENESIS_HASH });
  });

  it('names the missing revisions when an object in the middle is gone', () => {
    const layout = chainLayout(
      'c',
      100,
      names('c', [
        ['segment', 101, 105],
        ['segment', 111, 120],
      ]),
    );
    expect(layout.problem).toBe('revisions 106..110 are missing (a log object was deleted?)');
    expect(layout.lastRevision).toBe(105);
    expect(chainLayout('c', 100, names('c', [['chunk', 102, 103]])).problem).toMatch(/101\.\.101 are missing/);
    expect(
      chainLayout(
        'c',
        100,
        names('c', [
          ['segment', 101, 105],
          ['segment', 104, 110],
        ]),
      ).problem,
    ).toMatch(/overlaps/);
  });

  it('parses only its own names', () => {
    expect(parseLogObjectName({ name: 'etcd-log/c/chunk-1-2.lblog', size: 1, modifiedAt: 0 })).toBeUndefined();
    expect(parseLogObjectName({ name: 'etcd/x.db', size: 1, modifiedAt: 0 })).toBeUndefined();
    const enc = parseLogObjectName({ name: logObjectName('a-b', 'segment', 5, 9, true), size: 1, modifiedAt: 0 });
    expect(enc).toMatchObject({ chain: 'a-b', kind: 'segment', first: 5, last: 9, encrypted: true });
  });

  it('checkLink: the hash chain catches a replaced object and a renamed one', () => {
    const { groups } = history(0, [[{ type: 'put', key: Buffer.from('/a'), value: Buffer.from('1') }]]);
    const first = encodeSegment({ chain: 'c', kind: 'segment', prev: GENESIS_HASH }, groups);
    const [o] = names('c', [['segment', 1, 1]]);
    expect(checkLink(o!, decodeSegment(first.bytes), GENESIS_HASH)).toBeUndefined();
    expect(checkLink(o!, decodeSegment(first.bytes), 'ab'.repeat(32))).toMatch(/does not follow/);
    const [renamed] = names('c', [['chunk', 1, 1]]);
    expect(checkLink(renamed!, decodeSegment(first.bytes), GENESIS_HASH)).toMatch(/renamed/);
    expect(checkLink(o!, { error: 'truncated (no trailer)' }, GENESIS_HASH)).toBe(
      'segment-0000000000000001-0000000000000001.lblog: truncated (no trailer)',
    );
  });
});

describe('replay rule against the MVCC model', () => {
  it('the snapshot at S plus the log S+1..T gives exactly the keyspace at T, for every S <= T', () => {
    fc.assert(
      fc.property(fc.array(txn, { minLength: 1, maxLength: 30 }), fc.nat(), fc.nat(), (txns, a, b) => {
        const source = new Keyspace(0);
        const states: Keyspace[] = [Keyspace.of(0, [])];
        const groups: RevisionGroup[] = [];
        for (const t of txns) {
          const g = source.transact(t);
          if (!g) continue;
          groups.push(g);
          states.push(Keyspace.of(source.revision, source.entries()));
        }
        const top = source.revision;
        const s = a % (top + 1);
        const target = s + (b % (top - s + 1));
        const replica = Keyspace.of(s, states[s]!.entries());
        const cursor = new ReplayCursor(s, target);
        for (const g of groups) {
          const step = cursor.accept(g);
          if (step === 'past') break;
          if (typeof step === 'object') throw new Error(step.error);
          if (step === 'apply') expect(replica.apply(g)).toBeUndefined();
        }
        expect(cursor.finish()).toBeUndefined();
        expect(replica.revision).toBe(target);
        expect(replica.entries()).toEqual(states[target]!.entries());
        expect(keyspaceDigest(replica.entries())).toBe(keyspaceDigest(states[target]!.entries()));
      }),
    );
  });

  it('a log that skips a revision or ends early is refused with the revision named', () => {
    const { groups } = history(0, [
      [{ type: 'put', key: Buffer.from('a'), value: Buffer.from('1') }],
      [{ type: 'put', key: Buffer.from('a'), value: Buffer.from('2') }],
      [{ type: 'put', key: Buffer.from('a'), value: Buffer.from('3') }],
    ]);
    const cursor = new ReplayCursor(0, 3);
    expect(cursor.accept(groups[0]!)).toBe('apply');
    expect(cursor.accept(groups[2]!)).toEqual({ error: 'the log jumps from revision 1 to 3' });
    const short = new ReplayCursor(1, 5);
    expect(short.accept(groups[0]!)).toBe('skip');
    expect(short.accept(groups[1]!)).toBe('apply');
    expect(short.finish()).toBe('the log ends at revision 2, before 5');
  });

  it('apply refuses a logged create revision or version etcd could not have written', () => {
    const model = new Keyspace(4);
    const bad: RevisionGroup = {
      revision: 5,
      observedAt: 0,
      events: [
        { type: 'put', key: Buffer.from('k'), value: Buffer.from(''), createRevision: 3, version: 2, lease: '0' },
      ],
    };
    expect(model.apply(bad)).toMatch(/create 3 version 2, expected 5\/1/);
    expect(new Keyspace(1).apply({ ...bad, revision: 9 })).toMatch(/cannot follow revision 1/);
  });

  it('the MVCC model: versions count puts since creation, a delete resets, no-op transactions take no revision', () => {
    const m = new Keyspace(10);
    const k = Buffer.from('k');
    m.transact([{ type: 'put', key: k, value: Buffer.from('1') }]);
    m.transact([{ type: 'put', key: k, value: Buffer.from('2') }]);
    expect(m.get(k)).toMatchObject({ createRevision: 11, modRevision: 12, version: 2 });
    expect(m.transact([{ type: 'delete', key: Buffer.from('absent') }])).toBeUndefined();
    expect(m.revision).toBe(12);
    m.transact([{ type: 'delete', key: k }]);
    m.transact([{ type: 'put', key: k, value: Buffer.from('3') }]);
    expect(m.get(k)).toMatchObject({ createRevision: 14, modRevision: 14, version: 1 });
  });
});

describe('points in time', () => {
  it('parses revisions and zoned ISO times, refuses the rest in one line', () => {
    expect(parsePoint('1234')).toEqual({ revision: 1234 });
    expect(parsePoint('2026-12-02T14:02:00Z')).toEqual({ time: Date.UTC(2026, 11, 2, 14, 2) });
    expect(parsePoint('2026-12-02T15:02+01:00')).toEqual({ time: Date.UTC(2026, 11, 2, 14, 2) });
    expect(parsePoint('0')).toHaveProperty('error');
    expect(parsePoint('2026-12-02 14:02')).toHaveProperty('error');
    expect(parsePoint('yesterday')).toHaveProperty('error');
    // A date that does not exist is refused, not rolled over into March.
    expect(parsePoint('2026-02-30T14:02:00Z')).toEqual({ error: '"2026-02-30T14:02:00Z" is not a valid time' });
  });

  it('a time maps to the newest revision observed at or before it', () => {
    const gs = [1, 2, 3].map((r) => ({ revision: r, observedAt: r * 10, events: [] }));
    expect(lastRevisionAtOrBefore(gs, 25)).toBe(2);
    expect(lastRevisionAtOrBefore(gs, 30)).toBe(3);
    expect(lastRevisionAtOrBefore(gs, 5)).toBeUndefined();
  });

  it('restoreSources: the newest snapshot at or before the point whose chain reaches it, same cluster only', () => {
    const w = (chain: string, from: number, to: number, clusterId = 'A') => ({
      chain,
      fromRevision: from,
      toRevision: to,
      fromTime: 0,
      toTime: 0,
      objects: 1,
      bytes: 1,
      clusterId,
    });
    const snap = (name: string, revision: number, clusterId = 'A') => ({
      name,
      revision,
      createdAt: revision,
      clusterId,
    });
    const chains = [w('c1', 100, 500), w('c2', 600, 900), w('x', 0, 10_000, 'B')];
    const snaps = [snap('s100', 100), snap('s300', 300), snap('s600', 600), snap('s700', 700), snap('a50', 50)];
    expect(restoreSources(400, snaps, chains).map((s) => `${s.base.name}/${s.chain.chain}`)).toEqual([
      's300/c1',
      's100/c1',
    ]);
    expect(restoreSources(800, snaps, chains).map((s) => s.base.name)).toEqual(['s700', 's600']);
    expect(restoreSources(550, snaps, chains)).toEqual([]); // between chains: a gap nobody can restore into
  });
});

describe('follower policy', () => {
  it('seals at the size or the time bound, never an empty segment', () => {
    const p = DEFAULT_LOG_POLICY;
    expect(sealDue({ bytes: 0, since: 0 }, 10 * 60_000, p)).toBe(false);
    expect(sealDue({ bytes: 1, since: 0 }, 5 * 60_000 - 1, p)).toBe(false);
    expect(sealDue({ bytes: 1, since: 0 }, 5 * 60_000, p)).toBe(true);
    expect(sealDue({ bytes: 16 * 1024 * 1024, since: 0 }, 0, p)).toBe(true);
  });

  it('lag: revisions behind the leader and how long the oldest of them has waited', () => {
    expect(followLag(100, { revision: 100, at: 0 }, undefined, 5000)).toEqual({ revisions: 0, seconds: 0 });
    expect(followLag(105, { revision: 100, at: 1000 }, 3000, 5000)).toEqual({ revisions: 5, seconds: 2 });
    expect(followLag(105, { revision: 100, at: 1000 }, undefined, 5000)).toEqual({ revisions: 5, seconds: 4 });
  });
});
