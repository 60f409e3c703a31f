import type { Server } from 'node:http';
import { type Clock, runEvery, systemClock } from '../adapters/snapshot/every.js';
import { probeWithDiscovery } from '../app/probe.js';
import type { EtcdTarget, GlobalOptions } from '../app/settings.js';
import { type AlertOptions, type AlertState, EMPTY_ALERT_STATE, evaluateAlerts } from '../domain/alerts.js';
import { type Diagnosis, diagnose } from '../domain/diagnosis.js';
import type { EndpointProbe } from '../domain/probe.js';
import { errorMessage } from '../errors.js';
import { type ScheduleReport, scheduleReport } from './calendar.js';
import { EMPTY_TRACK, type EtcdTrack, trackDiagnosis } from './etcd-tracker.js';
import { EventLog, type ServeEvent } from './events.js';
import { ServeFollower } from './follow.js';
import { startHttp } from './http.js';
import { InventoryCache } from './inventory.js';
import type { LockInfo } from './locks.js';
import { ServeMetrics } from './metrics.js';
import { Notifier } from './notify.js';
import { observations } from './observe.js';
import { buildRuntime, type Runtime } from './runtime.js';
import { Scheduler } from './scheduler.js';
import { buildStatus } from './status-build.js';
import { summarizeKinds } from './timeline.js';
import { ConfigWatcher } from './watch.js';

/**
 * `lifeboat serve` as one object: probe etcd every few seconds, run the configured schedules, re-check reboot
 * schedules when the config changes, decide alerts, and answer HTTP. Every loop takes its time from one injectable
 * clock; `stop()` ends all of them (aborting a running drill, which stops its throwaway etcd) and closes the port.
 */

export interface ServeOptions {
  globals: GlobalOptions;
  /** Absolute path of the config to watch (undefined: flags only, nothing to watch). */
  configPath?: string;
  host: string;
  port: number;
  probeIntervalMs: number;
  probeTimeoutMs: number;
  identity?: string;
  /** Zone for calendar and timeline days (default: the etcd members' reboot zone, else UTC). */
  zone?: string;
  log: (event: ServeEvent) => void;
  clock?: Clock;
  probe?: (target: EtcdTarget, deadlineMs: number) => Promise<EndpointProbe[]>;
  alerts?: Partial<AlertOptions>;
  inventoryEveryMs?: number;
  checkEveryMs?: number;
  notify?: { attempts?: number; backoffMs?: number };
}

export class Serve {
  url = '';
  readonly events: EventLog;
  readonly metrics: ServeMetrics;
  private readonly clock: Clock;
  private readonly scheduler: Scheduler;
  private readonly notifier: Notifier;
  private readonly controller = new AbortController();
  private readonly loops: Promise<unknown>[] = [];
  private readonly startedAt: number;
  private runtime!: Runtime;
  private server: Server | undefined;
  private watcher: ConfigWatcher | undefined;
  private configError: string | null = null;
  private configLoadedAt: number | null = null;
  private diagnosis: Diagnosis | undefined;
  private probedAt = 0;
  private probeMs = 0;
  private track: EtcdTrack = EMPTY_TRACK;
  private locks: LockInfo[] | null = null;
  private schedule: ScheduleReport | null = null;
  private scheduleError: string | null = null;
  private readonly inventory = new InventoryCache();
  private alertState: AlertState = EMPTY_ALERT_STATE;
  private readonly follow: ServeFollower;
  private firstProbe!: Promise<void>;
  private firstProbeDone!: () => void;

  constructor(private readonly opts: ServeOptions) {
    this.clock = opts.clock ?? systemClock;
    this.startedAt = this.clock.now();
    this.events = new EventLog(() => this.clock.now(), opts.log);
    this.follow = new ServeFollower(
      (level, message) => this.events.add(level, 'etcd-log', message),
      () => this.clock.now(),
    );
    this.metrics = new ServeMetrics(() => ({
      diagnosis: this.diagnosis,
      probeSeconds: this.probedAt ? this.probeMs / 1000 : undefined,
      kinds: this.kinds(),
      findings: this.schedule?.check.findings ?? [],
      locks: this.locks,
      alerts: Object.values(this.alertState.active),
      configOk: this.configError === null,
      follow: this.follow.status(),
    }));
    this.scheduler = new Scheduler((r) => {
      this.metrics.jobRecorded(r);
      const seconds = ((r.finishedAt - r.startedAt) / 1000).toFixed(1);
      if (r.ok)
        this.events.add(
          r.outcome?.verify?.ok === false ? 'error' : 'info',
          r.job,
          `${r.outcome?.summary} (${seconds}s)`,
        );
      else this.events.add('error', r.job, `run ${r.run} FAILED after ${seconds}s: ${r.error}`);
      this.refreshInventory();
    }, this.clock);
    this.notifier = new Notifier((d) => {
      this.metrics.delivered(d.ok);
      if (!d.ok) this.events.add('warning', 'alert', `webhook ${d.url} failed after ${d.attempts} tries: ${d.error}`);
    }, opts.notify);
    this.firstProbe = new Promise((resolve) => (this.firstProbeDone = resolve));
  }

  async start(): Promise<void> {
    this.runtime = await this.build();
    this.configLoadedAt = this.clock.now();
    this.recheck();
    const { server, url } = await startHttp(this.opts.host, this.opts.port, {
      status: () => this.status(),
      metrics: async () => {
        // The first scrape waits (briefly) for the first probe: no made-up margin of 0 before etcd was asked.
        if (!this.probedAt) {
          const done = new AbortController();
          const signal = AbortSignal.any([this.controller.signal, done.signal]);
          await Promise.race([this.firstProbe, this.clock.sleep(this.opts.probeTimeoutMs + 1000, signal)]);
          done.abort();
        }
        return { contentType: this.metrics.contentType, body: await this.metrics.render() };
      },
      health: () => this.health(),
    });
    this.server = server;
    this.url = url;
    const signal = this.controller.signal;
    const every = (everyMs: number, run: () => Promise<void> | void) =>
      this.loops.push(runEvery({ everyMs, signal, clock: this.clock, run: async () => run() }));
    every(this.opts.probeIntervalMs, () => this.probeOnce());
    every(this.opts.checkEveryMs ?? 3_600_000, () => this.recheck());
    every(this.opts.inventoryEveryMs ?? 120_000, () => this.refreshInventory());
    this.startJobs();
    await this.follow.start(this.runtime, signal);
    if (this.opts.configPath) {
      this.watcher = new ConfigWatcher(this.opts.configPath, () => void this.reload());
      this.watcher.start();
    }
  }

  private build(): Promise<Runtime> {
    return buildRuntime(this.opts.globals, {
      identity: this.opts.identity,
      now: () => this.clock.now(),
      lockDeadlineMs: this.opts.probeTimeoutMs,
    });
  }

  private startJobs(): void {
    const { started, stopped } = this.scheduler.update(this.runtime.jobs);
    if (stopped.length) this.events.add('info', 'serve', `stopped schedules: ${stopped.join(', ')}`);
    for (const name of started) {
      const job = this.runtime.jobs.find((j) => j.name === name)!;
      this.events.add('info', 'serve', `scheduled ${name} every ${Math.round(job.everyMs / 1000)}s`);
    }
    if (this.runtime.storeError) this.events.add('error', 'backup', `backup store: ${this.runtime.storeError}`);
  }

  private async reload(): Promise<void> {
    let next: Runtime;
    try {
      next = await this.build();
    } catch (err) {
      this.configError = errorMessage(err);
      this.events.add('error', 'config', `config not reloaded, keeping the previous one: ${this.configError}`);
      return;
    }
    this.runtime.locks.close();
    this.runtime = next;
    this.configError = null;
    this.configLoadedAt = this.clock.now();
    this.recheck();
    const counts = this.schedule?.check.findings ?? [];
    const errors = counts.filter((f) => f.severity === 'error').length;
    const warnings = counts.filter((f) => f.severity === 'warning').length;
    this.events.add('info', 'config', `config reloaded; check: ${errors} error(s), ${warnings} warning(s)`);
    this.startJobs();
    this.refreshInventory();
  }

  private recheck(): void {
    const loaded = this.runtime.loaded;
    if (!loaded?.config.nodes?.length) {
      this.schedule = null;
      return;
    }
    try {
      this.schedule = scheduleReport(loaded.config, this.runtime.label, this.clock.now(), { zone: this.opts.zone });
      this.scheduleError = null;
    } catch (err) {
      this.scheduleError = errorMessage(err);
      this.events.add('error', 'check', `schedule check failed: ${this.scheduleError}`);
    }
  }

  private async probeOnce(): Promise<void> {
    const started = this.clock.now();
    const probe = this.opts.probe ?? probeWithDiscovery;
    const maxRaftLag = this.runtime.loaded?.config.maintenance?.maxRaftLag;
    try {
      const d = diagnose(
        await probe(this.runtime.target, this.opts.probeTimeoutMs),
        maxRaftLag === undefined ? {} : { maxRaftLag },
      );
      this.probeMs = this.clock.now() - started;
      this.probedAt = this.clock.now();
      const t = trackDiagnosis(this.track, d);
      this.track = t.next;
      this.metrics.leaderChanged(t.changed);
      for (const e of t.events) this.events.add(e.level, 'etcd', e.message);
      this.diagnosis = d;
      const quorate = d.state === 'healthy' || d.state === 'degraded';
      this.locks = quorate ? await this.runtime.locks.read() : null;
    } catch (err) {
      this.events.add('error', 'etcd', `probe failed: ${errorMessage(err)}`);
    } finally {
      this.firstProbeDone();
    }
    this.evaluate();
  }

  private evaluate(): void {
    const obs = observations({
      at: this.clock.now(),
      since: this.startedAt,
      diagnosis: this.diagnosis,
      jobs: this.scheduler.views(),
      kinds: this.kinds(),
      check: this.schedule?.check ?? null,
    });
    const follow = this.follow.observation();
    if (follow) obs.follow = follow;
    const { alerts, state } = evaluateAlerts(this.alertState, obs, this.opts.alerts);
    this.alertState = state;
    if (alerts.length === 0) return;
    for (const a of alerts) {
      const level = a.status === 'resolved' ? 'info' : a.severity === 'critical' ? 'error' : 'warning';
      this.events.add(level, 'alert', `${a.status === 'resolved' ? 'RESOLVED' : 'FIRING'} ${a.title}: ${a.detail}`);
    }
    this.notifier.send(this.runtime.webhooks, alerts, { cluster: this.runtime.cluster });
  }

  private refreshInventory(): Promise<void> {
    return this.inventory.refresh(this.runtime.store, () => this.clock.now());
  }

  private kinds() {
    const failures = this.scheduler
      .records()
      .filter((r) => !r.ok)
      .map((r) => ({ kind: r.job, at: r.finishedAt, error: r.error ?? 'failed' }));
    const schedules = this.scheduler.views().map((j) => ({ kind: j.name, everyMs: j.everyMs }));
    return summarizeKinds(this.inventory.items, failures, schedules);
  }

  status() {
    const follow = this.follow.status();
    // A chain the follower began since the store was last read: read it now, so its window shows.
    if (follow?.chain && !this.inventory.chains.some((c) => c.chain === follow.chain)) void this.refreshInventory();
    return buildStatus({
      now: this.clock.now(),
      startedAt: this.startedAt,
      runtime: this.runtime,
      zone: this.opts.zone ?? this.schedule?.calendar.zone ?? 'UTC',
      config: { error: this.configError, loadedAt: this.configLoadedAt },
      diagnosis: this.diagnosis && {
        d: this.diagnosis,
        probedAt: this.probedAt,
        probeMs: this.probeMs,
        leaderChanges: this.track.leaderChanges,
      },
      items: this.inventory.items,
      inventoryError: this.inventory.error,
      records: this.scheduler.records(),
      jobs: this.scheduler.views(),
      kinds: this.kinds(),
      schedule: this.schedule,
      scheduleError: this.scheduleError,
      locks: this.locks,
      alerts: this.alertState,
      events: this.events.recent(60),
      staleGraceMs: this.opts.alerts?.staleGraceMs,
      follow,
      chains: this.inventory.chains,
    });
  }

  health(): { ok: boolean; [key: string]: unknown } {
    const age = this.clock.now() - (this.probedAt || this.startedAt);
    const ok = age < Math.max(3 * this.opts.probeIntervalMs, this.opts.probeIntervalMs + 2 * this.opts.probeTimeoutMs);
    return { ok, probeAgeMs: age, etcd: this.diagnosis?.state ?? null, config: this.configError === null };
  }

  async stop(): Promise<void> {
    this.controller.abort();
    this.watcher?.stop();
    await this.scheduler.stop();
    await this.follow.stopped();
    await Promise.allSettled(this.loops);
    await this.inventory.idle();
    await this.notifier.stop();
    this.runtime?.locks.close();
    if (this.server) {
      const server = this.server;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    }
  }
}
