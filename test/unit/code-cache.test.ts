import { describe, expect, it } from 'vitest';
import { cacheFileName, codeCacheDir, isPrivateDir } from '../../src/code-cache.js';

const dirStat = (uid: number, mode: number, dir = true) => ({ uid, mode, isDirectory: () => dir });

describe('code cache placement', () => {
  it('lives in the user cache directory, one per Node version and installation', () => {
    const a = codeCacheDir({ HOME: '/home/ana' }, 'v20.20.2', 'x64', '/opt/lifeboat/dist/bundle');
    expect(a).toMatch(/^\/home\/ana\/\.cache\/lifeboat\/code-v20\.20\.2-x64-[0-9a-f]{8}$/);
    expect(codeCacheDir({ HOME: '/home/ana', XDG_CACHE_HOME: '/var/cache/ana' }, 'v20.20.2', 'x64', '/b')).toMatch(
      /^\/var\/cache\/ana\/lifeboat\//,
    );
    // Another checkout or another Node keeps its own directory.
    expect(codeCacheDir({ HOME: '/home/ana' }, 'v20.20.2', 'x64', '/src/lifeboat/dist/bundle')).not.toBe(a);
    expect(codeCacheDir({ HOME: '/home/ana' }, 'v22.12.0', 'x64', '/opt/lifeboat/dist/bundle')).not.toBe(a);
  });

  it('is off when Node is told so, or when there is no absolute home to keep it in', () => {
    expect(codeCacheDir({ HOME: '/root', NODE_DISABLE_COMPILE_CACHE: '1' }, 'v20', 'x64', '/b')).toBeUndefined();
    expect(codeCacheDir({}, 'v20', 'x64', '/b')).toBeUndefined();
    expect(codeCacheDir({ HOME: 'relative/home' }, 'v20', 'x64', '/b')).toBeUndefined();
  });

  it('trusts only a directory that is ours and that nobody else can write', () => {
    expect(isPrivateDir(dirStat(1000, 0o40700), 1000)).toBe(true);
    expect(isPrivateDir(dirStat(1000, 0o40755), 1000)).toBe(true);
    expect(isPrivateDir(dirStat(0, 0o40700), 1000)).toBe(false);
    expect(isPrivateDir(dirStat(1000, 0o40770), 1000)).toBe(false);
    expect(isPrivateDir(dirStat(1000, 0o40707), 1000)).toBe(false);
    expect(isPrivateDir(dirStat(1000, 0o100600, false), 1000)).toBe(false);
  });

  it('names a cache file after the chunk, its size and its mtime, so a rebuilt chunk gets a new one', () => {
    expect(cacheFileName('check-CVpYA8lu.cjs', 24327, 1795807114009.42)).toBe(
      'check-CVpYA8lu.cjs.24327.1795807114009.v8',
    );
    expect(cacheFileName('lifeboat.cjs', 9948, 1)).not.toBe(cacheFileName('lifeboat.cjs', 9948, 2));
    expect(cacheFileName('lifeboat.cjs', 9948, 1)).not.toBe(cacheFileName('lifeboat.cjs', 9949, 1));
  });
});
