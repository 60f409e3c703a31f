import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { chartArchive, escapeTemplate, rebuildChart, safeChartPath } from '../../../src/domain/helm/chart.js';
import type { HelmRelease } from '../../../src/domain/helm/release.js';
import { splitPath, tar } from '../../../src/domain/helm/ustar.js';
import { blog, releaseJson, shop } from '../../fixtures/kube-api/helm.js';

const dir = mkdtempSync(join(tmpdir(), 'lifeboat-ustar-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ustar writer', () => {
  it('GNU tar reads back names (incl. prefix-split long paths), sizes, modes and contents', () => {
    const long = `${'d'.repeat(90)}/${'e'.repeat(60)}/${'f'.repeat(95)}.yaml`;
    const entries = [
      { path: 'c/empty', data: Buffer.alloc(0) },
      { path: 'c/exactly-512', data: Buffer.alloc(512, 0x61) },
      { path: 'c/ünïcode.txt', data: Buffer.from('héllo\n') },
      { path: long, data: Buffer.from('long\n'), mode: 0o600, mtime: 1_700_000_000 },
    ];
    const file = join(dir, 'a.tar');
    writeFileSync(file, tar(entries));
    const listing = execFileSync('tar', ['tvf', file], { encoding: 'utf8' }).trim().split('\n');
    expect(listing.map((l) => l.split(/\s+/).at(-1))).toEqual(entries.map((e) => e.path));
    expect(listing[3]).toMatch(/^-rw------- root\/root\s+5 2023-11-1/);
    execFileSync('tar', ['xf', file, '-C', dir]);
    for (const e of entries) expect(readFileSync(join(dir, e.path))).toEqual(e.data);
  });

  it('refuses a path ustar cannot hold', () => {
    expect(splitPath('a/b')).toEqual({ prefix: '', name: 'a/b' });
    expect(() => splitPath('x'.repeat(101))).toThrow(/too long/);
    expect(() => tar([{ path: `${'p'.repeat(160)}/${'n'.repeat(20)}`, data: Buffer.alloc(1) }])).toThrow(/too long/);
  });
});

describe('chart rebuild', () => {
  it('Chart.yaml, values, schema, templates and files; chart archives are deterministic', () => {
    const release = releaseJson(shop(2, 'deployed', {})) as HelmRelease;
    const rebuilt = rebuildChart(release);
    expect(rebuilt.files.map((f) => f.path)).toEqual([
      'Chart.yaml',
      'values.yaml',
      'values.schema.json',
      'templates/deployment.yaml',
      'templates/_helpers.tpl',
      'templates/NOTES.txt',
      'templates/certificate.yaml',
      expect.stringMatching(/^templates\/very-long-directory-name\//),
      'README.md',
      'files/nginx.conf',
      '.helmignore',
    ]);
    expect(rebuilt.missingSubcharts).toEqual([]);
    expect(chartArchive('shop', rebuilt.files)).toEqual(chartArchive('shop', rebuilt.files));
    expect(rebuildChart(releaseJson(blog()) as HelmRelease).missingSubcharts).toEqual(['mariadb']);
  });

  it('file names from the cluster cannot climb out of the chart', () => {
    expect(safeChartPath('templates/a.yaml')).toBe('templates/a.yaml');
    expect(safeChartPath('./files/x')).toBe('files/x');
    for (const bad of ['../x', 'a/../../x', '/etc/passwd', '', 'a//b']) expect(safeChartPath(bad)).toBeUndefined();
    const release = releaseJson(shop(1, 'deployed', {})) as HelmRelease;
    release.chart.files = [
      { name: '../../evil', data: '' },
      { name: 'Chart.yaml', data: '' },
    ];
    expect(rebuildChart(release).rejected).toEqual(['../../evil', 'Chart.yaml']);
  });

  it('rendered text keeps literal template delimiters', () => {
    expect(escapeTemplate('a {{ b }} c {{d}}')).toBe('a {{ "{{" }} b }} c {{ "{{" }}d}}');
  });
});
