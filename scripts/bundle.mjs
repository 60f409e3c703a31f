#!/usr/bin/env node
// Bundles the compiled CLI (dist/cli.js, from tsc) into dist/bundle/: one file per command's module graph.
// Why: Node's ESM loader pays per file, and `lifeboat check` touched ~200 of them (zod alone was ~95), which cost
// more than the check itself. The libraries every command needs at start-up are inlined; heavy ones that only some
// commands load (gRPC, S3, Kubernetes, MySQL, Prometheus, age, yaml, Playwright) stay ordinary imports from
// node_modules, so their own file layout and lazy loading stay as they are.
//
//   node scripts/bundle.mjs        (part of `npm run build`, after `tsc -p tsconfig.build.json`)
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'rolldown';

const root = resolve(import.meta.dirname, '..');
const INLINED = ['valibot', 'commander', 'luxon', 'js-yaml', 'picocolors'];
const isInlined = (id) => INLINED.some((name) => id === name || id.startsWith(`${name}/`));
const out = join(root, 'dist/bundle');

rmSync(out, { recursive: true, force: true });
await build({
  input: { lifeboat: join(root, 'dist/cli.js') },
  platform: 'node',
  // Bare imports that are not inlined stay imports; node: builtins always do.
  external: (id) => id.startsWith('node:') || (!id.startsWith('.') && !id.startsWith('/') && !isInlined(id)),
  logLevel: 'warn',
  output: {
    dir: out,
    format: 'esm',
    entryFileNames: '[name].mjs',
    chunkFileNames: '[name]-[hash].mjs',
    sourcemap: true,
  },
});
