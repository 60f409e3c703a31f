import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyRetention, isoWeek, type RetainedItem } from '../../src/domain/retention.js';

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
        const exceptions = items.filter((i) => i.createdAt > now).length + 1;
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
