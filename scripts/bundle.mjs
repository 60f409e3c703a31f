#!/usr/bin/env node
// Bundles the compiled CLI (dist/cli.js, from tsc) into dist/bundle/: one file per command's module graph.
// Why: Node's ESM loader pays per file, and `lifeboat check` touched ~200 of them (zod alone was ~95), which cost
// more than the check itself. The libraries every command needs at start-up are inlined; heavy ones that only some
// commands load (gRPC, S3, Kubernetes, MySQL, Prometheus, age, yaml, Playwright) stay ordinary imports from
// node_modules, so their own file layout and lazy loading stay as they are.
//
//   node scripts/bundle.mjs        (part of `npm run build`, after `tsc -p tsconfig.build.json`)
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'rolldown';

const root = resolve(import.meta.dirname, '..');
const INLINED = ['valibot', 'commander', 'luxon', 'js-yaml', 'picocolors'];
const isInlined = (id) => INLINED.some((name) => id === name || id.startsWith(`${name}/`));
const out = join(root, 'dist/bundle');

rmSync(out, { recursive: true, force: true });
const { output } = await build({
  // code-cache is loaded by bin/lifeboat.js before the CLI itself, to compile the CLI's chunks with a V8 code cache.
  input: { lifeboat: join(root, 'dist/cli.js'), 'code-cache': join(root, 'dist/code-cache.js') },
  platform: 'node',
  // Bare imports that are not inlined stay imports; node: builtins always do.
  external: (id) => id.startsWith('node:') || (!id.startsWith('.') && !id.startsWith('/') && !isInlined(id)),
  logLevel: 'warn',
  output: {
    dir: out,
    // CommonJS (ADR 009): V8 can cache compiled CommonJS code on Node 20, and Node starts it without the ES module
    // loader. import() of ES-module-only packages (typage, client-node) stays import().
    format: 'cjs',
    dynamicImportInCjs: true,
    entryFileNames: '[name].cjs',
    chunkFileNames: '[name]-[hash].cjs',
    sourcemap: true,
  },
});

// What src/code-cache.ts may cache, each chunk with a hash of its code: the cache key. (V8 itself only checks that the
// source has the same length, and lifeboat.cjs keeps its name from build to build.) Chunks that import() a package
// (ES modules only, such as typage or client-node) are left out: Node compiles those itself, because import() from a
// vm.Script needs an experimental flag on Node 20.
const chunks = Object.fromEntries(
  output
    .filter((chunk) => chunk.type === 'chunk' && chunk.name !== 'code-cache')
    .filter((chunk) => !chunk.dynamicImports.some((id) => !id.endsWith('.cjs')))
    .map((chunk) => [chunk.fileName, createHash('sha256').update(chunk.code).digest('hex').slice(0, 16)]),
);
writeFileSync(join(out, 'code-cache.json'), `${JSON.stringify({ chunks }, null, 2)}\n`);

// What `lifeboat version` says it was built from: the commit, when this is a git checkout (a tarball has none).
writeFileSync(join(root, 'dist/build-info.json'), `${JSON.stringify(buildInfo(), null, 2)}\n`);

function buildInfo() {
  const git = (...args) => spawnSync('git', ['-C', root, ...args], { encoding: 'utf8' });
  const head = git('rev-parse', 'HEAD');
  if (head.status !== 0) return {};
  const dirty = git('status', '--porcelain', '--untracked-files=no').stdout.trim() !== '';
  return { commit: head.stdout.trim(), dirty };
}
