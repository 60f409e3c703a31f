import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Integration tests drive the real CLI (`node bin/lifeboat.js`), so compile once before any test file runs, unless
 * dist/ is already newer than every source file (`npm test` has just built it; rebuilding would race other runs).
 * Type errors are reported by `npm run typecheck`; here we only need the emitted JavaScript.
 */
export default function setup(): void {
  if (existsSync('dist/cli.js') && newestMtime('src') < statSync('dist/cli.js').mtimeMs) return;
  const result = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], {
    encoding: 'utf8',
  });
  if (!existsSync('dist/cli.js')) throw new Error(`build failed: ${result.stdout}${result.stderr}`);
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}
