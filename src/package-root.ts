import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The directory holding Lifeboat's package.json (and bin/, proto/). The code runs from three depths: src/ under
 * vitest, dist/ (tsc output) and dist/bundle/ (the bundled CLI), so paths are found by walking up, not by a fixed
 * number of `..`.
 */
let root: string | undefined;

export function packageRoot(): string {
  if (root !== undefined) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).name === 'lifeboat') {
      root = dir;
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`Lifeboat's package.json not found above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

/** A path inside the package, e.g. packagePath('proto') or packagePath('bin', 'lifeboat.js'). */
export function packagePath(...parts: string[]): string {
  return join(packageRoot(), ...parts);
}
