import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  formatMicroTime,
  judgeLease,
  type LeaseRecord,
  leaseSeconds,
  observe,
  takeOver,
} from '../../../src/domain/kube/lease.js';

const lease = (over: Partial<LeaseRecord> = {}): LeaseRecord => ({
  resourceVersion: '10',
  holder: 'a',
  durationSeconds: 15,
  renewTime: '2026-01-01T00:00:00.000000Z',
  transitions: 3,
  reason: 'r',
  ...over,
});

describe('lease judgement', () => {
  it('a lease seen for the first time counts as just renewed, whatever its renewTime says', () => {
    const l = lease({ renewTime: '1999-01-01T00:00:00.000000Z' });
    const seen = observe(undefined, l, 1_000_000);
    expect(judgeLease(l, seen, 'b', 1_000_000)).toEqual({ state: 'held', holder: 'a', remainingMs: 15_000 });
    expect(judgeLease(l, seen, 'b', 1_014_999).state).toBe('held');
    expect(judgeLease(l, seen, 'b', 1_015_000)).toEqual({ state: 'expired', holder: 'a' });
  });

  it('any change (renewTime, resourceVersion, holder) restarts the count; no change keeps it', () => {
    const first = observe(undefined, lease(), 0);
    expect(observe(first, lease(), 9000)).toBe(first);
    expect(observe(first, lease({ resourceVersion: '11' }), 9000).observedAt).toBe(9000);
    expect(observe(first, lease({ renewTime: '2026-01-01T00:00:05.000000Z' }), 9000).observedAt).toBe(9000);
    expect(observe(first, lease({ holder: 'c' }), 9000).observedAt).toBe(9000);
  });

  it('free without a holder; ours when we hold it', () => {
    const free = lease({ holder: undefined });
    expect(judgeLease(free, observe(undefined, free, 0), 'b', 0)).toEqual({ state: 'free' });
    expect(judgeLease(lease(), observe(undefined, lease(), 0), 'a', 0)).toEqual({ state: 'mine' });
  });

  it('property: a remote clock never matters, only how long we saw no change', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4_000_000_000_000 }),
        fc.integer({ min: -1e12, max: 1e12 }),
        fc.integer({ min: 1, max: 3600 }),
        fc.integer({ min: 0, max: 10_000_000 }),
        (remote, localStart, duration, elapsed) => {
          const l = lease({ renewTime: formatMicroTime(remote), durationSeconds: duration });
          const seen = observe(undefined, l, localStart);
          const v = judgeLease(l, seen, 'me', localStart + elapsed);
          return (v.state === 'expired') === elapsed >= duration * 1000;
        },
      ),
    );
  });
});

describe('MicroTime and take-over fields', () => {
  it('writes exactly six fractional digits, in UTC', () => {
    expect(formatMicroTime(Date.UTC(2026, 0, 2, 3, 4, 5, 678))).toBe('2026-01-02T03:04:05.678000Z');
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 253402300799999 }), (ms) =>
        /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/.test(formatMicroTime(ms)),
      ),
    );
  });

  it('transitions count up when the holder changes (the fencing token), not when we renew our own', () => {
    expect(takeOver(undefined, 'a', 10_000, 0).transitions).toBe(0);
    expect(takeOver(lease({ holder: 'a', transitions: 3 }), 'a', 10_000, 0).transitions).toBe(3);
    expect(takeOver(lease({ holder: 'b', transitions: 3 }), 'a', 10_000, 0).transitions).toBe(4);
    expect(takeOver(lease({ holder: undefined, transitions: 3 }), 'a', 10_000, 0).transitions).toBe(4);
    expect([leaseSeconds(1), leaseSeconds(1000), leaseSeconds(1001), leaseSeconds(0)]).toEqual([1, 1, 2, 1]);
  });
});
