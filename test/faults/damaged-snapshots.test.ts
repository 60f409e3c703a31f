import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtcdEndpointClient } from '../../src/adapters/etcd/client.js';
import { snapshotName } from '../../src/domain/backup/naming.js';
import { json, runCli } from '../helpers/cli.js';
import { type BatchResult, runCliBatch } from '../helpers/cli-batch.js';
import { startTestCluster, type TestCluster } from '../helpers/etcd-cluster.js';

/**
 * A corpus of damaged snapshots, as the fault run made them from good snapshots (and more: at least the 39 kinds it
 * tried): every one is named as damaged by `verify` (exit 1, one problem naming the damage, no stack trace), none
 * crashes or hangs, and its scratch directory is empty afterwards. With the manifest beside it (as in a store), the
 * stored bytes are compared with the manifest first. `recover --plan snapshot --snapshot FILE` refuses every one
 * (exit 2, one line naming the damage) where it plans on the same files undamaged. Both run in one process each
 * (runCliBatch).
 *
 * Two good snapshots: one of an empty etcd (the fault run's base; 5 pages) and one holding 1,500 keys (about 100
 * pages: two branch pages, leaf pages, the two meta pages; etcd writes no freelist page, so there is none to damage).
 */

const FULL_KEYS = 1500;
const PAGE = 4096;

let etcd: TestCluster;
let dir: string;
/** The snapshot of an empty etcd, and its manifest. */
let good: Buffer;
let goodManifest: string;
/** A snapshot holding FULL_KEYS keys, its manifest and its name in the store. */
let full: Buffer;
let fullManifest: string;
let fullName: string;
let emptyName: string;
const scratch = () => join(dir, 'scratch');

beforeAll(async () => {
  etcd = await startTestCluster(1);
  dir = mkdtempSync(join(tmpdir(), 'lifeboat-fault-snapshots-'));
  mkdirSync(scratch());
  const backup = async () => {
    const b = await runCli(['--endpoints', etcd.endpoints[0]!, '--json', 'backup', 'etcd', '--to', join(dir, 'store')]);
    expect(b.code, b.stderr).toBe(0);
    const location = json<{ location: string }>(b).location;
    return { bytes: readFileSync(location), manifest: readFileSync(`${location}.manifest.json`, 'utf8') };
  };
  ({ bytes: good, manifest: goodManifest } = await backup());
  const client = new EtcdEndpointClient(etcd.endpoints[0]!);
  try {
    const value = 'v'.repeat(150);
    await client.putMany(
      Array.from({ length: FULL_KEYS }, (_, i): [string, string] => [`/registry/k/${i}`, value]),
      { batchSize: 100, concurrency: 2, deadlineMs: 60_000 },
    );
  } finally {
    client.close();
  }
  ({ bytes: full, manifest: fullManifest } = await backup());
  fullName = nameIn(fullManifest);
  emptyName = nameIn(goodManifest);
}, 120_000);
afterAll(async () => {
  await etcd?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The snapshot's file name in its store (the manifest's name without the `etcd/` folder). */
function nameIn(manifest: string): string {
  return (JSON.parse(manifest) as { name: string }).name.replace(/^etcd\//, '');
}

/** The same bytes with the SHA-256 trailer recomputed, so only deeper checks can tell. */
function withTrailer(body: Buffer): Buffer {
  return Buffer.concat([body, createHash('sha256').update(body).digest()]);
}

interface Damage {
  name: string;
  bytes: Buffer;
  /** What verify's first problem must say. */
  problem: RegExp;
  /** The manifest text written beside it, as in a store (the file then carries the backup's name). */
  manifest?: string;
}

/** Indexes of the pages of a bbolt file by kind (a page with overflow counts once, at its first index). */
function pagesOf(body: Buffer): Record<'meta' | 'branch' | 'leaf', number[]> {
  const kinds: Record<'meta' | 'branch' | 'leaf', number[]> = { meta: [], branch: [], leaf: [] };
  for (let i = 0; i < body.length / PAGE; ) {
    const flags = body.readUInt16LE(i * PAGE + 8);
    if (flags === 0x04) kinds.meta.push(i);
    else if (flags === 0x01) kinds.branch.push(i);
    else if (flags === 0x02) kinds.leaf.push(i);
    i += 1 + body.readUInt32LE(i * PAGE + 12);
  }
  return kinds;
}

/** A byte flipped at `at`; with `trailer`, the SHA-256 trailer recomputed over the changed body. */
function flipped(snapshot: Buffer, at: number, trailer: 'kept' | 'recomputed'): Buffer {
  const b = Buffer.from(snapshot);
  b[at] = b[at]! ^ 0xff;
  return trailer === 'kept' ? b : withTrailer(b.subarray(0, b.length - 32));
}

/** A tar archive (ustar) holding one file, as `tar` makes it. */
function tarOf(name: string, bytes: Buffer): Buffer {
  const from = mkdtempSync(join(dir, 'tar-'));
  writeFileSync(join(from, name), bytes);
  const tar = spawnSync('tar', ['-c', '-C', from, name], { maxBuffer: 64 * 1024 * 1024 });
  rmSync(from, { recursive: true, force: true });
  if (tar.status !== 0) throw new Error(`tar failed: ${tar.stderr}`);
  return tar.stdout;
}

function corpus(): Damage[] {
  const size = good.length;
  const body = good.subarray(0, size - 32);
  const flip = (at: number) => {
    const b = Buffer.from(good);
    b[at] = b[at]! ^ 0xff;
    return b;
  };
  // The fault run's 18 on the empty etcd's snapshot (the 18th, with its manifest, is the next test).
  const first: Array<[string, Buffer, RegExp]> = [
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

  // More kinds, mostly on the snapshot holding keys: where a real file breaks (a copy cut short, bit rot in one page
  // of each kind, pages swapped or zeroed by a crash or a bad disk), what a person or a tool does to it (an editor's
  // newline, CRLF, base64, tar, two files joined), and a manifest beside it that does not describe it.
  const fullBody = full.subarray(0, full.length - 32);
  const pages = pagesOf(fullBody);
  const [leafA, leafB] = [pages.leaf[3]!, pages.leaf[pages.leaf.length - 4]!];
  const inPage = (page: number) => page * PAGE + 1000; // past the page header, into its elements
  const swapped = Buffer.from(fullBody);
  fullBody.copy(swapped, leafA * PAGE, leafB * PAGE, (leafB + 1) * PAGE);
  fullBody.copy(swapped, leafB * PAGE, leafA * PAGE, (leafA + 1) * PAGE);
  const middle = Math.floor(fullBody.length / PAGE / 2);
  const zeroedRun = Buffer.from(fullBody);
  zeroedRun.fill(0, (middle - 4) * PAGE, (middle + 4) * PAGE);
  const lastZeroed = Buffer.from(fullBody);
  lastZeroed.fill(0, fullBody.length - PAGE);
  const manifest = JSON.parse(fullManifest) as Record<string, unknown>;
  const withManifest = (fields: Record<string, unknown>) => JSON.stringify({ ...manifest, ...fields }, null, 2);
  const crlf = Buffer.from(full.toString('latin1').replace(/\n/g, '\r\n'), 'latin1');
  const more: Damage[] = [
    { name: 'cut at a page boundary (2 pages)', bytes: full.subarray(0, 2 * PAGE), problem: /truncated/ },
    { name: 'cut one page short', bytes: fullBody.subarray(0, fullBody.length - PAGE), problem: /truncated/ },
    { name: 'cut mid-page', bytes: full.subarray(0, 7 * PAGE + 1000), problem: /truncated/ },
    { name: 'cut one byte short of its trailer', bytes: full.subarray(0, full.length - 33), problem: /truncated/ },
    {
      name: 'branch page: a byte flipped',
      bytes: flipped(full, inPage(pages.branch[0]!), 'kept'),
      problem: /hash mismatch/,
    },
    { name: 'leaf page: a byte flipped', bytes: flipped(full, inPage(leafA), 'kept'), problem: /hash mismatch/ },
    { name: 'meta page 0: a byte flipped', bytes: flipped(full, 40, 'kept'), problem: /hash mismatch/ },
    { name: 'meta page 1: a byte flipped', bytes: flipped(full, PAGE + 40, 'kept'), problem: /hash mismatch/ },
    { name: 'two leaf pages swapped', bytes: Buffer.concat([swapped, full.subarray(-32)]), problem: /hash mismatch/ },
    {
      name: 'eight pages zeroed in the middle',
      bytes: Buffer.concat([zeroedRun, full.subarray(-32)]),
      problem: /hash mismatch/,
    },
    { name: 'last page zeroed', bytes: Buffer.concat([lastZeroed, full.subarray(-32)]), problem: /hash mismatch/ },
    { name: 'all zeroes, its size (a crash)', bytes: Buffer.alloc(full.length), problem: /not an etcd snapshot/ },
    { name: 'empty etcd: cut at a page boundary', bytes: good.subarray(0, 2 * PAGE), problem: /truncated/ },
    { name: 'empty etcd: meta page 1 byte flipped', bytes: flipped(good, PAGE + 40, 'kept'), problem: /hash mismatch/ },
    {
      name: 'two snapshots joined',
      bytes: Buffer.concat([full, good]),
      problem: /unexpected bytes after the hash trailer/,
    },
    {
      name: 'a newline added (an editor)',
      bytes: Buffer.concat([full, Buffer.from('\n')]),
      problem: /unexpected bytes after the hash trailer/,
    },
    { name: 'CRLF line ends', bytes: crlf, problem: /hash|truncated|unexpected bytes|not an etcd snapshot/ },
    { name: 'base64 of the snapshot', bytes: Buffer.from(full.toString('base64')), problem: /not an etcd snapshot/ },
    { name: 'a tar holding the snapshot', bytes: tarOf(fullName, full), problem: /not an etcd snapshot/ },
    {
      name: 'a UTF-8 BOM in front',
      bytes: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), full]),
      problem: /not an etcd snapshot/,
    },
    // As stored, with its manifest beside it: the trailer recomputed hides the change from etcd's own check.
    ...(
      [
        ['branch page', inPage(pages.branch[0]!)],
        ['leaf page', inPage(leafB)],
        ['meta page 0', 40],
        ['meta page 1', PAGE + 40],
      ] as const
    ).map(([where, at]) => ({
      name: `${where}: a byte flipped, trailer recomputed, manifest beside`,
      bytes: flipped(full, at, 'recomputed'),
      problem: /sha256 of the stored file differs from the manifest/,
      manifest: fullManifest,
    })),
    {
      name: 'two leaf pages swapped, trailer recomputed, manifest beside',
      bytes: withTrailer(swapped),
      problem: /sha256 of the stored file differs from the manifest/,
      manifest: fullManifest,
    },
    {
      name: 'eight pages zeroed, trailer recomputed, manifest beside',
      bytes: withTrailer(zeroedRun),
      problem: /sha256 of the stored file differs from the manifest/,
      manifest: fullManifest,
    },
    // The file is whole; the manifest beside it is not its own.
    {
      name: 'the manifest of another backup beside it',
      bytes: full,
      problem: /size|sha256/,
      manifest: goodManifest.replace(emptyName, fullName),
    },
    {
      name: 'a manifest whose size disagrees',
      bytes: full,
      problem: /size/,
      manifest: withManifest({ size: full.length + PAGE }),
    },
    {
      name: 'a manifest whose sha256 disagrees',
      bytes: full,
      problem: /sha256/,
      manifest: withManifest({ sha256: 'ab'.repeat(32) }),
    },
    { name: 'a manifest that is not JSON', bytes: full, problem: /manifest/, manifest: '{"format": 1, "name": ' },
    { name: 'an empty manifest', bytes: full, problem: /manifest/, manifest: '' },
    {
      name: "a manifest claiming a revision past the file's",
      bytes: full,
      problem: /revision/,
      manifest: withManifest({ revision: 1_000_000 }),
    },
  ];
  return [...first.map(([name, bytes, problem]) => ({ name, bytes, problem })), ...more];
}

/** Each damage in its own folder, under the backup's own name when a manifest goes beside it. */
function layOut(cases: Damage[]): Array<Damage & { file: string; scratch: string }> {
  return cases.map((c) => {
    const slug = c.name.replace(/\W+/g, '-');
    const folder = join(dir, 'corpus', slug);
    mkdirSync(folder, { recursive: true });
    const file = join(folder, c.manifest === undefined ? `${slug}.db` : fullName);
    writeFileSync(file, c.bytes);
    if (c.manifest !== undefined) writeFileSync(`${file}.manifest.json`, c.manifest);
    const own = join(dir, 'scratches', slug);
    mkdirSync(own, { recursive: true });
    return { ...c, file, scratch: own };
  });
}

function recoverConfig(): { config: string; unit: string } {
  const config = join(dir, 'recover.yaml');
  writeFileSync(config, `etcd:\n  endpoints: [${etcd.endpoints[0]}]\n  executor: systemd\n`);
  const unit = join(dir, 'etcd.service');
  const m = etcd.members[0]!.spec;
  writeFileSync(
    unit,
    `[Service]\nExecStart=/usr/bin/etcd --name ${m.name} --data-dir /var/lib/etcd --listen-client-urls ${m.clientUrl} --advertise-client-urls ${m.clientUrl} --initial-advertise-peer-urls ${m.peerUrl} --initial-cluster ${m.name}=${m.peerUrl}\n`,
  );
  return { config, unit };
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

const said = (r: BatchResult) => `exit ${r.code}\n${r.stdout}\n${r.stderr}`;

describe('a corpus of damaged snapshots', { timeout: 300_000 }, () => {
  it('verify names the damage of each: exit 1, one problem, no stack, its scratch dir left empty', async () => {
    const cases = layOut(corpus());
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
    expect(cases.length + 1).toBeGreaterThanOrEqual(39); // with the next test's: at least the fault run's 39
    const results = await runCliBatch(
      cases.map((c) => ['--json', 'verify', c.file, '--scratch-dir', c.scratch]),
      { cwd: dir, deadlineMs: 90_000 },
    );
    for (const [i, c] of cases.entries()) {
      const res = results[i]!;
      const what = `${c.name}: ${said(res)}`;
      expect(res.code, what).toBe(1);
      const doc = JSON.parse(res.stdout) as { ok: boolean; problems: string[] };
      expect(doc.ok, what).toBe(false);
      expect(doc.problems.length, what).toBeGreaterThanOrEqual(1);
      expect(doc.problems[0], what).toMatch(c.problem);
      expect(res.stderr, what).not.toMatch(/\n\s+at /);
      expect(readdirSync(c.scratch), what).toEqual([]);
    }
  });

  it('recover --plan snapshot refuses each damaged file with one line naming the damage; the good ones it plans on', async () => {
    const { config, unit } = recoverConfig();
    const cases = layOut(corpus());
    const recover = (file: string) => [
      '-c',
      config,
      'recover',
      '--plan',
      'snapshot',
      '--snapshot',
      file,
      '--force',
      '--unit',
      unit,
    ];
    // The good ones, with their manifests, as they lie in the store: the snapshot plan (a rollback, shown, not run).
    const store = join(dir, 'store', 'etcd');
    const goodOnes = [join(store, fullName), join(store, emptyName)];
    const results = await runCliBatch(
      [...goodOnes.map((f) => [...recover(f), '--json']), ...cases.map((c) => recover(c.file))],
      { cwd: dir, deadlineMs: 90_000 },
    );
    for (const [i, file] of goodOnes.entries()) {
      const res = results[i]!;
      expect(res.code, `${file}: ${said(res)}`).toBe(0);
      expect(JSON.parse(res.stdout), file).toMatchObject({ ok: true, plan: 'snapshot', executed: false });
    }
    for (const [i, c] of cases.entries()) {
      const res = results[goodOnes.length + i]!;
      const what = `${c.name}: ${said(res)}`;
      expect(res.code, what).toBe(2);
      expect(res.stdout, what).not.toMatch(/Plan: snapshot/);
      const lines = res.stderr.trimEnd().split('\n');
      expect(lines, what).toHaveLength(1);
      expect(lines[0], what).toMatch(/^lifeboat: error: the snapshot plan does not apply: cannot use /);
      expect(lines[0], what).toContain(c.file);
    }
  });

  it('recover searching a store passes over every damaged snapshot, all newer and marked verified, for the good one', async () => {
    const { config, unit } = recoverConfig();
    const store = join(dir, 'mixed', 'etcd');
    mkdirSync(store, { recursive: true });
    const manifest = JSON.parse(fullManifest) as Record<string, unknown>;
    const drill = {
      ok: true,
      at: new Date().toISOString(),
      revision: null,
      keys: null,
      hashKVMatch: null,
      seconds: 1,
      problems: [],
    };
    const verified = (name: string, m: Record<string, unknown>) =>
      JSON.stringify({ ...m, name: `etcd/${name}`, verified: drill });
    writeFileSync(join(store, fullName), full);
    writeFileSync(join(store, `${fullName}.manifest.json`), verified(fullName, manifest));
    // Each damaged one newer than the good one, with the good one's manifest (drill passed) or its own damaged one.
    const created = Date.parse((manifest.createdAt as string) ?? new Date().toISOString());
    const cases = corpus();
    for (const [i, c] of cases.entries()) {
      const name = snapshotName(created + (i + 1) * 1000, undefined, false).replace(/^etcd\//, '');
      writeFileSync(join(store, name), c.bytes);
      let text = verified(name, manifest);
      if (c.manifest !== undefined) {
        try {
          text = verified(name, JSON.parse(c.manifest) as Record<string, unknown>);
        } catch {
          text = c.manifest; // not JSON: listed as a bad manifest, never as verified
        }
      }
      writeFileSync(join(store, `${name}.manifest.json`), text);
    }
    writeFileSync(
      config,
      `etcd:\n  endpoints: [${etcd.endpoints[0]}]\n  executor: systemd\nbackups:\n  to: [${dirname(store)}]\n`,
    );
    const res = await runCli(['-c', config, '--json', 'recover', '--plan', 'snapshot', '--force', '--unit', unit], {
      timeoutMs: 180_000,
    });
    expect(res.code, res.stderr).toBe(0);
    const plan = json<{ plan: string; snapshot: { file: string; picked: string } }>(res);
    expect(plan.plan).toBe('snapshot');
    expect(plan.snapshot.file).toBe(join(store, fullName));
    // Every damaged one with a JSON manifest was a candidate (marked verified, newer), and every one was passed over.
    const candidates = 1 + cases.filter((c) => c.manifest === undefined || isJson(c.manifest)).length;
    expect(plan.snapshot.picked).toContain(
      `the newest snapshot whose restore drill passed (of ${candidates} in 1 store(s))`,
    );
    expect(candidates).toBeGreaterThan(40);
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
