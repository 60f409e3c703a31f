import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The layers (docs/ARCHITECTURE.md), enforced: imports run down, never up, and never in a circle. A module is named
 * by its path under src/; `sources` maps it to its text, so the rules can be shown failing on a fixture.
 */
const FORBIDDEN: Array<[layer: RegExp, imported: RegExp, why: string]> = [
  [
    /^domain\//,
    /^(adapters|app|commands|server|render)\/|^node:(fs|fs\/promises|child_process|net|http|http2|https|dns|tls|os|dgram|worker_threads|readline)$|^(@aws-sdk|@kubernetes|mysql2|prom-client)/,
    'domain is pure: no I/O',
  ],
  [/^adapters\//, /^(app|commands|server|render)\//, 'adapters do I/O only, for the layers above'],
  [/^app\//, /^(commands|server|render)\//, 'use cases serve both front ends, which render'],
  [/^server\//, /^commands\//, 'serve is a front end beside the CLI, not on top of it'],
];

function layerViolations(sources: Map<string, string>): string[] {
  const problems: string[] = [];
  const graph = new Map<string, string[]>();
  for (const [file, text] of sources) {
    const imports: string[] = [];
    for (const m of text.matchAll(/^\s*(import|export)\s+(type\s+)?[^'";]*?from\s+'([^']+)'|import\('([^']+)'\)/gm)) {
      const spec = m[3] ?? m[4]!;
      const target = spec.startsWith('.')
        ? relative('/', resolve('/', dirname(file), spec)).replace(/\.js$/, '.ts')
        : spec;
      for (const [layer, imported, why] of FORBIDDEN) {
        if (layer.test(file) && imported.test(target)) problems.push(`${file} imports ${target}: ${why}`);
      }
      if (sources.has(target)) imports.push(target);
    }
    graph.set(file, imports);
  }
  // Depth-first search; a module met again while still on the path closes a cycle.
  const state = new Map<string, 'open' | 'done'>();
  const visit = (file: string, path: string[]): void => {
    if (state.get(file) === 'open')
      problems.push(`import cycle: ${[...path.slice(path.indexOf(file)), file].join(' -> ')}`);
    if (state.has(file)) return;
    state.set(file, 'open');
    for (const next of graph.get(file) ?? []) visit(next, [...path, file]);
    state.set(file, 'done');
  };
  for (const file of [...graph.keys()].sort()) visit(file, []);
  return problems;
}

const SRC = resolve(import.meta.dirname, '../../src');
const tree = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tree(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );

describe('architecture', () => {
  it('src/ has no upward import and no import cycle', () => {
    const sources = new Map(tree(SRC).map((f) => [relative(SRC, f), readFileSync(f, 'utf8')]));
    expect(sources.size).toBeGreaterThan(100);
    expect(layerViolations(sources)).toEqual([]);
  });

  it('fails on an upward import, I/O in the domain, and a cycle (fixture)', () => {
    const fixture = new Map([
      ['domain/plan.ts', "import { readFileSync } from 'node:fs';\nimport { x } from '../adapters/store/local.js';\n"],
      ['adapters/store/local.ts', "import type { Output } from '../../render/output.js';\nexport const x = 1;\n"],
      ['app/a.ts', "import { b } from './b.js';\nexport const a = b;\n"],
      ['app/b.ts', "export const b = 1;\nexport async function later() { return import('./a.js'); }\n"],
      ['app/c.ts', "import type { b } from './d.js';\n"],
      ['app/d.ts', "import type { c } from './c.js';\n"],
    ]);
    expect(layerViolations(fixture)).toEqual([
      'domain/plan.ts imports node:fs: domain is pure: no I/O',
      'domain/plan.ts imports adapters/store/local.ts: domain is pure: no I/O',
      'adapters/store/local.ts imports render/output.ts: adapters do I/O only, for the layers above',
      'import cycle: app/a.ts -> app/b.ts -> app/a.ts',
      // A cycle of type imports is still two modules that cannot be understood one without the other.
      'import cycle: app/c.ts -> app/d.ts -> app/c.ts',
    ]);
  });
});
