import {
  chmodSync,
  chownSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type CliResult, runCli } from '../helpers/cli.js';

// The V8 code cache of the bundled CLI (src/code-cache.ts, ADR 009), with the real bundle and a private cache home.
const EXAMPLE = resolve(import.meta.dirname, '../../examples/incident.yaml');
const CHECK = ['-c', EXAMPLE, '--json', 'check', '--from', '2026-01-05T00:00:00Z'];
const homes: string[] = [];
afterAll(() => {
  for (const home of homes) rmSync(home, { recursive: true, force: true });
});

function newHome(): string {
  const home = mkdtempSync(join(tmpdir(), 'lifeboat-test-code-cache-'));
  homes.push(home);
  return home;
}

const run = (home: string, args = CHECK): Promise<CliResult> =>
  runCli(args, { env: { XDG_CACHE_HOME: home, LIFEBOAT_DEBUG_CODE_CACHE: '1', NODE_DISABLE_COMPILE_CACHE: '' } });

/** The chunk a cache file belongs to: `check-XXXX.cjs` of `check-XXXX.cjs.24327.1795807114009.v8`. */
const chunkOf = (file: string): string =>
  file
    .split('/')
    .at(-1)!
    .replace(/\.cjs\..*$/, '.cjs');

/** Per chunk, what the run said about its cache: none, used or rejected. */
function cacheStates(result: CliResult): Map<string, string> {
  const states = new Map<string, string>();
  for (const m of result.stderr.matchAll(/^lifeboat: code cache (\S+): (\w+)$/gm)) states.set(m[1]!, m[2]!);
  return states;
}

function cacheFiles(home: string): Map<string, number> {
  const [dir] = readdirSync(join(home, 'lifeboat'));
  const path = join(home, 'lifeboat', dir!);
  return new Map(readdirSync(path).map((f) => [join(path, f), statSync(path + '/' + f).mtimeMs]));
}

// Node >= 22.1 caches compiled code itself (module.enableCompileCache); this covers our Node 20 path.
const ownCache = process.versions.node.startsWith('20.') || process.versions.node.startsWith('21.');

describe.runIf(ownCache)('code cache (Node 20)', () => {
  it('compiles once, then reuses the compiled code: same output, nothing rewritten', async () => {
    const home = newHome();
    const reference = await runCli(CHECK, { env: { NODE_DISABLE_COMPILE_CACHE: '1' } });
    const first = await run(home);
    expect(first.code).toBe(reference.code);
    expect(first.stdout).toBe(reference.stdout);
    const firstStates = cacheStates(first);
    expect(firstStates.size).toBeGreaterThan(5);
    expect([...firstStates.values()].every((s) => s === 'none')).toBe(true);

    const dir = join(home, 'lifeboat', readdirSync(join(home, 'lifeboat'))[0]!);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const files = cacheFiles(home);
    expect(files.size).toBe(firstStates.size);
    for (const file of files.keys()) expect(statSync(file).mode & 0o777).toBe(0o600);

    const second = await run(home);
    expect(second.stdout).toBe(reference.stdout);
    expect([...cacheStates(second).values()].every((s) => s === 'used')).toBe(true);
    expect(cacheFiles(home)).toEqual(files);
  });

  it('replaces a damaged cache file and still runs right', async () => {
    const home = newHome();
    const reference = await run(home);
    const files = cacheFiles(home);
    const damaged = [...files.keys()].find((f) => f.includes('/check-'))!;
    writeFileSync(damaged, Buffer.alloc(4096, 7));
    const again = await run(home);
    expect(again.stdout).toBe(reference.stdout);
    expect([...cacheStates(again).values()].filter((s) => s === 'rejected')).toHaveLength(1);
    expect(readFileSync(damaged).equals(Buffer.alloc(4096, 7))).toBe(false);
    expect(cacheStates(await run(home)).get(chunkOf(damaged))).toBe('used');
  });

  it('reads no cache file that others could have written, and replaces it with its own', async () => {
    const home = newHome();
    const reference = await run(home);
    const files = [...cacheFiles(home).keys()];
    const writable = files.find((f) => f.includes('/check-'))!;
    chmodSync(writable, 0o666);
    const foreign = files.find((f) => f.includes('/lifeboat.cjs'))!;
    if (process.getuid?.() === 0) chownSync(foreign, 65534, 65534);
    const again = await run(home);
    expect(again.stdout).toBe(reference.stdout);
    const states = cacheStates(again);
    expect(states.get(chunkOf(writable))).toBe('none');
    if (process.getuid?.() === 0) expect(states.get(chunkOf(foreign))).toBe('none');
    expect(statSync(writable).mode & 0o777).toBe(0o600);
    expect(statSync(foreign).uid).toBe(process.getuid?.());
  });

  it('neither reads nor writes a cache directory that others can write', async () => {
    const home = newHome();
    await run(home);
    const dir = join(home, 'lifeboat', readdirSync(join(home, 'lifeboat'))[0]!);
    chmodSync(dir, 0o777);
    const result = await run(home);
    expect(result.code).toBe(1);
    expect([...cacheStates(result).values()].every((s) => s === 'none')).toBe(true);
    // A fresh home whose cache directory is group-writable from the start stays empty.
    const open = newHome();
    const openDir = join(open, 'lifeboat', dir.split('/').at(-1)!);
    mkdirSync(openDir, { recursive: true, mode: 0o775 });
    chmodSync(openDir, 0o775);
    await run(open);
    expect(readdirSync(openDir)).toEqual([]);
  });

  it.runIf(process.getuid?.() === 0)(
    'keeps no cache under a directory another user owns (root with sudo -E)',
    async () => {
      const home = newHome();
      const theirs = join(home, 'ana');
      mkdirSync(theirs, { mode: 0o755 });
      chownSync(theirs, 65534, 65534);
      const result = await runCli(CHECK, {
        env: { XDG_CACHE_HOME: join(theirs, '.cache'), LIFEBOAT_DEBUG_CODE_CACHE: '1', NODE_DISABLE_COMPILE_CACHE: '' },
      });
      expect(result.code).toBe(1);
      expect(cacheStates(result).size).toBe(0);
      expect(readdirSync(theirs)).toEqual([]);
    },
  );

  it('runs commands whose chunks import() ES-module-only packages (typage) without any warning', async () => {
    const home = newHome();
    const config = join(home, 'lifeboat.yaml');
    writeFileSync(
      config,
      'etcd: { endpoints: [http://127.0.0.1:1] }\nbackups:\n  to: [/nonexistent]\n  encryption: { recipients: [age1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq] }\n',
    );
    for (let i = 0; i < 2; i++) {
      const result = await run(home, ['-c', config, 'backup', 'etcd']);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/invalid age recipient .*checksum/i);
      expect(result.stderr).not.toMatch(/Warning/);
    }
  });
});
