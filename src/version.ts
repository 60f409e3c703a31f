import { readPackageFile } from './package-root.js';

/** Read once from package.json. */
export const VERSION: string = JSON.parse(readPackageFile('package.json')).version;

export interface BuildInfo {
  /** The git commit the build came from (absent when built outside a git checkout). */
  commit?: string;
  /** The checkout had uncommitted changes to tracked files. */
  dirty?: boolean;
}

/** dist/build-info.json, written by scripts/bundle.mjs; empty when there is none (tsc output run directly). */
export function buildInfo(): BuildInfo {
  try {
    const info = JSON.parse(readPackageFile('dist/build-info.json'));
    return typeof info?.commit === 'string' ? { commit: info.commit, dirty: info.dirty === true } : {};
  } catch {
    return {};
  }
}
