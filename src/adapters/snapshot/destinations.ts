import { readFileSync, realpathSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { type Catalog, newestVerified } from '../../domain/backup/catalog.js';
import type { DestinationView } from '../../domain/root-causes.js';
import { errorMessage } from '../../errors.js';
import type { LoadedConfig } from '../config-file.js';
import type { BackupStore } from '../store/types.js';
import { readCatalog } from './catalog.js';
import { openStoreAt } from './setup.js';

/**
 * Every `backups.to` destination as doctor needs it: how many etcd backups, the newest verified one, and for a
 * directory the filesystem it is on (a network mount is an off-node copy). Each store gets `deadlineMs`: an S3
 * endpoint that does not answer is a finding, not a hung doctor. Never throws.
 */
export async function observeDestinations(loaded: LoadedConfig, deadlineMs: number): Promise<DestinationView[]> {
  const cwd = dirname(loaded.path);
  const specs = loaded.config.backups?.to ?? [];
  const catalogs = await readDestinationCatalogs(specs, loaded, cwd, deadlineMs);
  return catalogs.map((c): DestinationView => {
    const kind = /^s3:\/\//i.test(c.spec.trim()) ? 's3' : 'directory';
    const fsType = kind === 'directory' ? filesystemOf(resolve(cwd, c.spec.trim())) : undefined;
    const base = { location: c.spec, kind, ...(fsType ? { fsType } : {}) } as const;
    if (!c.catalog) return { ...base, backups: 0, error: c.error };
    const newest = newestVerified(c.catalog);
    const m = newest?.manifest;
    return {
      ...base,
      backups: c.catalog.entries.length,
      ...(newest ? { newestVerifiedAt: newest.createdAt } : {}),
      ...(newest && m
        ? {
            newestVerified: { revision: m.revision, keys: m.keys, clusterId: m.clusterId, createdAt: newest.createdAt },
          }
        : {}),
    };
  });
}

/** One destination's etcd snapshot catalog, or why it could not be read. */
export type DestinationCatalog =
  | { spec: string; store: BackupStore; catalog: Catalog; error?: undefined }
  | { spec: string; store?: undefined; catalog?: undefined; error: string };

/**
 * The catalog of every destination (as written in backups.to; relative directories relative to `cwd`), read in
 * parallel, each within `deadlineMs` when given. Never throws: a store that cannot be read is an answer too. The
 * one way doctor and recover look into several stores at once.
 */
export async function readDestinationCatalogs(
  specs: string[],
  loaded: LoadedConfig | undefined,
  cwd: string,
  deadlineMs?: number,
): Promise<DestinationCatalog[]> {
  return Promise.all(
    specs.map(async (spec): Promise<DestinationCatalog> => {
      try {
        const read = (async () => {
          const store = await openStoreAt(spec.trim(), loaded, cwd);
          return { spec, store, catalog: await readCatalog(store) };
        })();
        return deadlineMs === undefined
          ? await read
          : await withDeadline(read, deadlineMs, `no answer within ${deadlineMs} ms`);
      } catch (err) {
        return { spec, error: errorMessage(err) };
      }
    }),
  );
}

/**
 * The filesystem type of the mount holding `path` (or its nearest existing parent), from /proc/mounts: the longest
 * mount point that contains it. Undefined where /proc/mounts cannot be read.
 */
export function filesystemOf(path: string, mountsFile = '/proc/mounts'): string | undefined {
  let mounts: string;
  try {
    mounts = readFileSync(mountsFile, 'utf8');
  } catch {
    return undefined;
  }
  const real = existingRealPath(path);
  let best: { point: string; type: string } | undefined;
  for (const line of mounts.split('\n')) {
    const [, rawPoint, type] = line.split(' ');
    if (!rawPoint || !type) continue;
    // /proc/mounts escapes spaces and a few other bytes as octal (\040).
    const point = rawPoint.replace(/\\([0-7]{3})/g, (_, oct) => String.fromCharCode(Number.parseInt(oct, 8)));
    const inside = point === '/' || real === point || real.startsWith(point.endsWith(sep) ? point : `${point}${sep}`);
    if (inside && (!best || point.length >= best.point.length)) best = { point, type };
  }
  return best?.type;
}

/** The real path of the longest existing part of `path`, with the rest appended (a destination not made yet). */
function existingRealPath(path: string): string {
  for (let p = path; ; p = dirname(p)) {
    try {
      return join(realpathSync(p), relative(p, path));
    } catch {
      if (dirname(p) === p) return path;
    }
  }
}

function withDeadline<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
