import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SnapshotFrameParser } from '../../../src/adapters/etcd/snapshot-stream.js';
import { split } from './fixtures.js';

function varint(n: number): Buffer {
  const bytes: number[] = [];
  let v = n;
  while (v >= 0x80) {
    bytes.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  bytes.push(v);
  return Buffer.from(bytes);
}
const field = (number: number, wire: number, payload: Buffer) =>
  Buffer.concat([varint(number * 8 + wire), wire === 2 ? varint(payload.length) : Buffer.alloc(0), payload]);

/** A SnapshotResponse as etcd marshals it (fields in number order), in one gRPC frame. */
function frame(blob: Buffer, remaining: number, version = ''): Buffer {
  const header = field(1, 2, Buffer.concat([field(1, 0, varint(7)), field(3, 0, varint(1234))]));
  const body = Buffer.concat([
    header,
    remaining > 0 ? field(2, 0, varint(remaining)) : Buffer.alloc(0),
    field(3, 2, blob),
    version ? field(4, 2, Buffer.from(version)) : Buffer.alloc(0),
  ]);
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(body.length, 1);
  return Buffer.concat([prefix, body]);
}

describe('SnapshotFrameParser', () => {
  const blobs = [Buffer.alloc(32768, 1), Buffer.alloc(32768, 2), Buffer.alloc(5000, 3), Buffer.alloc(32, 4)];
  const total = blobs.reduce((n, b) => n + b.length, 0);
  let left = total;
  const stream = Buffer.concat(
    blobs.map((b, i) => {
      left -= b.length;
      return frame(b, left, i === blobs.length - 1 ? '3.5.0' : '');
    }),
  );

  function parse(cuts: number[]) {
    const parser = new SnapshotFrameParser();
    const pieces: Buffer[] = [];
    const remaining: number[] = [];
    for (const data of split(stream, cuts)) {
      for (const c of parser.push(data)) {
        pieces.push(c.blob);
        remaining.push(c.remainingBytes);
      }
    }
    return { parser, blob: Buffer.concat(pieces), remaining };
  }

  it('yields every blob byte in order and the remaining_bytes of each message, however DATA is cut', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: stream.length - 1 }), { maxLength: 30 }), (cuts) => {
        const r = parse(cuts);
        expect(r.blob.equals(Buffer.concat(blobs))).toBe(true);
        expect(r.remaining.at(-1)).toBe(0);
        expect(r.parser.atBoundary).toBe(true);
      }),
      { numRuns: 300 },
    );
    const bytewise = parse(Array.from({ length: stream.length }, (_, i) => i));
    expect(bytewise.blob.equals(Buffer.concat(blobs))).toBe(true);
  });

  it('knows when the stream stops inside a message, and refuses compressed frames', () => {
    const parser = new SnapshotFrameParser();
    for (const _ of parser.push(stream.subarray(0, 1000))) {
      // drain
    }
    expect(parser.atBoundary).toBe(false);
    const compressed = Buffer.from(stream);
    compressed[0] = 1;
    expect(() => [...new SnapshotFrameParser().push(compressed)]).toThrow(/compressed/);
  });
});
