import { readFileSync, realpathSync } from 'node:fs';
import { hostname, networkInterfaces } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { newestVerified } from '../../domain/backup/catalog.js';
import type { DestinationView } from '../../domain/root-causes.js';
import { errorMessage } from '../../errors.js';
import type { LoadedConfig } from '../config-file.js';
import { readCatalog } from './catalog.js';
import { openStoreAt } from './setup.js';

/**
 * Every `backups.to` destination as doctor needs it: how many etcd backups, the newest verified one, and for a
 * directory the filesystem it is on (a network mount is an off-node copy). Each store gets `deadlineMs`: an S3
 * endpoint that does not answer is a finding, not a hung doctor. Never throws.
 */
export async function observeDestinations(loaded: LoadedConfig, deadlineMs: number): Promise<DestinationView[]> {
  const cwd = dirname(loaded.path);
  return Promise.all(
    (loaded.config.backups?.to ?? []).map(async (location): Promise<DestinationView> => {
      const kind = /^s3:\/\//i.test(location.trim()) ? 's3' : 'directory';
      const fsType = kind === 'directory' ? filesystemOf(resolve(cwd, location.trim())) : undefined;
      const base = { location, kind, ...(fsType ? { fsType } : {}) } as const;
      try {
        const catalog = await withDeadline(
          (async () => readCatalog(await openStoreAt(location.trim(), loaded, cwd)))(),
          deadlineMs,
          `no answer within ${deadlineMs} ms`,
        );
        const newest = newestVerified(catalog);
        return {
          ...base,
          backups: catalog.entries.length,
          ...(newest ? { newestVerifiedAt: newest.createdAt } : {}),
        };
      } catch (err) {
        return { ...base, backups: 0, error: errorMessage(err) };
      }
    }),
  );
}

/** This host's addresses and name, to tell whether it is one of the etcd members. */
export function localHost(): { addresses: string[]; hostname: string } {
  const addresses = Object.values(networkInterfaces())
    .flatMap((list) => list ?? [])
    .map((i) => i.address);
  return { addresses, hostname: hostname() };
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
