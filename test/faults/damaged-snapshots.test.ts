import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, runCli } from '../helpers/cli.js';
import { startTestCluster, type TestCluster } from '../helpers/etcd-cluster.js';

/**
 * A corpus of damaged snapshots, as the fault run made them from one good snapshot: every one is named as damaged by
 * `verify` (exit 1, one problem naming the damage, no stack trace), none crashes or hangs, and the scratch directory
 * is empty afterwards. With the manifest beside it, the stored bytes are compared first.
 */

let etcd: TestCluster;
let dir: string;
let good: Buffer;
let goodManifest: string;
const scratch = () => join(dir, 'scratch');

beforeAll(async () => {
  etcd = await startTestCluster(1);
  dir = mkdtempSync(join(tmpdir(), 'lifeboat-fault-snapshots-'));
  mkdirSync(scratch());
  const b = await runCli(['--endpoints', etcd.endpoints[0]!, '--json', 'backup', 'etcd', '--to', join(dir, 'store')]);
  expect(b.code, b.stderr).toBe(0);
  const location = json<{ location: string }>(b).location;
  good = readFileSync(location);
  goodManifest = readFileSync(`${location}.manifest.json`, 'utf8');
}, 60_000);
afterAll(async () => {
  await etcd?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The same bytes with the SHA-256 trailer recomputed, so only deeper checks can tell. */
function withTrailer(body: Buffer): Buffer {
  return Buffer.concat([body, createHash('sha256').update(body).digest()]);
}

function corpus(): Array<[string, Buffer, RegExp]> {
  const size = good.length;
  const body = good.subarray(0, size - 32);
  const flip = (at: number) => {
    const b = Buffer.from(good);
    b[at] = b[at]! ^ 0xff;
    return b;
  };
  return [
    ['empty', Buffer.alloc(0), /empty file/],
    ['10 bytes', good.subarray(0, 10), /truncated: only 10 bytes/],
    ['one page', good.subarray(0, 4096), /truncated/],
    ['half', good.subarray(0, Math.floor(size / 2)), /truncated/],
    ['trailer cut by one byte', good.subarray(0, size - 1), /truncated|hash/],
    ['trailer missing', body, /hash trailer missing/],
    ['a byte appended', Buffer.concat([good, Buffer.from([0])]), /unexpected bytes after the hash trailer/],
    ['a page appended', Buffer.concat([good, Buffer.alloc(4096)]), /unexpected bytes after the hash trailer/],
    ['first byte flipped', flip(0), /not an etcd snapshot|hash/],
    ['a byte in the middle flipped', flip(Math.floor(size / 2)), /hash mismatch/],
    ['a trailer byte flipped', flip(size - 5), /hash mismatch/],
    ['header zeroed', Buffer.concat([Buffer.alloc(4096), good.subarray(4096)]), /not an etcd snapshot/],
    ['random bytes', createHash('sha512').update('x').digest().subarray(0, 64), /not an etcd snapshot|truncated/],
    ['gzip of the snapshot', gzipSync(good), /not an etcd snapshot/],
    ['a text file', Buffer.from('etcd snapshot\n'.repeat(500)), /not an etcd snapshot/],
    ['age header only', Buffer.from('age-encryption.org/v1\n-> X25519 abc\n'), /age-encrypted/],
    [
      'meta page zeroed, trailer recomputed',
      withTrailer(Buffer.concat([body.subarray(0, 16), Buffer.alloc(64), body.subarray(80)])),
      /./,
    ],
  ];
}

describe('a corpus of damaged snapshots', { timeout: 300_000 }, () => {
  it('verify names the damage of each, without a manifest: exit 1, one problem, no stack, scratch left empty', async () => {
    const cases = corpus();
    for (const [name, bytes, problem] of cases) {
      const file = join(dir, `${name.replace(/\W+/g, '-')}.db`);
      writeFileSync(file, bytes);
      const res = await runCli(['--json', 'verify', file, '--scratch-dir', scratch()], { timeoutMs: 120_000 });
      const what = `${name}: exit ${res.code} ${res.stdout} ${res.stderr}`;
      expect(res.code, what).toBe(1);
      const doc = json<{ ok: boolean; problems: string[] }>(res);
      expect(doc.ok, what).toBe(false);
      expect(doc.problems.length, what).toBeGreaterThanOrEqual(1);
      expect(doc.problems[0], what).toMatch(problem);
      expect(res.stderr, what).not.toMatch(/\n\s+at /);
      expect(readdirSync(scratch()), what).toEqual([]);
    }
  });

  it('with the manifest beside it, the stored bytes are compared with the manifest first', async () => {
    const store = join(dir, 'with-manifest', 'etcd');
    mkdirSync(store, { recursive: true });
    const name = JSON.parse(goodManifest).name.replace(/^etcd\//, '') as string;
    copyFileSync(join(dir, 'store', 'etcd', name), join(store, name));
    const flipped = readFileSync(join(store, name));
    const middle = Math.floor(flipped.length / 2);
    flipped[middle] = flipped[middle]! ^ 0x01;
    writeFileSync(join(store, name), withTrailer(flipped.subarray(0, flipped.length - 32)));
    writeFileSync(join(store, `${name}.manifest.json`), goodManifest);
    const res = await runCli(['--json', 'verify', join(store, name), '--scratch-dir', scratch()], {
      timeoutMs: 120_000,
    });
    expect(res.code, res.stderr).toBe(1);
    expect(json<{ problems: string[] }>(res).problems[0]).toMatch(/sha256|manifest/i);
    expect(readdirSync(scratch())).toEqual([]);
  });
});
