import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The directory holding Lifeboat's package.json (and bin/, proto/). The code runs from three depths: src/ under
 * vitest, dist/ (tsc output) and dist/bundle/ (the bundled CLI), so paths are found by walking up, not by a fixed
 * number of `..`. The single-file executable (ADR 011) has no package directory: there the files it needs are
 * embedded, and `embedPackageFiles` says where to read them.
 */
let root: string | undefined;

/** How the single-file executable reads an embedded package file (Node's `sea.getAsset`); unset everywhere else. */
let embedded: ((name: string) => string) | undefined;

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

/** Called first thing by the single-file executable: package files come from `read` from then on. */
export function embedPackageFiles(read: (name: string) => string): void {
  embedded = read;
}

/** A text file of the package (`package.json`), from the package directory or from the single-file executable. */
export function readPackageFile(name: string): string {
  return embedded !== undefined ? embedded(name) : readFileSync(packagePath(name), 'utf8');
}

/**
 * The command line that runs this same Lifeboat as a child process: node and bin/lifeboat.js, or the single-file
 * executable itself (which is its own Node).
 */
export function lifeboatCommand(): { command: string; args: string[] } {
  if (embedded !== undefined) return { command: process.execPath, args: [] };
  return { command: process.execPath, args: [packagePath('bin', 'lifeboat.js')] };
}

/**
 * What a worker thread runs to be this same Lifeboat (src/adapters/proc/small-heap.ts): bin/lifeboat.js, or in the
 * single-file executable the program's own script, embedded beside it for this (a worker cannot start from the
 * executable's main script).
 */
export function lifeboatWorkerEntry(): { file: string } | { code: string } {
  if (embedded !== undefined) return { code: embedded('lifeboat.cjs') };
  return { file: packagePath('bin', 'lifeboat.js') };
}
