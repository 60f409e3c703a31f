import { toBytes } from './mapping.js';

/**
 * etcd's defaults: --max-txn-ops=128 and --max-request-bytes=1.5 MiB. Staying under both keeps a batch acceptable to
 * any stock server; an entry bigger than the byte budget travels alone (and etcd will judge it).
 */
export const MAX_TXN_OPS = 128;
export const MAX_BATCH_BYTES = 1024 * 1024;

export type Entry = [Buffer, Buffer];

/**
 * Splits entries into Txn-sized batches, in order. A key may appear only once per Txn (etcd rejects duplicates), so
 * a repeated key starts a new batch.
 */
export function planBatches(
  entries: ReadonlyArray<readonly [string | Buffer, string | Buffer]>,
  maxOps = MAX_TXN_OPS,
  maxBytes = MAX_BATCH_BYTES,
): Entry[][] {
  const batches: Entry[][] = [];
  let current: Entry[] = [];
  let bytes = 0;
  let keys = new Set<string>();
  for (const [k, v] of entries) {
    const key = toBytes(k);
    const value = toBytes(v);
    const size = key.length + value.length + 16; // + protobuf framing, roughly
    const id = key.toString('latin1');
    if (current.length > 0 && (current.length >= maxOps || bytes + size > maxBytes || keys.has(id))) {
      batches.push(current);
      current = [];
      bytes = 0;
      keys = new Set();
    }
    current.push([key, value]);
    bytes += size;
    keys.add(id);
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/** Runs `work` over `items` with at most `concurrency` in flight; stops starting new work after the first failure. */
export async function runPool<T>(items: T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { err: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (!failure && next < items.length) {
      const item = items[next++]!;
      try {
        await work(item);
      } catch (err) {
        failure ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
  if (failure) throw failure.err;
}
