import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { SnapshotChunk } from '../../../src/adapters/etcd/client.js';
import { type Clock, runEvery } from '../../../src/adapters/snapshot/every.js';
import { SnapshotStreamError, streamSnapshot } from '../../../src/adapters/snapshot/stream.js';
import { fakeSnapshot, sha256, split } from './fixtures.js';

async function* chunksOf(bytes: Buffer, size: number, failAfter?: number): AsyncGenerator<SnapshotChunk> {
  let sent = 0;
  for (const blob of split(
    bytes,
    Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) => i * size),
  )) {
    if (failAfter !== undefined && sent >= failAfter) throw new Error('14 UNAVAILABLE: Connection dropped');
    sent += blob.length;
    yield { blob, remainingBytes: bytes.length - sent };
  }
}

/** A sink that takes `delayMs` per write, recording the most bytes ever in flight between source and sink. */
function slowSink(delayMs: number) {
  const received: Buffer[] = [];
  const sink = new Writable({
    highWaterMark: 64 * 1024,
    write(chunk: Buffer, _enc, cb) {
      received.push(chunk);
      setTimeout(cb, delayMs);
    },
  });
  return { sink, received };
}

describe('streamSnapshot', () => {
  const snap = fakeSnapshot(64); // 256 KiB + trailer

  it('passes every byte through in order, checks the trailer and reports progress', async () => {
    const { sink, received } = slowSink(0);
    const progress: Array<[number, number]> = [];
    const r = await streamSnapshot(chunksOf(snap, 32 * 1024), sink, { onProgress: (b, t) => progress.push([b, t]) });
    expect(r.check.ok).toBe(true);
    expect(Buffer.concat(received).equals(snap)).toBe(true);
    expect(r.stored).toEqual({ size: snap.length, sha256: sha256(snap) });
    expect(progress.at(-1)).toEqual([snap.length, snap.length]);
  });

  it('pulls from the source only as fast as the sink takes (backpressure)', async () => {
    const big = fakeSnapshot(2048); // 8 MiB in etcd's 32 KiB messages, into a slow sink
    const { sink } = slowSink(5);
    let pulled = 0;
    let written = 0;
    let maxAhead = 0;
    const write = sink._write.bind(sink);
    sink._write = (chunk, enc, cb) => {
      written += chunk.length;
      write(chunk, enc, cb);
    };
    async function* counted(): AsyncGenerator<SnapshotChunk> {
      for await (const c of chunksOf(big, 32 * 1024)) {
        pulled += c.blob.length;
        maxAhead = Math.max(maxAhead, pulled - written);
        yield c;
      }
    }
    const r = await streamSnapshot(counted(), sink);
    expect(r.check.ok).toBe(true);
    // In flight at most: one block being joined, one in the sink, and the read-ahead of a few messages.
    expect(maxAhead).toBeLessThan(3.5 * 1024 * 1024);
  });

  it('encrypts through the given transform and hashes the stored bytes', async () => {
    const { sink, received } = slowSink(0);
    async function* xor(input: AsyncIterable<Buffer>) {
      for await (const c of input) yield Buffer.from(c.map((b) => b ^ 0x5a));
    }
    const r = await streamSnapshot(chunksOf(snap, 10_000), sink, { encrypt: xor });
    expect(r.check.ok).toBe(true);
    expect(r.check.sha256).toBe(sha256(snap));
    expect(r.stored.sha256).toBe(sha256(Buffer.concat(received)));
    expect(r.stored.sha256).not.toBe(r.check.sha256);
  });

  it('says the stream ended early when the source dies mid-way', async () => {
    const { sink } = slowSink(0);
    const err = await streamSnapshot(chunksOf(snap, 32 * 1024, 100_000), sink).catch((e) => e);
    expect(err).toBeInstanceOf(SnapshotStreamError);
    expect(err.message).toMatch(
      /^snapshot stream ended early after \d+ of \d+ bytes: member killed\? \(14 UNAVAILABLE/,
    );
  });
});

describe('runEvery', () => {
  it('runs on a fixed grid with a fake clock, survives a failed run and stops on abort', async () => {
    let t = 0;
    const sleeps: number[] = [];
    const clock: Clock = {
      now: () => t,
      sleep: async (ms) => {
        sleeps.push(ms);
        t += ms;
      },
    };
    const controller = new AbortController();
    const starts: number[] = [];
    const errors: number[] = [];
    const runs = await runEvery({
      everyMs: 1000,
      clock,
      signal: controller.signal,
      run: async (n) => {
        starts.push(t);
        t += n === 2 ? 2500 : 100; // run 2 overruns two slots
        if (n === 3) throw new Error('unreachable');
        if (n === 5) controller.abort();
      },
      onError: (_e, n) => errors.push(n),
    });
    expect(runs).toBe(5);
    expect(starts).toEqual([0, 1000, 4000, 5000, 6000]);
    expect(errors).toEqual([3]);
  });
});
