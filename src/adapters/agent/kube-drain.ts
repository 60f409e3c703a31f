import { formatDuration } from '../../domain/duration.js';
import { DrainRefusal, type NodeDrainer } from '../../domain/maintenance/drain-port.js';
import { errorMessage } from '../../errors.js';
import { type KubeApi, KubeApiError } from '../kube/api.js';
import { DrainError, type DrainEvent, drainNode } from '../kube/drain.js';
import type { AgentLog } from './log.js';

/**
 * The agent's NodeDrainer on a Kubernetes node: cordon, then `kubectl drain --ignore-daemonsets` through the
 * Eviction API (adapters/kube/drain.ts: DaemonSet and mirror pods stay, a PodDisruptionBudget's 429 is retried until
 * the deadline); after the maintenance, uncordon.
 *
 * The cordon is marked with an annotation, and only a cordon carrying it is undone: a node an operator cordoned
 * before the maintenance stays cordoned after it (the agent that uncordons may be a new process after the reboot, so
 * the mark lives on the node). A drain that cannot finish is a DrainRefusal, thrown after the node was made
 * schedulable again: the agent gives the lock back and does not go down.
 */

export const CORDONED_ANNOTATION = 'lifeboat.io/cordoned';
export const DEFAULT_DRAIN_TIMEOUT_MS = 5 * 60_000;

export interface KubeDrainOptions {
  /** The Kubernetes node name when it differs from the agent's --node. */
  kubeNode?: string;
  /** Deadline for evictions and for the evicted pods to be gone (default 5 minutes). */
  timeoutMs?: number;
  deleteEmptyDirData?: boolean;
  /** Evict pods no controller recreates (kubectl's --force). */
  force?: boolean;
  /** Attempts and first delay of uncordon (the API server may be slow to answer right after a reboot). */
  uncordonAttempts?: number;
  uncordonDelayMs?: number;
}

type Undo = 'uncordoned' | 'not-ours' | 'not-cordoned' | 'no-node';

export class KubeDrainer implements NodeDrainer {
  readonly description: string;
  private readonly timeoutMs: number;
  private readonly aborter = new AbortController();

  constructor(
    private readonly api: KubeApi,
    private readonly log: AgentLog,
    private readonly opts: KubeDrainOptions = {},
  ) {
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS;
    const flags = [opts.deleteEmptyDirData ? ', --delete-emptydir-data' : '', opts.force ? ', --force-drain' : ''].join(
      '',
    );
    const node = opts.kubeNode ? ` ${opts.kubeNode}` : '';
    this.description = `cordon and drain Kubernetes node${node} via ${api.server} (timeout ${formatDuration(this.timeoutMs)}${flags})`;
  }

  /** The Kubernetes node of the agent's node. */
  nodeName(node: string): string {
    return this.opts.kubeNode ?? node;
  }

  /** Interrupts a drain in progress (the agent is stopping): it ends as a refusal, the node uncordoned. */
  abort(): void {
    this.aborter.abort(new Error('the agent is stopping'));
  }

  async drain(node: string): Promise<void> {
    const name = this.nodeName(node);
    try {
      await this.cordon(name);
      const report = await drainNode(this.api, name, {
        timeoutMs: this.timeoutMs,
        ...(this.opts.deleteEmptyDirData ? { deleteEmptyDirData: true } : {}),
        ...(this.opts.force ? { force: true } : {}),
        signal: this.aborter.signal,
        onEvent: (e) => this.event(name, e),
      });
      for (const w of report.warnings) this.log.info('drain-warning', w);
      const seconds = Math.round(report.seconds * 10) / 10;
      this.log.info('drained', `drained ${name} in ${seconds}s: evicted ${report.evicted.length} pod(s)`, {
        evicted: report.evicted,
        skipped: report.skipped,
        seconds,
      });
    } catch (err) {
      const why = this.explain(name, err);
      this.log.warn('drain-failed', why);
      const undo = await this.undo(name, 3).catch((e: unknown): Undo | string => errorMessage(e));
      const after =
        undo === 'uncordoned'
          ? `; ${name} was uncordoned again`
          : undo === 'not-ours'
            ? `; ${name} stays cordoned (it was cordoned before Lifeboat)`
            : undo === 'not-cordoned' || undo === 'no-node'
              ? ''
              : `; could not uncordon ${name}: ${undo}`;
      throw new DrainRefusal(`${why}${after}`);
    }
  }

  /** Makes the node schedulable again if Lifeboat cordoned it; retried while the API server is not answering. */
  async uncordon(node: string): Promise<void> {
    await this.undo(this.nodeName(node), this.opts.uncordonAttempts ?? 6);
  }

  /**
   * At start, outside any maintenance: a cordon of ours left by an earlier run that died before going down (no
   * finishing step will ever undo it). One attempt; the caller ignores failures.
   */
  async releaseLeftoverCordon(node: string): Promise<boolean> {
    const name = this.nodeName(node);
    const current = await this.api.getNode(name);
    if (!current.metadata?.annotations?.[CORDONED_ANNOTATION]) return false;
    await this.patchUncordon(name);
    this.log.info('uncordoned', `uncordoned ${name}: its cordon was left by an earlier run that never went down`);
    return true;
  }

  private async cordon(name: string): Promise<void> {
    const current = await this.api.getNode(name);
    if (current.spec?.unschedulable) {
      if (!current.metadata?.annotations?.[CORDONED_ANNOTATION]) {
        this.log.info('already-cordoned', `${name} was already cordoned; it stays cordoned after the maintenance`);
      }
      return;
    }
    await this.api.mergePatchNode(name, {
      metadata: { annotations: { [CORDONED_ANNOTATION]: new Date().toISOString() } },
      spec: { unschedulable: true },
    });
    this.log.info('cordoned', `cordoned Kubernetes node ${name}`);
  }

  private async undo(name: string, attempts: number): Promise<Undo> {
    let delay = this.opts.uncordonDelayMs ?? 500;
    for (let attempt = 1; ; attempt++) {
      try {
        const current = await this.api.getNode(name);
        if (!current.metadata?.annotations?.[CORDONED_ANNOTATION]) {
          if (!current.spec?.unschedulable) return 'not-cordoned';
          this.log.info('left-cordoned', `${name} stays cordoned: it was cordoned before Lifeboat cordoned it`);
          return 'not-ours';
        }
        await this.patchUncordon(name);
        this.log.info('uncordoned', `uncordoned Kubernetes node ${name}`);
        return 'uncordoned';
      } catch (err) {
        if (err instanceof KubeApiError && err.status === 404) return 'no-node';
        if (attempt >= attempts) throw err;
        this.log.changed('uncordon', 'warn', 'uncordon-retry', `cannot uncordon ${name} yet: ${errorMessage(err)}`);
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(5000, delay * 2);
      }
    }
  }

  private async patchUncordon(name: string): Promise<void> {
    await this.api.mergePatchNode(name, {
      metadata: { annotations: { [CORDONED_ANNOTATION]: null } },
      spec: { unschedulable: null },
    });
  }

  private event(name: string, e: DrainEvent): void {
    switch (e.type) {
      case 'evicting':
        this.log.info('evicting', `evicting ${e.pods.length} pod(s) from ${name}: ${e.pods.join(', ')}`, {
          pods: e.pods,
        });
        break;
      case 'evicted':
        this.log.info('evicted', `evicted ${e.pod}`, { pod: e.pod });
        break;
      case 'blocked':
        this.log.changed(`blocked-${e.pod}`, 'info', 'drain-blocked', `eviction of ${e.pod} refused: ${e.reason}`, {
          pod: e.pod,
          attempt: e.attempt,
        });
        break;
      default:
        break;
    }
  }

  private explain(name: string, err: unknown): string {
    if (this.aborter.signal.aborted) return `drain of ${name} interrupted: the agent is stopping`;
    if (err instanceof KubeApiError && err.status === 404 && err.callId === 'nodes.get') {
      const hint = this.opts.kubeNode ? '' : ' (pass --kube-node NAME when it differs from --node)';
      return `Kubernetes has no node ${name}${hint}`;
    }
    if (err instanceof DrainError && err.kind === 'timeout') {
      return `cannot drain ${name} within ${formatDuration(this.timeoutMs)}: ${err.message}`;
    }
    if (err instanceof DrainError && err.kind === 'refused') {
      return err.message.replace('use --force to override', 'use --force-drain to override');
    }
    return `cannot drain ${name}: ${errorMessage(err)}`;
  }
}
