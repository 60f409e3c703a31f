import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// The README promises `npm run quickstart` then `npm test` pass on a fresh machine; CI proves `.ci/run` does. Both
// install the OS packages the tests start, so both lists must be the same list.
const read = (path: string) => readFileSync(new URL(`../../../${path}`, import.meta.url), 'utf8');

function ciPackages(): string[] {
  return [...read('.ci/run').matchAll(/need\+=\(([^)]+)\)/g)].flatMap((m) => m[1]!.trim().split(/\s+/));
}

function quickstartPackages(): string[] {
  return [...read('scripts/quickstart.mjs').matchAll(/\bpkg: '([^']+)'/g)].map((m) => m[1]!);
}

describe('quickstart installs what CI installs', () => {
  it('reads a list from each file (a changed layout must not make this test vacuous)', () => {
    expect(ciPackages()).toContain('etcd-server');
    expect(quickstartPackages()).toContain('etcd-server');
  });

  it('the two lists name the same packages', () => {
    expect([...new Set(quickstartPackages())].sort()).toEqual([...new Set(ciPackages())].sort());
  });
});
