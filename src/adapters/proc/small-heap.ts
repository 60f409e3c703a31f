import { setFlagsFromString } from 'node:v8';
import { isMainThread, parentPort, SHARE_ENV, Worker, workerData } from 'node:worker_threads';
import { lifeboatWorkerEntry } from '../../package-root.js';

/**
 * The long-running commands that follow etcd's change log (`backup etcd --follow`, `serve` with backups.etcd.follow)
 * run in a worker thread with a small young generation.
 *
 * Why: under a fast write load the follower allocates a few short-lived objects per event, and V8 answers a high
 * allocation rate by growing the young generation's semi-spaces up to 16 MiB each (plus what that promotes): peak
 * RSS 164-223 MB against issue 19's 100 MB, while the same run with a 1 MiB semi-space stayed at ~98 MB and still
 * kept up (docs/BENCHMARKS.md). V8 fixes those sizes when a thread's isolate is created: setting the flag at run
 * time (v8.setFlagsFromString) changes nothing for the running thread, and a child process with the flag would add a
 * second Node's baseline to the host's memory. A worker thread is a new isolate in the same process, set up after we
 * set the flag, and it works the same in the single-file executable. Cost: a second isolate, ~13 MB more at idle
 * from bin/lifeboat.js, ~46 MB from the single-file executable (its whole script is compiled again, without the
 * code cache); measured figures in docs/BENCHMARKS.md.
 *
 * The main thread only waits: it relays SIGINT/SIGTERM to the worker (where the command's own signal handlers run,
 * as they would in the main thread) and exits with the worker's exit code. Whoever sizes the young generation
 * themselves (NODE_OPTIONS=--max-semi-space-size=..., or node flags) gets the command in the main thread as before.
 */

/** V8 gives a third of the young generation to each semi-space: 3 MB = 1 MB semi-spaces, as measured. */
export const YOUNG_GENERATION_MB = 3;

const MARK = 'lifeboat-small-heap';

/** True when this command should move to a small-heap worker: in the main thread, no young-generation flag given. */
export function wantsSmallHeapWorker(): boolean {
  if (!isMainThread) return false;
  const given = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].join(' ');
  return !/--(max-semi-space-size|min-semi-space-size|semi-space-growth-factor|max-young-generation-size)/.test(given);
}

/** Runs this process's command line again in a small-heap worker thread; resolves with its exit code. */
export function runInSmallHeapWorker(): Promise<number> {
  const entry = lifeboatWorkerEntry();
  // V8 reads its flags when it sets up an isolate's heap: set now, they hold for the worker's new isolate. Measured
  // peaks of the follower under load: resourceLimits alone 192-243 MB; with the semi-space flag set first 102-103 MB;
  // with --optimize-for-size too (V8 grows the heap more slowly) 90-91 MB, still keeping up.
  setFlagsFromString(`--max-semi-space-size=${YOUNG_GENERATION_MB / 3}`);
  setFlagsFromString('--optimize-for-size');
  const worker = new Worker('code' in entry ? entry.code : entry.file, {
    eval: 'code' in entry,
    argv: process.argv.slice(2),
    env: SHARE_ENV,
    stdin: false,
    workerData: { [MARK]: true },
    resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB },
  });
  const relay = (signal: NodeJS.Signals) => worker.postMessage({ [MARK]: signal });
  process.on('SIGINT', relay);
  process.on('SIGTERM', relay);
  return new Promise((resolve, reject) => {
    worker.once('error', reject);
    worker.once('exit', (code) => {
      process.off('SIGINT', relay);
      process.off('SIGTERM', relay);
      resolve(code);
    });
  });
}

/**
 * In a worker started by runInSmallHeapWorker: signals relayed by the main thread are emitted on `process` as if
 * they had arrived here, and one nobody handles ends the command as the signal would have (exit 130 or 143).
 */
export function receiveRelayedSignals(): void {
  if (isMainThread || !(workerData as Record<string, unknown> | undefined)?.[MARK]) return;
  parentPort?.on('message', (m: Record<string, unknown>) => {
    const signal = m[MARK];
    if (signal !== 'SIGINT' && signal !== 'SIGTERM') return;
    if (process.listenerCount(signal) === 0) process.exit(signal === 'SIGINT' ? 130 : 143);
    process.emit(signal, signal);
  });
  parentPort?.unref(); // the relay alone must not keep a finished command's worker alive
}
