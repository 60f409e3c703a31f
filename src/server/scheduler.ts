import { type Clock, runEvery, systemClock } from '../adapters/snapshot/every.js';
import { nextRunAt } from '../domain/backup/schedule.js';
import { errorMessage } from '../errors.js';
import type { JobOutcome, JobSpec } from './jobs.js';

/**
 * Runs every job on its own fixed grid (the reusable `runEvery` loop, with an injectable clock) and keeps what each
 * run did. Jobs never overlap themselves; different jobs run side by side. `update()` takes a new job list after a
 * config change: jobs whose schedule is unchanged keep running undisturbed, the others are stopped (their current
 * run is aborted) and started afresh.
 */

export interface JobRecord {
  job: string;
  run: number;
  startedAt: number;
  finishedAt: number;
  ok: boolean;
  error?: string;
  outcome?: JobOutcome;
}

export interface JobView {
  name: string;
  everyMs: number;
  running: boolean;
  runs: number;
  nextRunAt: number | null;
  last: JobRecord | null;
  lastSuccessAt: number | null;
}

interface Running {
  spec: JobSpec;
  controller: AbortController;
  done: Promise<number>;
  anchor: number;
  runs: number;
  active: boolean;
}

export class Scheduler {
  private readonly running = new Map<string, Running>();
  private readonly history: JobRecord[] = [];
  private readonly last = new Map<string, JobRecord>();
  private readonly lastSuccess = new Map<string, number>();

  constructor(
    private readonly onRecord: (record: JobRecord) => void,
    private readonly clock: Clock = systemClock,
    private readonly keep = 500,
  ) {}

  update(specs: JobSpec[]): { started: string[]; stopped: string[] } {
    const wanted = new Map(specs.map((s) => [s.name, s]));
    const stopped: string[] = [];
    const started: string[] = [];
    for (const [name, r] of this.running) {
      const next = wanted.get(name);
      if (next && next.key === r.spec.key && next.everyMs === r.spec.everyMs) {
        r.spec = next;
        continue;
      }
      r.controller.abort();
      this.running.delete(name);
      stopped.push(name);
    }
    for (const spec of specs) {
      if (this.running.has(spec.name)) continue;
      this.start(spec);
      started.push(spec.name);
    }
    return { started, stopped };
  }

  private start(spec: JobSpec): void {
    const controller = new AbortController();
    const entry: Running = { spec, controller, anchor: this.clock.now(), runs: 0, active: false, done: undefined! };
    entry.done = runEvery({
      everyMs: spec.everyMs,
      signal: controller.signal,
      clock: this.clock,
      run: async (run, signal) => {
        entry.runs = run;
        entry.active = true;
        const startedAt = this.clock.now();
        let record: JobRecord;
        try {
          const outcome = await entry.spec.run(run, signal);
          record = { job: spec.name, run, startedAt, finishedAt: this.clock.now(), ok: outcome.ok, outcome };
          if (!outcome.ok && outcome.error) record.error = outcome.error;
        } catch (err) {
          if (signal.aborted) return;
          record = {
            job: spec.name,
            run,
            startedAt,
            finishedAt: this.clock.now(),
            ok: false,
            error: errorMessage(err),
          };
        } finally {
          entry.active = false;
        }
        this.record(record);
      },
    });
    this.running.set(spec.name, entry);
  }

  private record(record: JobRecord): void {
    this.history.push(record);
    if (this.history.length > this.keep) this.history.splice(0, this.history.length - this.keep);
    this.last.set(record.job, record);
    if (record.ok) this.lastSuccess.set(record.job, record.outcome?.backup?.at ?? record.finishedAt);
    this.onRecord(record);
  }

  /** Every run kept, oldest first. */
  records(): readonly JobRecord[] {
    return this.history;
  }

  views(): JobView[] {
    const now = this.clock.now();
    return [...this.running.values()].map((r) => ({
      name: r.spec.name,
      everyMs: r.spec.everyMs,
      running: r.active,
      runs: r.runs,
      nextRunAt: r.active ? null : nextRunAt(r.anchor, r.spec.everyMs, now),
      last: this.last.get(r.spec.name) ?? null,
      lastSuccessAt: this.lastSuccess.get(r.spec.name) ?? null,
    }));
  }

  /** Stops every job (aborting runs in progress: a drill stops its throwaway etcd) and waits for them to end. */
  async stop(): Promise<void> {
    const all = [...this.running.values()];
    this.running.clear();
    for (const r of all) r.controller.abort();
    await Promise.allSettled(all.map((r) => r.done));
  }
}
