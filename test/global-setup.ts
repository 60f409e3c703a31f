import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * Integration tests drive the real CLI (`node bin/lifeboat.js`), so compile once before any test file runs.
 * Type errors are reported by `npm run typecheck`; here we only need the emitted JavaScript.
 */
export default function setup(): void {
  const result = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], {
    encoding: 'utf8',
  });
  if (!existsSync('dist/cli.js')) {
    throw new Error(`build failed: ${result.stdout}${result.stderr}`);
  }
}
