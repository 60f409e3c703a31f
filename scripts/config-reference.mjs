#!/usr/bin/env node
// Writes docs/CONFIG.md from the config schema (run `npm run build` first: it reads the compiled dist/).
//   npm run build && npm run docs:config
// test/unit/config-reference.test.ts fails while the committed file differs from what this writes.
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const { renderConfigReference } = await import(join(root, 'dist/domain/config-reference.js'));
writeFileSync(join(root, 'docs/CONFIG.md'), renderConfigReference());
console.log('wrote docs/CONFIG.md');
