import { describe, expect, it } from 'vitest';
import { listNames, oneLine, sentence } from '../../src/domain/text.js';

describe('domain/text: the shared wording helpers', () => {
  it('lists names as a sentence does, shortening past max', () => {
    expect(listNames([])).toBe('');
    expect(listNames(['cp1'])).toBe('cp1');
    expect(listNames(['cp1', 'cp2'])).toBe('cp1 and cp2');
    expect(listNames(['cp1', 'cp2', 'cp3'])).toBe('cp1, cp2 and cp3');
    const nodes = Array.from({ length: 9 }, (_, i) => `n${i + 1}`);
    expect(listNames(nodes, 6)).toBe('n1, n2, n3, n4, n5 and 4 more');
    expect(listNames(nodes.slice(0, 6), 6)).toBe('n1, n2, n3, n4, n5 and n6');
  });

  it('puts an error text on one line and starts a sentence with a capital', () => {
    expect(oneLine('  connect ECONNREFUSED\n\t127.0.0.1:2379  ')).toBe('connect ECONNREFUSED 127.0.0.1:2379');
    expect(sentence('running pods keep serving')).toBe('Running pods keep serving');
    expect(sentence('')).toBe('');
  });
});
