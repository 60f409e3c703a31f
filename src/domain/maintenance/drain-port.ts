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
