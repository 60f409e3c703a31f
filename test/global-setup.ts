import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Integration tests drive the real CLI (`node bin/lifeboat.js`), so compile and bundle once before any test file runs,
 * unless the bundle is already newer than every source file (`npm test` has just built it; rebuilding would race other runs).
 * Type errors are reported by `npm run typecheck`; here we only need the emitted JavaScript.
 */
export default function setup(): void {
  const built = 'dist/bundle/lifeboat.cjs';
  if (existsSync(built) && newestMtime('src') < statSync(built).mtimeMs) return;
  const steps = [['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], ['scripts/bundle.mjs']];
  for (const args of steps) {
    const result = spawnSync(process.execPath, args, { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`build failed (${args.join(' ')}): ${result.stdout}${result.stderr}`);
  }
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}
