import {
  closeSync,
  constants,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import Module from 'node:module';
import { basename, dirname, join } from 'node:path';
import vm from 'node:vm';

/**
 * V8 code cache for the bundled CLI (ADR 009): the second run of a command skips parsing and compiling the code it
 * ran the first time, about 30 ms of every start. Node >= 22.1 does this itself (`module.enableCompileCache`, what
 * npm uses); on Node 20 the bundle's chunks are compiled here through `vm.Script` with `cachedData`, as
 * v8-compile-cache does. Everything fails open: no HOME, a read-only disk or a rejected cache just means compiling.
 *
 * The cache sits in the user's own cache directory (not /tmp): compiled code read from a directory another user can
 * write would be code they chose. It is refused unless owned by us and writable by nobody else.
 */

type CompileFn = (this: NodeModule, content: string, filename: string) => unknown;
interface ModuleInternals {
  prototype: { _compile: CompileFn };
  wrap(content: string): string;
  _resolveFilename(request: string, parent: NodeModule, isMain: boolean, options?: unknown): string;
  _cache: NodeJS.Require['cache'];
  enableCompileCache?: (dir?: string) => unknown;
}

export interface CodeCacheEnv {
  HOME?: string;
  XDG_CACHE_HOME?: string;
  /** Node's own switch for its compile cache; honoured for ours too. */
  NODE_DISABLE_COMPILE_CACHE?: string;
  /** Say on stderr, chunk by chunk, whether compiled code came from the cache (Node 20 only; for tests). */
  LIFEBOAT_DEBUG_CODE_CACHE?: string;
}

/**
 * Where compiled code is kept, or undefined when caching is off or there is no home to keep it in. One directory per
 * Node version and per installation (two checkouts must not keep replacing each other's cache).
 */
export function codeCacheDir(
  env: CodeCacheEnv,
  nodeVersion: string,
  arch: string,
  bundleDir: string,
): string | undefined {
  if (env.NODE_DISABLE_COMPILE_CACHE) return undefined;
  const base = env.XDG_CACHE_HOME || (env.HOME ? join(env.HOME, '.cache') : undefined);
  if (!base?.startsWith('/')) return undefined;
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
export function isPrivateDir(stat: { uid: number; mode: number; isDirectory(): boolean }, uid: number): boolean {
  return stat.isDirectory() && stat.uid === uid && (stat.mode & 0o022) === 0;
}

/** The cache file of a chunk: its name, size and mtime, so a rebuilt chunk never meets the old chunk's code. */
export function cacheFileName(chunk: string, size: number, mtimeMs: number): string {
  return `${chunk}.${size}.${Math.trunc(mtimeMs)}.v8`;
}

/** Compile the chunks under `bundleDir` with a code cache from now on. Returns the cache directory, if any. */
export function enableCodeCache(bundleDir: string, env: CodeCacheEnv = process.env): string | undefined {
  const dir = codeCacheDir(env, process.version, process.arch, bundleDir);
  const uid = process.getuid?.();
  if (dir === undefined || uid === undefined) return undefined;
  const internals = Module as unknown as ModuleInternals;
  if (internals.enableCompileCache) {
    // Node reads and writes the directory itself: make sure first that it is private.
    if (!makePrivateDir(dir, uid)) return undefined;
    internals.enableCompileCache(dir);
    return dir;
  }
  // Chunks that import() an ES module (typage, client-node: a few command-specific ones) are compiled by Node as
  // usual: import() from a vm.Script needs an experimental flag on Node 20. The bundler lists them.
  const compiledByNode = listedChunks(join(bundleDir, 'code-cache.json'));
  if (compiledByNode === undefined) return undefined;
  const readable = isReadableCache(dir, uid);
  const pending: { script: vm.Script; file: string }[] = [];
  const compile = internals.prototype._compile;

  internals.prototype._compile = function compileWithCache(content, filename) {
    if (dirname(filename) !== bundleDir || compiledByNode.has(basename(filename))) {
      return compile.call(this, content, filename);
    }
    const { size, mtimeMs } = statSync(filename);
    const file = join(dir, cacheFileName(basename(filename), size, mtimeMs));
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
    if (pending.length > 0) writeCache(dir, uid, bundleDir, pending);
  });
  return dir;
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
  try {
    return isPrivateDir(statSync(dir), uid);
  } catch {
    return false;
  }
}

function listedChunks(file: string): Set<string> | undefined {
  try {
    return new Set((JSON.parse(readFileSync(file, 'utf8')) as { compiledByNode: string[] }).compiledByNode);
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

function writeCache(dir: string, uid: number, bundleDir: string, pending: { script: vm.Script; file: string }[]) {
  try {
    if (!makePrivateDir(dir, uid)) return;
    for (const { script, file } of pending) {
      // Temp file + rename: a concurrent start reads a whole cache or none (V8 also checks its own checksum).
      const temp = `${file}.${process.pid}.tmp`;
      writeFileSync(temp, script.createCachedData(), { mode: 0o600 });
      renameSync(temp, file);
    }
    pruneStale(dir, bundleDir);
  } catch {
    // A cache that cannot be written is a slower next start, nothing more.
  }
}

/** Cache files of chunks that no longer exist (an upgrade or a rebuild) go: only this directory's own files. */
function pruneStale(dir: string, bundleDir: string): void {
  const current = new Set<string>();
  for (const chunk of readdirSync(bundleDir)) {
    if (!chunk.endsWith('.cjs')) continue;
    const { size, mtimeMs } = statSync(join(bundleDir, chunk));
    current.add(cacheFileName(chunk, size, mtimeMs));
  }
  for (const file of readdirSync(dir)) {
    if (file.endsWith('.v8') && !current.has(file)) unlinkSync(join(dir, file));
  }
}
