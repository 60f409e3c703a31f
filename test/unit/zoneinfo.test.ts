import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { loadZoneRules } from '../../src/adapters/zoneinfo.js';
import { zoneOffsetAt } from '../../src/domain/schedule/tzif.js';
import { tzifBytes } from './schedule/tzif-bytes.js';

const tzdir = mkdtempSync(join(tmpdir(), 'lifeboat-tzdir-'));
mkdirSync(join(tzdir, 'Test'));
writeFileSync(
  join(tzdir, 'Test/Nine'),
  tzifBytes({ version: 2, types: [[32400, 'NIN']], transitions: [], footer: 'NIN-9' }),
);
writeFileSync(join(tzdir, 'zone.tab'), '# tz zone descriptions\nJP\t+353916+1394441\tAsia/Tokyo\n');
writeFileSync(join(tzdir, 'Broken'), 'TZif2 but then nothing useful');

afterEach(() => {
  vi.unstubAllEnvs();
});
afterAll(() => {
  rmSync(tzdir, { recursive: true, force: true });
});

const JULY = Date.parse('2026-07-01T00:00:00Z');

describe('loadZoneRules', () => {
  it('reads zones from $TZDIR', () => {
    vi.stubEnv('TZDIR', tzdir);
    const rules = loadZoneRules('Test/Nine');
    expect(rules && zoneOffsetAt(rules, JULY)).toBe(9 * 3_600_000);
  });

  it('reads a zone file copied into $TZDIR, and /usr/share/zoneinfo when TZDIR is unset', () => {
    copyFileSync('/usr/share/zoneinfo/Asia/Tokyo', join(tzdir, 'Test/Tokyo'));
    vi.stubEnv('TZDIR', tzdir);
    expect(loadZoneRules('Test/Tokyo')?.footer?.std).toEqual({ name: 'JST', offset: 9 * 3_600_000 });
    expect(loadZoneRules('Asia/Tokyo')).toBeUndefined(); // not in this TZDIR
    vi.stubEnv('TZDIR', undefined);
    expect(loadZoneRules('Test/Tokyo')).toBeUndefined();
    expect(loadZoneRules('Asia/Tokyo')?.footer?.std.name).toBe('JST');
  });

  it('answers undefined for a missing file, a directory and files that are not TZif', () => {
    vi.stubEnv('TZDIR', tzdir);
    expect(loadZoneRules('Mars/Olympus')).toBeUndefined();
    expect(loadZoneRules('Test')).toBeUndefined();
    expect(loadZoneRules('zone')).toBeUndefined();
    expect(loadZoneRules('Broken')).toBeUndefined();
  });

  it.each([
    '',
    '/etc/localtime',
    '../etc/passwd',
    'Test/../Test/Nine',
    'Test/./Nine',
    'Test//Nine',
    'Test/Nine/',
    'zone.tab',
    'Test/Nine ',
    'Test\\Nine',
    'Test/Nine\0',
    'Europe/Berlin;rm',
  ])('rejects the name %j', (name) => {
    vi.stubEnv('TZDIR', tzdir);
    expect(loadZoneRules(name)).toBeUndefined();
  });
});
