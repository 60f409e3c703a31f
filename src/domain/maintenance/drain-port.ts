/**
 * Draining a node before it goes down and uncordoning it after, as a port: a no-op outside Kubernetes; the
 * Kubernetes adapter (cordon, evict honouring PodDisruptionBudgets, uncordon) plugs in here.
 */
export interface NodeDrainer {
  readonly description: string;
  drain(node: string): Promise<void>;
  uncordon(node: string): Promise<void>;
}

export const NO_DRAIN: NodeDrainer = {
  description: 'no drain (not a Kubernetes node, or no Kubernetes access configured)',
  drain: async () => {},
  uncordon: async () => {},
};

/**
 * The drain could not take the node out of service (a PodDisruptionBudget held an eviction past the deadline, pods
 * the flags do not allow to evict, the API unreachable, the node unknown): the agent treats it as a refusal, gives
 * the lock back and does not go down. Drainers throw it after making the node schedulable again.
 */
export class DrainRefusal extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DrainRefusal';
  }
}
