import {
  closeSync,
  constants,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import Module from 'node:module';
import { basename, dirname, join } from 'node:path';
import vm from 'node:vm';

/**
 * V8 code cache for the bundled CLI (ADR 009): from its second run a command skips parsing and compiling the code it
 * ran before, about 30 ms of every start. Node >= 22.1 does this itself (`module.enableCompileCache`, what npm uses);
 * on Node 20 the bundle's chunks are compiled here through `vm.Script` with `cachedData`, as v8-compile-cache does.
 * Everything fails open: no HOME, a read-only disk or a rejected cache just means compiling.
 *
 * Cached code is code, so the cache is used only where nobody else can put files: the directory must be ours and
 * writable by nobody else, and every directory above it ours or root's and not writable by others (or sticky, like
 * /tmp). `sudo -E` keeps alice's HOME: root then keeps no cache at all rather than one alice could swap.
 */

type CompileFn = (this: NodeModule, content: string, filename: string) => unknown;
interface ModuleInternals {
  prototype: { _compile: CompileFn };
  wrap(content: string): string;
  _resolveFilename(request: string, parent: NodeModule, isMain: boolean, options?: unknown): string;
  _cache: NodeJS.Require['cache'];
  enableCompileCache?: (dir?: string) => { directory?: string } | undefined;
}

export interface CodeCacheEnv {
  HOME?: string;
  XDG_CACHE_HOME?: string;
  /** Node's own switch for its compile cache; honoured for ours too. */
  NODE_DISABLE_COMPILE_CACHE?: string;
  /** Say on stderr, chunk by chunk, whether compiled code came from the cache (Node 20 only; for tests). */
  LIFEBOAT_DEBUG_CODE_CACHE?: string;
}

interface DirStat {
  uid: number;
  mode: number;
  isDirectory(): boolean;
}

/**
 * Where compiled code is kept, or undefined when caching is off or there is no home to keep it in. One directory per
 * Node version and per installation (two checkouts must not keep replacing each other's cache). A relative
 * XDG_CACHE_HOME is ignored, as the XDG spec says.
 */
export function codeCacheDir(
  env: CodeCacheEnv,
  nodeVersion: string,
  arch: string,
  bundleDir: string,
): string | undefined {
  if (env.NODE_DISABLE_COMPILE_CACHE) return undefined;
  const xdg = env.XDG_CACHE_HOME?.startsWith('/') ? env.XDG_CACHE_HOME : undefined;
  const base = xdg ?? (env.HOME?.startsWith('/') ? join(env.HOME, '.cache') : undefined);
  if (base === undefined) return undefined;
  return join(base, 'lifeboat', `code-${nodeVersion}-${arch}-${fnv1a(bundleDir)}`);
}

/** 32-bit FNV-1a as 8 hex digits: a short, stable name for a path (not a security boundary). */
function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, '0');
}

/** True when a directory's owner and mode make its content ours alone (owner uid, no group/other write). */
export function isPrivateDir(stat: DirStat, uid: number): boolean {
  return stat.isDirectory() && stat.uid === uid && (stat.mode & 0o022) === 0;
}

/**
 * True when nobody but us (or root) can rename or replace anything along `path`: each existing directory on the way
 * to / is ours or root's, and not writable by others unless sticky (then others cannot move what is ours).
 * `statOf` returns undefined for a path that does not exist yet (we will create it, as ours).
 */
export function isTrustedPath(path: string, uid: number, statOf: (path: string) => DirStat | undefined): boolean {
  for (let dir = path; ; dir = dirname(dir)) {
    const stat = statOf(dir);
    if (stat !== undefined) {
      if (!stat.isDirectory() || (stat.uid !== uid && stat.uid !== 0)) return false;
      if ((stat.mode & 0o022) !== 0 && (stat.mode & 0o1000) === 0) return false;
    }
    if (dirname(dir) === dir) return true;
  }
}

/** Chunks the bundler lets us cache, each with the hash of its code (scripts/bundle.mjs writes code-cache.json). */
export function cacheFileName(chunk: string, codeHash: string): string {
  return `${chunk}.${codeHash}.v8`;
}

/** Compile the chunks under `bundleDir` with a code cache from now on. Returns the cache directory, if any. */
export function enableCodeCache(bundleDir: string, env: CodeCacheEnv = process.env): string | undefined {
  const dir = codeCacheDir(env, process.version, process.arch, bundleDir);
  const uid = process.getuid?.();
  if (dir === undefined || uid === undefined || !isTrustedPath(resolvedPath(dir), uid, statOrUndefined)) {
    return undefined;
  }
  const internals = Module as unknown as ModuleInternals;
  if (internals.enableCompileCache) {
    // Node reads and writes the directory itself: make sure first that it is private.
    if (!makePrivateDir(dir, uid)) return undefined;
    return internals.enableCompileCache(dir)?.directory ? dir : undefined;
  }
  const chunks = cacheableChunks(join(bundleDir, 'code-cache.json'));
  if (chunks === undefined) return undefined;
  const readable = isReadableCache(dir, uid);
  const pending: { script: vm.Script; file: string }[] = [];
  const compile = internals.prototype._compile;

  internals.prototype._compile = function compileWithCache(content, filename) {
    const codeHash = dirname(filename) === bundleDir ? chunks.get(basename(filename)) : undefined;
    if (codeHash === undefined) return compile.call(this, content, filename);
    const file = join(dir, cacheFileName(basename(filename), codeHash));
    const cachedData = readable ? readOwnFile(file, uid) : undefined;
    const script = new vm.Script(internals.wrap(content), { filename, cachedData });
    const state = cachedData === undefined ? 'none' : script.cachedDataRejected ? 'rejected' : 'used';
    if (state !== 'used') pending.push({ script, file });
    if (env.LIFEBOAT_DEBUG_CODE_CACHE) process.stderr.write(`lifeboat: code cache ${basename(filename)}: ${state}\n`);
    const wrapper = script.runInThisContext() as (...args: unknown[]) => unknown;
    return wrapper.call(this.exports, this.exports, requireFor(this, internals), this, filename, dirname(filename));
  };

  // At exit the scripts hold every function the command ran, compiled: that is what the next start wants.
  process.once('exit', () => {
    if (pending.length > 0) writeCache(dir, uid, chunks, pending);
  });
  return dir;
}

/** `path` with the symbolic links of its existing part resolved: the directories that really hold the cache. */
function resolvedPath(path: string): string {
  if (statOrUndefined(path) !== undefined) return realpathSync(path);
  const parent = dirname(path);
  return parent === path ? path : join(resolvedPath(parent), basename(path));
}

function statOrUndefined(path: string): DirStat | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

function makePrivateDir(dir: string, uid: number): boolean {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    return isPrivateDir(statSync(dir), uid);
  } catch {
    return false;
  }
}

function isReadableCache(dir: string, uid: number): boolean {
  const stat = statOrUndefined(dir);
  return stat !== undefined && isPrivateDir(stat, uid);
}

/** Chunk name -> code hash, from the bundler's list; undefined when there is no list (then nothing is cached). */
function cacheableChunks(file: string): Map<string, string> | undefined {
  try {
    const { chunks } = JSON.parse(readFileSync(file, 'utf8')) as { chunks: Record<string, string> };
    return new Map(Object.entries(chunks));
  } catch {
    return undefined;
  }
}

/**
 * The file's bytes if it is ours and writable by nobody else, checked on the open file itself: a directory swapped in
 * after the check of the cache directory cannot hand us somebody else's file.
 */
function readOwnFile(file: string, uid: number): Buffer | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
    const stat = fstatSync(fd);
    if (!stat.isFile() || stat.uid !== uid || (stat.mode & 0o022) !== 0) return undefined;
    return readFileSync(fd);
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** The `require` a CommonJS module expects, for a module compiled outside Node's loader. */
function requireFor(module: NodeModule, internals: ModuleInternals): NodeJS.Require {
  const require = ((id: string) => module.require(id)) as NodeJS.Require;
  require.resolve = ((request: string, options?: unknown) =>
    internals._resolveFilename(request, module, false, options)) as NodeJS.RequireResolve;
  require.cache = internals._cache;
  require.main = process.mainModule;
  return require;
}

function writeCache(
  dir: string,
  uid: number,
  chunks: Map<string, string>,
  pending: { script: vm.Script; file: string }[],
) {
  try {
    if (!makePrivateDir(dir, uid)) return;
    for (const { script, file } of pending) {
      // Temp file (created new: never through a link someone left at that name) + rename: a concurrent start reads
      // a whole cache file or none (V8 also checks its own checksum).
      const temp = `${file}.${process.pid}.tmp`;
      writeFileSync(temp, script.createCachedData(), { mode: 0o600, flag: 'wx' });
      renameSync(temp, file);
    }
    pruneStale(dir, chunks);
  } catch {
    // A cache that cannot be written is a slower next start, nothing more.
  }
}

/** Cache files of chunks that are no longer built (an upgrade or a rebuild) go: only this directory's own files. */
function pruneStale(dir: string, chunks: Map<string, string>): void {
  const current = new Set([...chunks].map(([chunk, codeHash]) => cacheFileName(chunk, codeHash)));
  for (const file of readdirSync(dir)) {
    if (file.endsWith('.v8') && !current.has(file)) unlinkSync(join(dir, file));
  }
}
