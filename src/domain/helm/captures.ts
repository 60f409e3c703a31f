import type { Catalog, Drilled, ListedObject } from '../backup/catalog.js';
import { parseStamp } from '../backup/naming.js';

/**
 * The Helm captures in a store, from a listing alone: `helm/<stamp>/index.json` marks a complete capture (it is
 * written last), and everything under `helm/<stamp>/` belongs to it. Pure.
 */

export const HELM_PREFIX = 'helm/';
const INDEX = /^helm\/(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z\/index\.json$/;

/**
 * Complete captures, newest first, each with its objects in deletion order: index.json last, so a prune cut short
 * leaves a capture that the next prune removes again, never stray files that a capture in progress might own.
 * Captures have no restore drill (verified: null) and form one retention group.
 */
export function helmCaptureCatalog(objects: ListedObject[]): Catalog<Drilled> {
  const byDir = new Map<string, ListedObject[]>();
  for (const o of objects) {
    const dir = o.name.slice(0, o.name.indexOf('/', HELM_PREFIX.length) + 1);
    if (!dir) continue;
    const inDir = byDir.get(dir);
    if (inDir) inDir.push(o);
    else byDir.set(dir, [o]);
  }
  const entries: Catalog<Drilled>['entries'] = [];
  for (const o of objects) {
    const m = INDEX.exec(o.name);
    const createdAt = m ? parseStamp(`${m[1]}-${m[2]}-${m[3]}T${m[4]}${m[5]}${m[6]}.000Z`) : undefined;
    if (createdAt === undefined) continue;
    const dir = o.name.slice(0, -'index.json'.length);
    const files = (byDir.get(dir) ?? []).filter((x) => x !== o);
    entries.push({
      name: dir.slice(0, -1),
      createdAt,
      size: [...files, o].reduce((sum, x) => sum + x.size, 0),
      encrypted: files.some((x) => x.name.endsWith('.age')),
      group: '',
      verified: null,
      objects: [...files.map((x) => x.name).sort(), o.name],
    });
  }
  entries.sort((a, b) => b.createdAt - a.createdAt || b.name.localeCompare(a.name));
  return { entries, orphanManifests: [] };
}
