import { describe, expect, it } from 'vitest';
import { cacheFileName, codeCacheDir, isPrivateDir, isTrustedPath } from '../../src/code-cache.js';

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
    // A relative XDG_CACHE_HOME is not one (the XDG spec): HOME's .cache it is.
    expect(codeCacheDir({ HOME: '/root', XDG_CACHE_HOME: 'cache' }, 'v20', 'x64', '/b')).toMatch(/^\/root\/\.cache\//);
  });

  it('trusts only a directory that is ours and that nobody else can write', () => {
    expect(isPrivateDir(dirStat(1000, 0o40700), 1000)).toBe(true);
    expect(isPrivateDir(dirStat(1000, 0o40755), 1000)).toBe(true);
    expect(isPrivateDir(dirStat(0, 0o40700), 1000)).toBe(false);
    expect(isPrivateDir(dirStat(1000, 0o40770), 1000)).toBe(false);
    expect(isPrivateDir(dirStat(1000, 0o40707), 1000)).toBe(false);
    expect(isPrivateDir(dirStat(1000, 0o100600, false), 1000)).toBe(false);
  });

  it('names a cache file after the chunk and the hash of its code, so a rebuilt chunk gets a new one', () => {
    expect(cacheFileName('lifeboat.cjs', '0123456789abcdef')).toBe('lifeboat.cjs.0123456789abcdef.v8');
    expect(cacheFileName('lifeboat.cjs', 'a')).not.toBe(cacheFileName('lifeboat.cjs', 'b'));
  });

  it('trusts a path only when nobody but us or root can move what lies along it', () => {
    const tree = (dirs: Record<string, [number, number]>) => (path: string) => {
      const found = dirs[path];
      return found && { uid: found[0], mode: 0o40000 | found[1], isDirectory: () => true };
    };
    const home = { '/': [0, 0o755], '/home': [0, 0o755], '/home/ana': [1000, 0o750] } as Record<
      string,
      [number, number]
    >;
    const cache = '/home/ana/.cache/lifeboat/code-x';
    expect(isTrustedPath(cache, 1000, tree(home))).toBe(true);
    // Root under sudo -E, with ana's HOME: ana could swap the directory.
    expect(isTrustedPath(cache, 0, tree(home))).toBe(false);
    // A world-writable directory on the way, unless sticky like /tmp.
    expect(isTrustedPath('/tmp/x/lifeboat', 1000, tree({ '/': [0, 0o755], '/tmp': [0, 0o1777] }))).toBe(true);
    expect(isTrustedPath('/scratch/x/lifeboat', 1000, tree({ '/': [0, 0o755], '/scratch': [0, 0o777] }))).toBe(false);
    expect(isTrustedPath(cache, 1000, tree({ ...home, '/home/ana/.cache': [1000, 0o770] }))).toBe(false);
  });
});
