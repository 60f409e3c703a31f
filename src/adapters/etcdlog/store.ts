import {
  type ChainLayout,
  type ChainManifest,
  chainLayout,
  chainManifestName,
  chainOfManifestName,
  chainStart,
  checkLink,
  LOG_PREFIX,
  type LogObjectName,
  parseLogObjectName,
} from '../../domain/etcdlog/chain.js';
import { type DecodedSegment, decodeSegment } from '../../domain/etcdlog/segment.js';
import { errorMessage } from '../../errors.js';
import type { ByteTransform } from '../snapshot/stream.js';
import type { BackupStore } from '../store/types.js';

/** The change log's objects in a store: chains, their manifests, reading and checking objects in chain order. */

/** Runs a whole small object (or its pieces, in order) through a byte stage (age encryption or decryption). */
export async function transformBytes(
  bytes: Buffer | readonly Buffer[],
  stage: ByteTransform | undefined,
): Promise<Buffer> {
  if (!stage) return Buffer.isBuffer(bytes) ? bytes : Buffer.concat(bytes);
  const parts: Buffer[] = [];
  for await (const piece of stage(
    (async function* () {
      if (Buffer.isBuffer(bytes)) yield bytes;
      else yield* bytes;
    })(),
  )) {
    parts.push(Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength));
  }
  return Buffer.concat(parts);
}

export interface StoredChain {
  manifest: ChainManifest;
  layout: ChainLayout;
}

/** Every chain in the store with its layout (names only: nothing but the manifests is read). */
export async function listChains(store: BackupStore): Promise<{ chains: StoredChain[]; problems: string[] }> {
  const objects = await store.list(LOG_PREFIX);
  const names: LogObjectName[] = [];
  const manifests: string[] = [];
  for (const o of objects) {
    const parsed = parseLogObjectName(o);
    if (parsed) names.push(parsed);
    else if (chainOfManifestName(o.name)) manifests.push(o.name);
  }
  const chains: StoredChain[] = [];
  const problems: string[] = [];
  for (const name of manifests) {
    const manifest = await readChainManifest(store, name);
    if ('error' in manifest) {
      problems.push(manifest.error);
      continue;
    }
    const start = chainStart(manifest);
    chains.push({ manifest, layout: chainLayout(manifest.chain, start.revision, names, start.prev) });
  }
  chains.sort((a, b) => a.manifest.createdAt.localeCompare(b.manifest.createdAt));
  return { chains, problems };
}

async function readChainManifest(store: BackupStore, name: string): Promise<ChainManifest | { error: string }> {
  try {
    const data = await store.readSmall(name);
    if (!data) return { error: `${name}: gone` };
    const m = JSON.parse(data.toString('utf8')) as ChainManifest;
    if (m.format !== 1 || typeof m.chain !== 'string' || typeof m.baseRevision !== 'number') {
      return { error: `${name}: not a chain manifest` };
    }
    return m;
  } catch (err) {
    return { error: `${name}: ${errorMessage(err)}` };
  }
}

export function writeChainManifest(store: BackupStore, manifest: ChainManifest): Promise<void> {
  return store.putSmall(chainManifestName(manifest.chain), `${JSON.stringify(manifest, null, 2)}\n`);
}

/** A log object that is not what the chain needs at its place: the one-line reason restore and verify report. */
export class BrokenLogError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BrokenLogError';
  }
}

/**
 * Reads a chain's objects in order, checking each one's trailer and its link to the one before. Yields decoded
 * objects; throws BrokenLogError at the first object that does not check out, and at the layout's own problem (a
 * missing range) once the objects before it are read. `until`: stop after the object that holds this revision.
 * A running follower may seal its open chunks while we read: a chunk gone meanwhile is replaced by the sealed
 * segment that covers it (it chains to the last sealed segment before the chunks), and reading goes on after it.
 */
export async function* readChain(
  store: BackupStore,
  layout: ChainLayout,
  opts: { decrypt?: ByteTransform; until?: number; fromObject?: number } = {},
): AsyncGenerator<{ object: LogObjectName; decoded: DecodedSegment }> {
  // Starting in the middle (a follower's restart): the first object's own `prev` is taken as given.
  const from = opts.fromObject ?? 0;
  let prev: string | undefined = from > 0 ? undefined : (layout.startHash ?? undefined);
  let sealedPrev = prev;
  let last = from > 0 ? layout.objects[from]!.first - 1 : layout.baseRevision;
  let current = layout;
  let objects = layout.objects.slice(from);
  const stop = () => opts.until !== undefined && last >= opts.until;
  for (let i = 0; i < objects.length && !stop(); i++) {
    let object = objects[i]!;
    let bytes = await readObject(store, object, opts.decrypt);
    let expected = prev;
    if (!bytes && object.kind === 'chunk') {
      current = await relist(store, layout);
      const seg = current.objects.find((o) => o.kind === 'segment' && o.first <= last + 1 && o.last > last);
      if (seg) {
        object = seg;
        expected = sealedPrev;
        bytes = await readObject(store, seg, opts.decrypt);
        objects = [seg, ...current.objects.filter((o) => o.first > seg.last)];
        i = 0;
      }
    }
    if (!bytes) throw new BrokenLogError(`${object.name}: gone while reading`);
    const decoded = decodeSegment(bytes);
    const problem = checkLink(object, decoded, expected ?? ('error' in decoded ? '' : decoded.header.prev));
    if (problem) throw new BrokenLogError(`chain ${layout.chain}: ${problem}`);
    const ok = decoded as DecodedSegment;
    prev = ok.hash;
    if (object.kind === 'segment') sealedPrev = ok.hash;
    const fresh = ok.groups[0]!.revision > last ? ok : { ...ok, groups: ok.groups.filter((g) => g.revision > last) };
    last = object.last;
    yield { object, decoded: fresh };
  }
  if (!stop() && current.problem && current.lastRevision <= last) {
    throw new BrokenLogError(`chain ${layout.chain}: ${current.problem}`);
  }
}

async function readObject(store: BackupStore, object: LogObjectName, decrypt: ByteTransform | undefined) {
  if (object.encrypted && !decrypt) {
    throw new BrokenLogError(`${object.name} is age-encrypted: give --identity or $LIFEBOAT_AGE_IDENTITY`);
  }
  let bytes: Buffer | undefined;
  try {
    bytes = await store.readSmall(object.name);
  } catch (err) {
    throw new BrokenLogError(`${object.name}: cannot read (${errorMessage(err)})`);
  }
  if (!bytes || !object.encrypted) return bytes;
  try {
    return await transformBytes(bytes, decrypt);
  } catch (err) {
    throw new BrokenLogError(`${object.name}: ${errorMessage(err)}`);
  }
}

async function relist(store: BackupStore, layout: ChainLayout): Promise<ChainLayout> {
  const names = (await store.list(`${LOG_PREFIX}${layout.chain}/`)).flatMap((o) => parseLogObjectName(o) ?? []);
  return chainLayout(layout.chain, layout.baseRevision, names, layout.startHash);
}
