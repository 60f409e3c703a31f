import type { EndpointProbe } from '../probe.js';
import type { LeaderMove } from './prechecks.js';

/**
 * The narrow ports a maintenance run goes through, beside the lock (`SlotLock`, lock-view.ts) and the drain
 * (`NodeDrainer`, drain-port.ts). The agent (src/app/agent/) sees its machine, its reboot and the cluster only
 * through these, so its flow is tested with in-memory fakes and the adapters (src/adapters/agent/) plug in.
 */

/** The machine the agent runs on: whether it asks for a reboot, and forgetting that ask once it is done. */
export interface HostPort {
  /** `sentinel`: the sentinel file exists; `sentinelCommand`: the configured command exits 0 (absent: none set). */
  rebootWanted(): Promise<{ sentinel: boolean; sentinelCommand?: boolean }>;
  /** Clears the sentinel after a completed maintenance, unless it was written after `downAt` (a newer ask). */
  clearSentinel(downAt: number): void;
}

/**
 * How a node goes down and comes back. A real host runs the reboot command and the agent dies with the machine
 * (the agent started after the boot finishes the maintenance); in the lab the member's process is stopped and
 * started again and the agent lives on.
 */
export interface Rebooter {
  readonly description: string;
  /** Identity of the running boot: a different value afterwards proves the node really went down. */
  bootId(): string;
  /** 'returned': the node is back and this process lived through it; 'pending': the machine is going down. */
  reboot(): Promise<'returned' | 'pending'>;
}

/** etcd as the agent needs it: a probe round of every member, and moving leadership away from this member. */
export interface ClusterPort {
  probe(): Promise<EndpointProbe[]>;
  /** Asks the leader to hand over, waits until another member leads; resolves with the new leader's id. */
  moveLeader(move: LeaderMove): Promise<string>;
}
