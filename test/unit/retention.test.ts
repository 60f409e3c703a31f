import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planPrune } from '../../src/domain/backup/catalog.js';
import { applyRetention, isoWeek, keepsNothing, type RetainedItem } from '../../src/domain/retention.js';

const HOUR = 3_600_000;
const now = Date.UTC(2026, 10, 27, 12, 0, 0);

function hourly(count: number, verifiedAt: number[] = []): RetainedItem[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `b${i}`,
    createdAt: now - i * HOUR,
    verified: verifiedAt.includes(i),
  }));
}

describe('GFS retention', () => {
  it('keepLast keeps the newest N and removes the rest', () => {
    const d = applyRetention(hourly(10), { keepLast: 3 }, now);
    expect(d.keep.map((k) => k.id)).toEqual(['b0', 'b1', 'b2']);
    expect(d.remove).toHaveLength(7);
  });

  it('daily keeps the newest backup of each of the last N days', () => {
    const items = hourly(72); // three days and a bit of hourly backups
    const d = applyRetention(items, { daily: 2 }, now);
    // 12:00 today back to 00:00 today is one day; the next kept is 23:00 yesterday.
    expect(d.keep.map((k) => k.id)).toEqual(['b0', 'b13']);
  });

  it('never removes the newest verified backup, even when no rule keeps it', () => {
    const d = applyRetention(hourly(10, [7]), { keepLast: 2 }, now);
    expect(d.keep.find((k) => k.id === 'b7')?.reasons).toEqual(['newest-verified']);
    expect(d.remove).not.toContain('b7');
  });

  it('an empty policy deletes nothing; future-dated backups are kept', () => {
    expect(applyRetention(hourly(5), {}, now).remove).toEqual([]);
    const future = [{ id: 'f', createdAt: now + 10 * HOUR, verified: false }, ...hourly(3)];
    expect(applyRetention(future, { keepLast: 1 }, now).keep.map((k) => k.id)).toEqual(['f', 'b0']);
  });

  it('labels ISO weeks (Monday start, week with the first Thursday)', () => {
    expect(isoWeek(Date.UTC(2026, 0, 1))).toBe('2026-W01'); // a Thursday
    expect(isoWeek(Date.UTC(2027, 0, 1))).toBe('2026-W53'); // a Friday: still 2026's last week
    expect(isoWeek(Date.UTC(2026, 10, 23))).toBe('2026-W48'); // Monday
    expect(isoWeek(Date.UTC(2026, 10, 29))).toBe('2026-W48'); // Sunday
  });

  const item = fc.record({
    id: fc.uuid(),
    createdAt: fc.integer({ min: now - 400 * 24 * HOUR, max: now + 2 * HOUR }),
    verified: fc.boolean(),
  });
  const policy = fc.record(
    {
      keepLast: fc.integer({ min: 0, max: 5 }),
      hourly: fc.integer({ min: 0, max: 5 }),
      daily: fc.integer({ min: 0, max: 5 }),
      weekly: fc.integer({ min: 0, max: 5 }),
      monthly: fc.integer({ min: 0, max: 5 }),
    },
    { requiredKeys: [] },
  );

  it('properties: partition, newest verified survives, bounded, idempotent', () => {
    fc.assert(
      fc.property(fc.uniqueArray(item, { selector: (i) => i.id, maxLength: 60 }), policy, (items, p) => {
        const d = applyRetention(items, p, now);
        const kept = new Set(d.keep.map((k) => k.id));
        // Every input is either kept or removed, never both, and nothing else is named.
        expect(kept.size + d.remove.length).toBe(items.length);
        for (const id of d.remove) expect(kept.has(id)).toBe(false);
        expect(new Set([...kept, ...d.remove])).toEqual(new Set(items.map((i) => i.id)));
        // The newest verified backup survives whatever the policy.
        const newestVerified = [...items].filter((i) => i.verified).sort((a, b) => b.createdAt - a.createdAt)[0];
        if (newestVerified) expect(kept.has(newestVerified.id)).toBe(true);
        // Keeps at most what the rules allow (plus the verified and future exceptions).
        const rules = Object.values(p).reduce((a, b) => a + (b ?? 0), 0);
        const exceptions = items.filter((i) => i.createdAt > now).length + 2; // newest, newest verified
        if (Object.keys(p).length) expect(kept.size).toBeLessThanOrEqual(rules + exceptions);
        // Applying the policy again to what was kept removes nothing more.
        const again = applyRetention(
          items.filter((i) => kept.has(i.id)),
          p,
          now,
        );
        expect(again.remove).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });
});

/**
 * Finding 1 of the fault run (issue 16): `keepLast: 0` (or `{ daily: 0 }`) with no drill run yet pruned the only
 * backup on every scheduled run. Whatever the policy and the catalog, a store is never emptied.
 */
describe('retention never empties a store', () => {
  it('keepLast: 0 / daily: 0 with no verified backup keeps the newest one', () => {
    for (const p of [{ keepLast: 0 }, { daily: 0 }, { keepLast: 0, hourly: 0, daily: 0, weekly: 0, monthly: 0 }]) {
      const d = applyRetention(hourly(4), p, now);
      expect(d.keep).toEqual([{ id: 'b0', reasons: ['newest'] }]);
      expect(d.remove).toEqual(['b1', 'b2', 'b3']);
    }
  });

  it('a policy that keeps nothing is a config error; one rule above 0 is enough', () => {
    expect(keepsNothing({ keepLast: 0 })).toBe(true);
    expect(keepsNothing({ daily: 0, monthly: 0 })).toBe(true);
    expect(keepsNothing({})).toBe(false); // no rule: keep everything
    expect(keepsNothing({ keepLast: 0, monthly: 1 })).toBe(false);
    expect(keepsNothing({ keepLast: undefined })).toBe(false);
  });

  const stamp = fc.integer({ min: now - 400 * 24 * HOUR, max: now + 2 * HOUR });
  const anyPolicy = fc.record(
    {
      keepLast: fc.integer({ min: 0, max: 4 }),
      hourly: fc.integer({ min: 0, max: 4 }),
      daily: fc.integer({ min: 0, max: 4 }),
      weekly: fc.integer({ min: 0, max: 4 }),
      monthly: fc.integer({ min: 0, max: 4 }),
    },
    { requiredKeys: [] },
  );
  // Catalogs with no drill passed yet are a third of the runs: the state a new install is in for its first day.
  const verifiedFlag = fc.oneof(fc.constant(false), fc.boolean());
  const catalog = fc.oneof(
    fc.uniqueArray(fc.record({ id: fc.uuid(), createdAt: stamp, verified: fc.constant(false) }), {
      selector: (i) => i.id,
      maxLength: 40,
    }),
    fc.uniqueArray(fc.record({ id: fc.uuid(), createdAt: stamp, verified: verifiedFlag }), {
      selector: (i) => i.id,
      maxLength: 40,
    }),
  );

  it('properties over random policies (all-zero ones included) and catalogs', () => {
    fc.assert(
      fc.property(catalog, anyPolicy, (items, p) => {
        const d = applyRetention(items, p, now);
        const kept = new Set(d.keep.map((k) => k.id));
        if (items.length > 0) expect(kept.size).toBeGreaterThan(0);
        // Brute force: the newest backup taken in the past (else the newest of all) survives.
        const byAge = [...items].sort((a, b) => b.createdAt - a.createdAt || a.id.localeCompare(b.id));
        const newest = byAge.find((i) => i.createdAt <= now) ?? byAge[0];
        if (newest) expect(kept.has(newest.id)).toBe(true);
        const newestVerified = byAge.find((i) => i.verified);
        if (newestVerified) expect(kept.has(newestVerified.id)).toBe(true);
        // Pruning again and again never empties the store either.
        let left = items;
        for (let round = 0; round < 3 && left.length; round++) {
          const next = applyRetention(left, p, now + round * 24 * HOUR);
          left = left.filter((i) => next.keep.some((k) => k.id === i.id));
          expect(left.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('planPrune keeps the newest backup of every group (each MySQL source on its own)', () => {
    const entry = fc.record({
      name: fc.uuid(),
      createdAt: stamp,
      group: fc.constantFrom('', 'shop', 'blog'),
      verified: fc.constantFrom(true, false, null),
    });
    fc.assert(
      fc.property(fc.uniqueArray(entry, { selector: (e) => e.name, maxLength: 30 }), anyPolicy, (entries, p) => {
        const cat = {
          entries: entries
            .map((e) => ({ ...e, size: 1, encrypted: false }))
            .sort((a, b) => b.createdAt - a.createdAt || b.name.localeCompare(a.name)),
          orphanManifests: [],
        };
        const plan = planPrune(cat, p, now);
        const removed = new Set(plan.remove.map((r) => r.name));
        for (const group of new Set(entries.map((e) => e.group))) {
          const members = entries.filter((e) => e.group === group);
          expect(members.some((e) => !removed.has(e.name))).toBe(true);
        }
      }),
      { numRuns: 200 },
    );
  });
});
