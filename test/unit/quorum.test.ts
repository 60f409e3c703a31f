import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { classifyQuorum, quorumMargin, quorumOf, toleranceOf } from '../../src/domain/quorum.js';

describe('quorum arithmetic', () => {
  it.each([
    [1, 1, 0],
    [2, 2, 0],
    [3, 2, 1],
    [4, 3, 1],
    [5, 3, 2],
    [7, 4, 3],
  ])('%i voting members need %i and tolerate %i', (n, quorum, tolerance) => {
    expect(quorumOf(n)).toBe(quorum);
    expect(toleranceOf(n)).toBe(tolerance);
  });

  it('margin follows docs/ARCHITECTURE.md: 3 up → 1, one down → 0, two down → −1', () => {
    expect(quorumMargin(3, 3)).toBe(1);
    expect(quorumMargin(2, 3)).toBe(0);
    expect(quorumMargin(1, 3)).toBe(-1);
    expect(classifyQuorum(3, 3)).toBe('healthy');
    expect(classifyQuorum(2, 3)).toBe('degraded');
    expect(classifyQuorum(1, 3)).toBe('quorum-lost');
    expect(classifyQuorum(0, 3)).toBe('unreachable');
  });

  it('agrees with a brute-force majority count for every cluster size', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 99 }), fc.integer({ min: 0, max: 99 }), (n, upRaw) => {
        const up = upRaw % (n + 1);
        // Oracle: writes need a strict majority of voting members.
        const hasQuorum = up * 2 > n;
        expect(quorumMargin(up, n) >= 0).toBe(hasQuorum);
        // Tolerance = the largest number of failures that still leaves a majority.
        let tolerated = 0;
        while ((n - (tolerated + 1)) * 2 > n) tolerated++;
        expect(toleranceOf(n)).toBe(tolerated);
      }),
    );
  });
});
