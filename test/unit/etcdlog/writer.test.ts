import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { listChains, readChain, writeChainManifest } from '../../../src/adapters/etcdlog/store.js';
import { LogWriter } from '../../../src/adapters/etcdlog/writer.js';
import { LocalStore } from '../../../src/adapters/store/local.js';
import type { BackupStore, SmallData } from '../../../src/adapters/store/types.js';
import type { ChainManifest } from '../../../src/domain/etcdlog/chain.js';
import type { LogPolicy } from '../../../src/domain/etcdlog/replay.js';
import type { LogEvent, RevisionGroup } from '../../../src/domain/etcdlog/segment.js';

/**
 * The follower's writer against a real directory: whatever the watch responses, ticks, seals, failed writes and
 * restarts, the chain read back holds every revision received before the last successful tick, once and in order.
 * (The writer holds the open segment in one reused buffer: this is what proves the views it writes from.)
 */

const root = mkdtempSync(join(tmpdir(), 'lifeboat-writer-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A local store whose small puts fail while `failing` is set: a full disk or a lost NFS mount, for one tick. */
class FlakyStore extends LocalStore {
  failing = false;
  override async putSmall(name: string, data: SmallData, opts?: { exclusive?: boolean }): Promise<void> {
    if (this.failing && name.includes('/chunk-')) throw new Error('no space left on device');
    return super.putSmall(name, data, opts);
  }
}

const value = fc.uint8Array({ minLength: 0, maxLength: 300 }).map((a) => Buffer.from(a));
const event = fc.oneof(
  fc.record({
    type: fc.constant('put' as const),
    key: fc.constantFrom('a', 'b', 'c', 'd').map((k) => Buffer.from(`/k/${k}`)),
    value,
    createRevision: fc.integer({ min: 1, max: 1000 }),
    version: fc.integer({ min: 1, max: 50 }),
    lease: fc.constantFrom('0', '7587888393766402305'),
  }),
  fc.record({ type: fc.constant('delete' as const), key: fc.constant(Buffer.from('/k/a')) }),
);
/** A watch response: revisions, each with its events. */
const response = fc.array(fc.array(event, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 6 });
/**
 * One step of the follower's life: a watch response, a tick (with maybe a response arriving while its writes run),
 * a failing tick, a restart.
 */
const step = fc.oneof(
  { weight: 5, arbitrary: response },
  { weight: 2, arbitrary: fc.record({ tick: fc.constant(true), during: fc.option(response, { nil: undefined }) }) },
  { weight: 1, arbitrary: fc.constant('failing tick' as const) },
  { weight: 1, arbitrary: fc.constant('restart' as const) },
);

async function readAll(store: BackupStore): Promise<RevisionGroup[]> {
  const { chains } = await listChains(store);
  const groups: RevisionGroup[] = [];
  for await (const { decoded } of readChain(store, chains[0]!.layout)) groups.push(...decoded.groups);
  return groups;
}

describe('LogWriter', () => {
  it('writes every revision of every tick once and in order, through seals, failed writes and restarts', async () => {
    let run = 0;
    let sealedRuns = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(step, { minLength: 8, maxLength: 40 }),
        fc.integer({ min: 200, max: 3000 }),
        fc.integer({ min: 1000, max: 5000 }),
        async (steps, sealBytes, sealAfterMs) => {
          const store = new FlakyStore(join(root, `run-${run++}`));
          const policy: LogPolicy = { durableEveryMs: 1000, sealBytes, sealAfterMs };
          const manifest: ChainManifest = {
            format: 1,
            chain: 'c1',
            clusterId: 'x',
            base: 'etcd/base.db',
            baseRevision: 100,
            createdAt: new Date(0).toISOString(),
            reason: 'started',
            encrypted: false,
          };
          await writeChainManifest(store, manifest);
          let now = 1_000;
          let writer = LogWriter.start(store, 'c1', 100, policy, undefined, now);
          const sent: RevisionGroup[] = [];
          let durable = 100;
          const deliver = (revisions: LogEvent[][]) => {
            const groups = revisions.map((events, i) => ({
              revision: writer.lastReceived + 1 + i,
              observedAt: now,
              events,
            }));
            if (sent.length > 0) writer.receive([sent.at(-1)!]); // a resumed watch may repeat what is held
            writer.receive(groups);
            sent.push(...groups);
          };
          for (const s of steps) {
            now += 500;
            if (s === 'failing tick' || (typeof s === 'object' && 'tick' in s)) {
              store.failing = s === 'failing tick';
              const before = writer.durable.revision;
              const taken = writer.lastReceived;
              const flushing = writer.flush(now).then(
                () => false,
                (err: Error) => {
                  expect(err.message).toMatch(/no space/);
                  return true;
                },
              );
              // Revisions arriving while the chunk (and maybe the seal) is being written go to the next chunk.
              if (typeof s === 'object' && 'tick' in s && s.during) deliver(s.during);
              const failed = await flushing;
              // A write fails only when there was one to make, and only while the store fails.
              expect(failed).toBe(store.failing && taken > before);
              store.failing = false;
              durable = writer.durable.revision;
              expect(durable).toBe(failed ? before : taken);
            } else if (s === 'restart') {
              // A SIGKILL: what was not durable is gone, and the watch resumes after the last durable revision.
              sent.splice(durable - 100);
              const { chains } = await listChains(store);
              writer = await LogWriter.resume(store, chains[0]!, policy, {}, now);
              expect(writer.lastReceived).toBe(durable);
            } else deliver(s);
          }
          await writer.flush(now + 1);
          const back = await readAll(store);
          expect(back.map((g) => g.revision)).toEqual(sent.map((g) => g.revision));
          expect(back).toEqual(sent);
          if ((await store.list('etcd-log/')).some((o) => o.name.includes('/segment-'))) sealedRuns++;
        },
      ),
      { numRuns: 60 },
    );
    expect(sealedRuns, 'runs that sealed a segment').toBeGreaterThan(20);
  });
});
