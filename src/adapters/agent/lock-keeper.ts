import type { SlotLock } from '../../domain/maintenance/lock-view.js';
import { errorMessage } from '../../errors.js';
import type { AgentLog } from './log.js';

/**
 * The lock an agent holds, kept alive: renewed every third of its TTL (at most every 10 s) with the agent's phase.
 * A renewal that says "not ours" marks the lock lost: the agent must not go down after that.
 */
export class LockKeeper {
  lock: SlotLock | undefined;
  token: number | undefined;
  lost = false;
  private timer: NodeJS.Timeout | undefined;
  private renewing = false;

  constructor(
    private readonly log: AgentLog,
    private readonly ttlMs: number,
    private readonly phase: () => string,
  ) {}

  hold(lock: SlotLock, token: number | undefined): void {
    this.stop();
    this.lock = lock;
    this.token = token;
    this.lost = false;
    const every = Math.min(10_000, Math.max(300, Math.floor(this.ttlMs / 3)));
    this.timer = setInterval(() => void this.renewOnce(), every);
  }

  /** Stop renewing (the lock stays until its TTL, or until the agent of the next boot resumes it). */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Releases the lock (fenced: never someone else's). True when it was still ours. */
  async release(): Promise<boolean> {
    this.stop();
    const lock = this.lock;
    this.lock = undefined;
    this.token = undefined;
    if (!lock) return false;
    try {
      const ours = (await lock.status()).mine;
      await lock.release();
      return ours;
    } catch (err) {
      this.log.warn('release-failed', `cannot release lock ${lock.name} (its TTL will): ${errorMessage(err)}`);
      return false;
    }
  }

  private async renewOnce(): Promise<void> {
    const lock = this.lock;
    if (this.renewing || !lock) return;
    this.renewing = true;
    try {
      if (!(await lock.renew({ phase: this.phase() }))) {
        this.lost = true;
        this.stop();
        this.lock = undefined;
        this.log.warn('lock-lost', `lock ${lock.name} expired or was taken while held (phase ${this.phase()})`);
      }
    } catch (err) {
      this.log.changed('renew', 'warn', 'renew-failed', `cannot renew lock ${lock.name}: ${errorMessage(err)}`);
    } finally {
      this.renewing = false;
    }
  }
}
