import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without type declarations
import { ETCD_TESTS, SIMULATOR_TESTS, SIMULATOR_TESTS_ON_3_4 } from '../../../scripts/etcd-tests.mjs';

// `npm test` runs every test that starts etcd on 3.4 and on 3.5 (scripts/test-suite.mjs) from a hand-kept list; a new
// etcd test missing from it would silently run on one version only.
const ROOT = new URL('../../../', import.meta.url);
const STARTS_ETCD =
  /startTestCluster\(|startRunbookSuite\(|useRunbookSuite\(|startKubeadmSim\(|agent-harness|'lab', 'up'|'lab', \.\.\.|'lab', 'drill'/;

function testFiles(dir: string): string[] {
  return readdirSync(new URL(dir, ROOT))
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => `${dir}/${f}`);
}

describe('the etcd test list', () => {
  const listed: string[] = [...ETCD_TESTS, ...SIMULATOR_TESTS];
  const starting = [...testFiles('test/integration'), ...testFiles('test/faults'), ...testFiles('test/e2e')].filter(
    (f) => STARTS_ETCD.test(readFileSync(new URL(f, ROOT), 'utf8')),
  );

  it('finds etcd tests (a changed helper name must not make this test vacuous)', () => {
    expect(starting).toContain('test/integration/backup.test.ts');
    expect(starting).toContain('test/integration/kubeadm-nodes.test.ts');
  });

  it('lists every test file that starts etcd, and only files that exist', () => {
    expect(starting.filter((f) => !listed.includes(f))).toEqual([]);
    expect(listed.filter((f) => !existsSync(new URL(f, ROOT)))).toEqual([]);
  });

  it('runs the simulator on 3.4 only for files it also runs on 3.5', () => {
    expect((SIMULATOR_TESTS_ON_3_4 as string[]).filter((f) => !SIMULATOR_TESTS.includes(f))).toEqual([]);
  });
});
