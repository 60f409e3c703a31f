import { setTimeout as sleep } from 'node:timers/promises';
import { nextRunAt } from '../../domain/backup/schedule.js';

/**
 * Run a job now and then every `everyMs` on a fixed grid, until `signal` aborts (SIGINT/SIGTERM in the CLI; `serve`
 * shutting down). A failed run is reported and the loop goes on: one unreachable moment must not end the schedule.
 * The clock is injected so tests run hours of schedule in milliseconds.
 */

export interface Clock {
  now(): number;
  /** Resolves after `ms`, or early (without throwing) when `signal` aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) => sleep(Math.max(0, ms), undefined, { signal }).catch(() => undefined),
};

export interface EveryOptions {
  everyMs: number;
  signal: AbortSignal;
  clock?: Clock;
  /** Run number `run` starts at 1. */
  run: (run: number, signal: AbortSignal) => Promise<void>;
  onError?: (err: unknown, run: number) => void;
}

/** Resolves with the number of runs started once the signal aborts. */
export async function runEvery(opts: EveryOptions): Promise<number> {
  const clock = opts.clock ?? systemClock;
  const anchor = clock.now();
  let runs = 0;
  while (!opts.signal.aborted) {
    runs++;
    try {
      await opts.run(runs, opts.signal);
    } catch (err) {
      if (opts.signal.aborted) break;
      opts.onError?.(err, runs);
    }
    if (opts.signal.aborted) break;
    const now = clock.now();
    await clock.sleep(nextRunAt(anchor, opts.everyMs, now) - now, opts.signal);
  }
  return runs;
}
