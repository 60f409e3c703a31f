import { readFileSync } from 'node:fs';
import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CONFIG_DOCS } from '../../src/domain/config-docs.js';
import { configKeys, docOf, renderConfigReference, yamlInline } from '../../src/domain/config-reference.js';

const committed = readFileSync(new URL('../../docs/CONFIG.md', import.meta.url), 'utf8');

describe('docs/CONFIG.md, generated from the schema', () => {
  it('is what the schema and CONFIG_DOCS say today (else: npm run build && npm run docs:config)', () => {
    expect(committed).toBe(renderConfigReference());
  });

  it('documents every key of the schema, including nested and union keys', () => {
    const keys = configKeys();
    const paths = keys.map((k) => k.path);
    // A sample across depths and shapes: a union member's key, a list item's key, a shared shape's key.
    expect(paths).toEqual(
      expect.arrayContaining([
        'backups.to',
        'nodes[].reboot[].cron',
        'nodes[].reboot[].window.days',
        'databases[].retention.daily',
        'maintenance.requireVerifiedBackupWithin',
      ]),
    );
    expect(keys.filter((k) => !docOf(k.path)).map((k) => k.path)).toEqual([]);
    for (const k of keys) expect(committed).toContain(`\`${k.path}\``);
  });

  it('has no entry for a key the schema does not have', () => {
    const paths = configKeys().map((k) => k.path);
    const used = new Set(paths.map((p) => docOf(p)!.key));
    expect(Object.keys(CONFIG_DOCS).filter((key) => !used.has(key))).toEqual([]);
  });

  it("every example is accepted by its key's schema, also after a round trip through YAML", () => {
    for (const key of configKeys()) {
      const example = docOf(key.path)!.doc.example;
      if (example === undefined) continue;
      const direct = v.safeParse(key.schema, example);
      expect(direct.success, `${key.path}: ${JSON.stringify(example)}`).toBe(true);
      // What the reader copies is the rendered YAML, not the JS value.
      const copied = parse(`x: ${yamlInline(example)}`).x;
      expect(copied, key.path).toEqual(example);
    }
  });

  it('leaves out no leaf key without an example (a reader copies examples)', () => {
    const missing = configKeys()
      .filter((k) => !k.hasChildren && docOf(k.path)!.doc.example === undefined)
      .map((k) => k.path);
    expect(missing).toEqual([]);
  });

  it('says which keys are required, and is linked from the README', () => {
    expect(committed).toMatch(
      /### `backups\.to`\n\ntype: list of non-empty strings \(at least 1\).*\*\*required\*\* in `backups`/,
    );
    expect(committed).toMatch(/### `nodes\[\]\.name`\n\ntype: string \(not empty\) · \*\*required\*\* in `nodes\[\]`/);
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    expect(readme).toContain('docs/CONFIG.md');
  });
});

describe('yamlInline', () => {
  it('writes strings plain only where YAML reads them back as the same string', () => {
    const samples = [
      '1h',
      '10m',
      '24h',
      '0 4 * * 1',
      '1.0',
      '10',
      '1e3',
      '0x1f',
      'true',
      'No',
      'null',
      '~',
      '.',
      '..',
      '/etc/x',
      'a: b',
      '',
      '03:00',
      '-1',
      '.5',
      'age1abc',
    ];
    for (const s of samples) expect(parse(`x: ${yamlInline(s)}`).x, s).toBe(s);
    expect(yamlInline('1h')).toBe('1h');
    expect(yamlInline('/etc/kubernetes/pki/etcd/ca.crt')).toBe('/etc/kubernetes/pki/etcd/ca.crt');
  });
});
