import { encryptionFor } from '../adapters/snapshot/setup.js';
import { backupCluster } from '../app/backup/etcd.js';
import { type FollowEvent, Follower, type FollowStatus } from '../app/etcdlog/follow.js';
import { connectionOptions } from '../app/settings.js';
import type { FollowObservation } from '../domain/alerts.js';
import { parseDuration } from '../domain/duration.js';
import { DEFAULT_LOG_POLICY } from '../domain/etcdlog/replay.js';
import { errorMessage } from '../errors.js';
import type { Runtime } from './runtime.js';

/**
 * serve's change-log follower (backups.etcd.follow: true): the same Follower as `backup etcd --follow`, started with
 * serve and stopped with it. Its events go to serve's event log; its lag and gaps feed /metrics and the alerts.
 * A config reload does not restart it (the follower keeps its chain); restart serve to change its settings.
 */
export class ServeFollower {
  private follower: Follower | undefined;
  private run: Promise<void> | undefined;
  private lastGap: { at: number; message: string } | undefined;
  gaps = 0;

  constructor(
    private readonly onEvent: (level: 'info' | 'warning' | 'error', message: string) => void,
    private readonly now: () => number,
  ) {}

  async start(runtime: Runtime, signal: AbortSignal): Promise<void> {
    const backups = runtime.loaded?.config.backups;
    if (!backups?.etcd?.follow || !runtime.store || this.follower) return;
    const every = backups.etcd.followEvery ? parseDuration(backups.etcd.followEvery) : undefined;
    const encryption = await encryptionFor(backups.encryption?.recipients ?? []);
    const store = runtime.store;
    this.follower = new Follower({
      endpoints: runtime.target.endpoints,
      connection: connectionOptions(runtime.target),
      store,
      policy: { ...DEFAULT_LOG_POLICY, ...(every ? { durableEveryMs: every } : {}) },
      encryption,
      snapshot: () => backupCluster(runtime.settings, { store, encryption, signal }),
      signal,
      now: this.now,
      onEvent: (e: FollowEvent) => {
        if (e.kind === 'gap') {
          this.gaps++;
          this.lastGap = { at: e.at, message: e.message };
        }
        this.onEvent(e.kind === 'gap' ? 'error' : e.kind === 'watch-lost' ? 'warning' : 'info', e.message);
      },
    });
    this.run = this.follower.run().catch((err: unknown) => {
      this.onEvent('error', `change-log follower stopped: ${errorMessage(err)}`);
    });
  }

  status(): FollowStatus | undefined {
    return this.follower?.status();
  }

  observation(): FollowObservation | undefined {
    const s = this.status();
    if (!s) return undefined;
    return {
      lagSeconds: s.lagSeconds,
      lagRevisions: s.lagRevisions,
      ...(this.lastGap ? { lastGap: this.lastGap } : {}),
    };
  }

  /** Waits for the follower to make its last revisions durable (serve's signal has been aborted). */
  async stopped(): Promise<void> {
    await this.run;
  }
}
