import { readPackageFile } from './package-root.js';

/** Read once from package.json. */
export const VERSION: string = JSON.parse(readPackageFile('package.json')).version;
