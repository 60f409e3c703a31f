import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { gzipBlocks } from '../../../src/adapters/mysql/gzip.js';

async function collect(input: Buffer[], opts: Parameters<typeof gzipBlocks>[0]): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const chunk of gzipBlocks(opts)(Readable.from(input))) out.push(chunk);
  return Buffer.concat(out);
}

describe('gzipBlocks', () => {
  it('is one valid gzip stream (several members), in input order, whatever the chunking', async () => {
    const data = Buffer.from(Array.from({ length: 20_000 }, (_, i) => `row ${i} ${(i * 7919) % 1000}\n`).join(''));
    const chunks: Buffer[] = [];
    for (let i = 0; i < data.length; i += 777) chunks.push(data.subarray(i, i + 777));
    const packed = await collect(chunks, { blockBytes: 4096, parallel: 3 });
    expect(gunzipSync(packed).equals(data)).toBe(true);
    expect(packed.length).toBeLessThan(data.length / 2);
  });

  it('turns empty input into an empty (valid) gzip file', async () => {
    expect(gunzipSync(await collect([], {})).length).toBe(0);
  });
});
