import type { V1Node } from '@kubernetes/client-node';
import {
  type EtcdPodInfo,
  type MemberLike,
  type MemberNode,
  mapMembersToNodes,
  type NodeAddressInfo,
  parseEtcdPod,
} from '../../domain/kube/members.js';
import { KubeApi } from './api.js';
import { type KubeTarget, NoKubeConfigError } from './config.js';

/** Node discovery: control-plane nodes, etcd static pods, and which node hosts which etcd member. */

export const CONTROL_PLANE_LABELS = ['node-role.kubernetes.io/control-plane', 'node-role.kubernetes.io/master'];

export function nodeInfo(node: V1Node): NodeAddressInfo {
  const labels = node.metadata?.labels ?? {};
  return {
    name: node.metadata?.name ?? '',
    addresses: (node.status?.addresses ?? []).map((a) => ({ type: a.type, address: a.address })),
    controlPlane: CONTROL_PLANE_LABELS.some((l) => Object.hasOwn(labels, l)),
  };
}

/** kubeadm's etcd static pods (mirror pods in kube-system labelled component=etcd). */
export async function listEtcdPods(api: KubeApi): Promise<EtcdPodInfo[]> {
  return (await api.listPods('kube-system', 'component=etcd')).map(parseEtcdPod);
}

export async function memberNodes(api: KubeApi, members: MemberLike[]): Promise<MemberNode[]> {
  const [nodes, pods] = await Promise.all([api.listNodes(), listEtcdPods(api)]);
  return mapMembersToNodes(members, nodes.map(nodeInfo), pods);
}

/**
 * For `lifeboat status`: node names beside members when a cluster is configured and answers within the deadline;
 * undefined otherwise (status must not fail, or wait long, because Kubernetes is unavailable: etcd trouble is
 * exactly when the API server does not answer).
 */
export async function memberNodesIfReachable(
  members: MemberLike[],
  target: KubeTarget = {},
): Promise<{ nodes: MemberNode[] } | { unavailable: string }> {
  try {
    const api = await KubeApi.connect({ timeoutMs: 2000, ...target });
    return { nodes: await memberNodes(api, members) };
  } catch (err) {
    if (err instanceof NoKubeConfigError) return { unavailable: 'no Kubernetes cluster configured' };
    return { unavailable: err instanceof Error ? err.message : String(err) };
  }
}
