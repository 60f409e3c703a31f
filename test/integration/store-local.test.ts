import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreError } from '../../src/adapters/store/errors.js';
import { isTempFile, LocalStore } from '../../src/adapters/store/local.js';
import { openStore } from '../../src/adapters/store/open.js';
import { patternChunks, storeContract } from '../helpers/store-contract.js';

let root: string;
let store: LocalStore;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'lifeboat-test-store-'));
  store = new LocalStore(join(root, 'backups'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Every file under dir, relative, temp files included (what list() hides). */
function allFiles(dir: string, rel = ''): string[] {
  let entries: import('node:fs').Dirent[];
  try {
    entries = readdirSync(join(dir, rel), { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((e) => {
    const name = rel ? `${rel}/${e.name}` : e.name;
    return e.isDirectory() ? allFiles(dir, name) : [name];
  });
}

storeContract('local', () => ({
  store,
  bigBytes: 3 * 1024 * 1024,
  leftovers: async (prefix) => allFiles(store.location, prefix).filter((f) => isTempFile(f)),
}));

describe('local store specifics', () => {
  it('creates files 0600 and directories 0700', async () => {
    const pending = await store.create('modes/deep/x.db');
    await pipeline(patternChunks(1000), pending.stream);
    const temp = allFiles(store.location, 'modes/deep');
    expect(temp).toHaveLength(1);
    expect(statSync(join(store.location, temp[0]!)).mode & 0o777).toBe(0o600);
    await pending.commit();
    await store.putSmall('modes/deep/x.manifest.json', '{}');
    expect(statSync(join(store.location, 'modes/deep/x.db')).mode & 0o777).toBe(0o600);
    expect(statSync(join(store.location, 'modes/deep/x.manifest.json')).mode & 0o777).toBe(0o600);
    expect(statSync(join(store.location, 'modes')).mode & 0o777).toBe(0o700);
    expect(statSync(join(store.location, 'modes/deep')).mode & 0o777).toBe(0o700);
  });

  it('writes to a hidden temp file beside the target, which list() ignores, and renames on commit', async () => {
    const pending = await store.create('temp/x.db');
    pending.stream.write(Buffer.from('abc'));
    const files = allFiles(store.location, 'temp');
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^temp\/\.x\.db\.tmp-[A-Za-z0-9-]+\.\d+-[0-9a-f]{12}$/);
    expect(await store.list('temp/')).toEqual([]);
    pending.stream.end();
    await new Promise((resolve) => pending.stream.once('finish', resolve));
    await pending.commit();
    expect(allFiles(store.location, 'temp')).toEqual(['temp/x.db']);
  });

  it('refuses ".." and absolute names before touching the disk', () => {
    expect(() => store.locate('../outside')).toThrow(StoreError);
    expect(() => store.locate('a/../../outside')).toThrow(/escape the store/);
    expect(() => store.locate('/etc/passwd')).toThrow(/relative/);
  });

  it('checks free space first and says how much is needed and free', async () => {
    const fs = await statfs(store.location);
    const free = fs.bavail * fs.bsize;
    const err = await store.create('space/huge.db', { expectedSize: free * 2 + 1e12 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StoreError);
    const message = (err as StoreError).message;
    expect(message).toMatch(
      /^\/.*space\/huge\.db: not enough free space: need [\d.]+ [KMGT]iB, [\d.]+ [KMGT]iB free in /,
    );
    expect(message).not.toContain('\n');
    expect((err as StoreError).code).toBe('ENOSPC');
    expect(allFiles(store.location, 'space')).toEqual([]);
  });

  it('delete refuses a directory rather than removing anything under it', async () => {
    await store.putSmall('dir/inner/x', 'x');
    await expect(store.delete('dir/inner')).rejects.toThrow(/is a directory/);
    expect(await store.readSmall('dir/inner/x')).toEqual(Buffer.from('x'));
  });

  it('delete removes the directories it leaves empty, but never a top-level one or a non-empty one', async () => {
    await store.putSmall('tree/20200101T000000Z/apps/shop/release.json', '{}');
    await store.putSmall('tree/20200101T000000Z/index.json', '{}');
    await store.delete('tree/20200101T000000Z/apps/shop/release.json');
    // apps/shop and apps went; the capture directory still holds index.json.
    expect(existsSync(join(store.location, 'tree', '20200101T000000Z', 'apps'))).toBe(false);
    expect(existsSync(join(store.location, 'tree', '20200101T000000Z', 'index.json'))).toBe(true);
    await store.delete('tree/20200101T000000Z/index.json');
    expect(existsSync(join(store.location, 'tree', '20200101T000000Z'))).toBe(false);
    expect(existsSync(join(store.location, 'tree'))).toBe(true);
  });

  it('list skips foreign temp-looking files only, and survives a missing root', async () => {
    writeFileSync(join(store.location, 'dir', '.y.db.tmp-0123456789ab'), 'partial');
    writeFileSync(join(store.location, 'dir', '.hidden-but-ours'), 'kept');
    expect((await store.list('dir/')).map((o) => o.name)).toEqual(['dir/.hidden-but-ours', 'dir/inner/x']);
    expect(await new LocalStore(join(root, 'never-created')).list()).toEqual([]);
  });

  it('openStore resolves relative directories against cwd', () => {
    const opened = openStore('backups', { cwd: root });
    expect(opened).toBeInstanceOf(LocalStore);
    expect(opened.location).toBe(join(root, 'backups'));
    expect(opened.locate('etcd/a.db')).toBe(join(root, 'backups', 'etcd', 'a.db'));
  });
});
