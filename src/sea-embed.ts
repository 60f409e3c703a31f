import { getAsset } from 'node:sea';
import { embedPackageFiles } from './package-root.js';

// Imported first by src/sea.ts: before any module reads a package file, say that they live in the executable.
embedPackageFiles((name) => getAsset(name, 'utf8'));
