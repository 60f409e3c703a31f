import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chainLayout, type LogObjectName, logObjectName } from '../../../src/domain/etcdlog/chain.js';
import { type LogRetentionInput, planLogRetention } from '../../../src/domain/etcdlog/retention.js';

/**
 * Chain-aware retention against a brute-force oracle: every revision is given a time (T(r) = 10 r ms), so "the
 * points of the last windowMs" can be listed revision by revision, and "restorable" is checked from first
 * principles (a snapshot at or before the point, inside the chain, and every revision after it up to the point in an
 * object of that chain that starts right after the chain's start).
 */

const T = (revision: number) => revision * 10;

type Chain = LogRetentionInput['chains'][number];
type Snapshot = LogRetentionInput['snapshots'][number];

function object(chain: string, kind: 'segment' | 'chunk', first: number, last: number, lag: number): LogObjectName {
  return {
    name: logObjectName(chain, kind, first, last, false),
    chain,
    kind,
    first,
    last,
    encrypted: false,
    size: 100,
    modifiedAt: T(last) + lag,
  };
}

const chainSpec = fc.record({
  gap: fc.integer({ min: 0, max: 5 }),
  sizes: fc.array(fc.integer({ min: 1, max: 6 }), { maxLength: 7 }),
  chunks: fc.integer({ min: 0, max: 2 }),
  baseStored: fc.boolean(),
  broken: fc.integer({ min: 0, max: 9 }),
});
const clusterSpec = fc.record({
  chains: fc.array(chainSpec, { minLength: 1, maxLength: 3 }),
  extraSnapshots: fc.uniqueArray(fc.nat({ max: 80 }), { maxLength: 6 }),
});
const scenario = fc.record({
  clusters: fc.array(clusterSpec, { minLength: 1, maxLength: 2 }),
  kept: fc.array(fc.boolean(), { minLength: 40, maxLength: 40 }),
  lags: fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 40, maxLength: 40 }),
  nowAfter: fc.nat({ max: 300 }),
  window: fc.nat({ max: 1000 }),
});

type Scenario = typeof scenario extends fc.Arbitrary<infer S> ? S : never;

function build(s: Scenario): { input: LogRetentionInput; last: Map<string, number> } {
  const chains: Chain[] = [];
  const snapshots: Snapshot[] = [];
  const last = new Map<string, number>();
  let n = 0;
  const kept = () => s.kept[n++ % s.kept.length]!;
  const lag = () => s.lags[n % s.lags.length]!;
  s.clusters.forEach((cl, ci) => {
    const clusterId = `c${ci}`;
    let rev = 1;
    cl.chains.forEach((spec, k) => {
      rev += spec.gap;
      const chain = `${clusterId}-chain${k}`;
      const start = rev;
      if (spec.baseStored) {
        snapshots.push({ name: `${chain}-base`, revision: start, createdAt: T(start), clusterId, kept: kept() });
      }
      const objects: LogObjectName[] = [];
      spec.sizes.forEach((size, i) => {
        const kind = i >= spec.sizes.length - spec.chunks ? 'chunk' : 'segment';
        objects.push(object(chain, kind, rev + 1, rev + size, lag()));
        rev += size;
      });
      // A problem: the layout stops before a missing object (what chainLayout gives for a deleted one).
      const broken = spec.broken === 0 && objects.length > 1;
      chains.push({
        chain,
        clusterId,
        start,
        objects: broken ? objects.slice(0, 1) : objects,
        ...(broken ? { problem: 'revisions are missing' } : {}),
      });
    });
    for (const r of cl.extraSnapshots) {
      if (r < 1 || r > rev) continue;
      snapshots.push({ name: `${clusterId}-snap${r}`, revision: r, createdAt: T(r), clusterId, kept: kept() });
    }
    last.set(clusterId, rev);
  });
  const maxRev = Math.max(...last.values());
  return { input: { now: T(maxRev) + s.nowAfter, windowMs: s.window, snapshots, chains }, last };
}

/** After the plan: snapshots GFS keeps or the plan keeps; chains with their objects and starts. */
function apply(input: LogRetentionInput, plan: ReturnType<typeof planLogRetention>) {
  const extra = new Set(plan.keepSnapshots.map((k) => k.name));
  const snapshots = input.snapshots.filter((s) => s.kept || extra.has(s.name));
  const chains = input.chains.flatMap((c) => {
    const p = plan.chains.find((x) => x.chain === c.chain);
    if (!p) return [c];
    if (p.deleteChain) return [];
    const gone = new Set(p.remove.map((o) => o.name));
    return [{ ...c, start: p.cut?.through ?? c.start, objects: c.objects.filter((o) => !gone.has(o.name)) }];
  });
  return { snapshots, chains };
}

function restorable(clusterId: string, revision: number, state: { snapshots: Snapshot[]; chains: Chain[] }): boolean {
  for (const c of state.chains) {
    if (c.clusterId !== clusterId) continue;
    // Objects must start right after the chain's start and follow on.
    let covered = c.start;
    for (const o of [...c.objects].sort((a, b) => a.first - b.first)) {
      if (o.first !== covered + 1) break;
      covered = o.last;
    }
    if (covered < revision) continue;
    if (state.snapshots.some((s) => s.clusterId === clusterId && s.revision >= c.start && s.revision <= revision)) {
      return true;
    }
  }
  return false;
}

describe('change log retention (planLogRetention) against a brute-force oracle', () => {
  it('every point of the window and the newest point stay restorable; GFS keeps and broken chains are untouched', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const { input, last } = build(s);
        const plan = planLogRetention(input);
        const after = apply(input, plan);
        const horizon = input.now - input.windowMs;
        for (const [clusterId, maxRev] of last) {
          // The points of the window: every revision written at or after the horizon, and the one current at it.
          const inWindow: number[] = [];
          for (let r = 1; r <= maxRev; r++) if (T(r) >= horizon || T(r + 1) >= horizon) inWindow.push(r);
          for (const r of inWindow) {
            if (restorable(clusterId, r, input)) expect(restorable(clusterId, r, after), `revision ${r}`).toBe(true);
          }
          let newest = 0;
          for (let r = maxRev; r >= 1 && !newest; r--) if (restorable(clusterId, r, input)) newest = r;
          if (newest) expect(restorable(clusterId, newest, after), `newest ${newest}`).toBe(true);
        }
        for (const p of plan.chains) {
          const c = input.chains.find((x) => x.chain === p.chain)!;
          expect(c.problem).toBeUndefined();
          for (const o of p.remove) expect(c.objects).toContain(o);
          if (!p.deleteChain) {
            // A cut chain still lays out without a problem from its new start.
            const kept = after.chains.find((x) => x.chain === p.chain)!;
            expect(p.remove.every((o) => o.kind === 'segment')).toBe(true);
            expect(chainLayout(c.chain, kept.start, c.objects).problem).toBeUndefined();
            expect(chainLayout(c.chain, kept.start, kept.objects).problem).toBeUndefined();
          }
        }
        for (const k of plan.keepSnapshots) expect(input.snapshots.find((x) => x.name === k.name)?.kept).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });

  it('it does delete: a superseded chain outside the window goes whole, a long chain loses its head', () => {
    const objs = (chain: string, from: number, count: number) =>
      Array.from({ length: count }, (_, i) => object(chain, 'segment', from + 1 + 10 * i, from + 10 * (i + 1), 0));
    const old = objs('old', 0, 5); // revisions 1..50
    const cur = objs('cur', 60, 10); // revisions 61..160
    const input: LogRetentionInput = {
      now: T(160),
      windowMs: T(160) - T(125), // points from revision 125 on
      snapshots: [
        { name: 'base-old', revision: 0, createdAt: 0, clusterId: 'x', kept: false },
        { name: 'base-cur', revision: 60, createdAt: T(60), clusterId: 'x', kept: true },
        { name: 'daily', revision: 100, createdAt: T(100), clusterId: 'x', kept: false },
      ],
      chains: [
        { chain: 'old', clusterId: 'x', start: 0, objects: old },
        { chain: 'cur', clusterId: 'x', start: 60, objects: cur },
      ],
    };
    const plan = planLogRetention(input);
    expect(plan.chains.find((c) => c.chain === 'old')).toEqual({ chain: 'old', remove: old, deleteChain: true });
    // The window starts in 121..130; the object before it is 111..120, so the replay base is 'daily' (100).
    expect(plan.keepSnapshots).toEqual([{ name: 'daily', chain: 'cur' }]);
    expect(plan.chains.find((c) => c.chain === 'cur')).toEqual({
      chain: 'cur',
      remove: cur.slice(0, 4),
      deleteChain: false,
      cut: { through: 100, base: 'daily', baseCreatedAt: T(100) },
    });
  });

  it('a chain with no objects yet, and the only chain, are never deleted however old', () => {
    const lone = [object('lone', 'segment', 11, 20, 0)];
    const plan = planLogRetention({
      now: 10 ** 9,
      windowMs: 1,
      snapshots: [{ name: 'b', revision: 10, createdAt: T(10), clusterId: 'x', kept: true }],
      chains: [
        { chain: 'lone', clusterId: 'x', start: 10, objects: lone },
        { chain: 'fresh', clusterId: 'x', start: 20, objects: [] },
      ],
    });
    expect(plan).toEqual({ keepSnapshots: [], chains: [] });
  });
});
