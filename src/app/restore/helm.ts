import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { runToEnd } from '../../adapters/proc/run.js';
import { which } from '../../adapters/proc/which.js';
import { decryptionFor } from '../../adapters/snapshot/setup.js';
import type { BackupStore } from '../../adapters/store/types.js';
import { CAPTURE_KIND, type CaptureIndex } from '../../domain/helm/capture.js';
import { type RestoreStep, selectReleases } from '../../domain/helm/restore.js';
import { UserError } from '../../errors.js';

/**
 * Reading a Helm capture back for `lifeboat restore helm`: find the capture (a capture directory, or the newest one
 * under helm/ in a store), make its files readable by `helm` (in place for a plain local capture; decrypted or
 * downloaded into a private work directory otherwise), and run the plan's commands when asked to.
 */

export interface OpenedCapture {
  index: CaptureIndex;
  /** Where the capture lives (for output). */
  location: string;
  /** Local path of a capture object, for the commands. */
  path: (name: string) => string;
  /** Set when files were decrypted or downloaded: it holds secrets, remove it after the restore. */
  workdir?: string;
}

export async function findCapture(store: BackupStore): Promise<{ prefix: string; index: CaptureIndex }> {
  const here = await store.readSmall('index.json');
  if (here) return { prefix: '', index: parseIndex(here, store.locate('index.json')) };
  const indexes = (await store.list('helm/'))
    .map((o) => o.name)
    .filter((n) => /^helm\/[^/]+\/index\.json$/.test(n))
    .sort();
  const newest = indexes.at(-1);
  if (!newest) {
    throw new UserError(`no Helm capture in ${store.location}`, 'run lifeboat backup helm first, or pass --from DIR');
  }
  const text = await store.readSmall(newest);
  return { prefix: newest.slice(0, -'/index.json'.length), index: parseIndex(text!, store.locate(newest)) };
}

function parseIndex(bytes: Buffer, where: string): CaptureIndex {
  let index: CaptureIndex;
  try {
    index = JSON.parse(bytes.toString('utf8')) as CaptureIndex;
  } catch {
    throw new UserError(`${where} is not JSON`);
  }
  if (index.kind !== CAPTURE_KIND || !Array.isArray(index.releases)) {
    throw new UserError(`${where} is not a Lifeboat Helm capture index`);
  }
  return index;
}

export interface OpenOptions {
  release?: string;
  identity?: string;
  workdir?: string;
}

export async function openCapture(store: BackupStore, opts: OpenOptions = {}): Promise<OpenedCapture> {
  const { prefix, index } = await findCapture(store);
  const full = (name: string) => (prefix ? `${prefix}/${name}` : name);
  const location = store.locate(prefix || 'index.json').replace(/\/index\.json$/, '');
  const local = !/^[a-z][a-z0-9+.-]*:\/\//i.test(store.location);
  if (!index.encrypted && local) return { index, location, path: (name) => store.locate(full(name)) };
  // Encrypted or remote: materialise what the commands need in a private directory.
  const decrypt = index.encrypted ? await decryptionFor(opts.identity) : undefined;
  const workdir = opts.workdir ? resolve(opts.workdir) : await mkdtemp(join(tmpdir(), 'lifeboat-helm-restore-'));
  await mkdir(workdir, { recursive: true, mode: 0o700 });
  const plain = (name: string) => name.replace(/\.age$/, '');
  for (const r of selectReleases(index, opts.release)) {
    for (const name of [r.files.chart, r.files.values, r.files.manifestChart]) {
      const target = join(workdir, plain(name));
      await mkdir(dirname(target), { recursive: true, mode: 0o700 });
      const source = await store.read(full(name));
      const sink = createWriteStream(target, { mode: 0o600 });
      if (decrypt) await pipeline(source, decrypt, sink);
      else await pipeline(source, sink);
    }
  }
  return { index, location, path: (name) => join(workdir, plain(name)), workdir };
}

export interface StepOutcome {
  step: RestoreStep;
  ok: boolean;
  skipped?: string;
  exitCode?: number;
  error?: string;
}

/**
 * Run the steps in order, output to stderr. Namespace steps tolerate AlreadyExists and a missing kubectl (every
 * helm command carries --create-namespace); the first failing release stops the run.
 */
export async function runRestoreSteps(steps: RestoreStep[], path = process.env.PATH): Promise<StepOutcome[]> {
  if (steps.some((s) => s.kind === 'release') && !which('helm', path)) {
    throw new UserError('helm is not on PATH', 'install helm 3, or run without --yes and execute the printed commands');
  }
  const outcomes: StepOutcome[] = [];
  for (const step of steps) {
    if (step.kind === 'namespace' && !which(step.argv[0]!, path)) {
      outcomes.push({ step, ok: true, skipped: 'kubectl not on PATH; helm --create-namespace creates it' });
      continue;
    }
    const { code, stderr } = await run(step.argv, path);
    const exists = step.kind === 'namespace' && /AlreadyExists|already exists/.test(stderr);
    const ok = code === 0 || exists;
    outcomes.push({ step, ok, exitCode: code, ...(ok ? {} : { error: stderr.trim().split('\n').at(-1) }) });
    if (!ok && step.kind === 'release') break;
  }
  return outcomes;
}

/** helm's and kubectl's own output stays visible on stderr (stdout too: --json owns stdout). */
async function run(argv: string[], path: string | undefined): Promise<{ code: number; stderr: string }> {
  const result = await runToEnd(argv[0]!, argv.slice(1), {
    env: { PATH: path ?? '' },
    stdio: ['ignore', process.stderr, 'pipe'],
    echoStderr: process.stderr,
    tailChars: 65536,
  });
  return result.error ? { code: 127, stderr: result.error } : { code: result.code ?? 1, stderr: result.stderr };
}
