import { describe, expect, it } from 'vitest';
import { logPruneLines } from '../../../src/render/etcdlog.js';

describe('prune output for the change log', () => {
  it('names what goes and what stays for a window, and says nothing when nothing changes', () => {
    const text = logPruneLines(
      {
        windowMs: 7 * 86_400_000,
        keepSnapshots: [{ name: 'etcd/2026-12-01T000000.000Z-prod.db', chain: 'c2' }],
        chains: [
          { chain: 'c1', remove: ['a', 'b'], deleteChain: true },
          {
            chain: 'c2',
            remove: ['x'],
            deleteChain: false,
            cutThrough: 120,
            base: 'etcd/2026-12-01T000000.000Z-prod.db',
          },
        ],
      },
      true,
    );
    expect(text.split('\n')).toEqual([
      'change log (point-in-time window 7d):',
      '  would delete chain c1 (2 log objects): no point of the window needs it',
      '  would delete 1 log objects of chain c2 up to revision 120 (it now replays from etcd/2026-12-01T000000.000Z-prod.db)',
      '  kept etcd/2026-12-01T000000.000Z-prod.db: chain c2 replays from it',
    ]);
    expect(logPruneLines({ windowMs: 1000, keepSnapshots: [], chains: [] }, false)).toBe('');
  });
});
