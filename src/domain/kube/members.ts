/**
 * Which Kubernetes node hosts which etcd member. kubeadm runs etcd as a static pod (`component=etcd` in kube-system,
 * one per control-plane node) whose flags carry the member name and its advertised URLs; k3s and systemd-managed
 * etcd have no pod, so the member's URLs are matched against the nodes' addresses; last, the names themselves.
 */

export interface MemberLike {
  name: string;
  id?: string;
  clientURLs?: string[];
  peerURLs?: string[];
}

export interface NodeAddressInfo {
  name: string;
  addresses: { type?: string; address?: string }[];
  controlPlane?: boolean;
}

export interface EtcdPodInfo {
  podName: string;
  nodeName: string;
  memberName?: string;
  clientURLs: string[];
  peerURLs: string[];
}

export type MappingSource = 'static-pod' | 'address' | 'name';

export interface MemberNode {
  member: string;
  id?: string;
  node: string | null;
  via: MappingSource | null;
}

export interface EtcdPodLike {
  metadata?: { name?: string; annotations?: Record<string, string> };
  spec?: { nodeName?: string; containers?: { name?: string; command?: string[]; args?: string[] }[] };
}

const ADVERTISE_ANNOTATION = 'kubeadm.kubernetes.io/etcd.advertise-client-urls';

function flag(args: string[], name: string): string | undefined {
  const prefix = `--${name}=`;
  const inline = args.find((a) => a.startsWith(prefix));
  if (inline) return inline.slice(prefix.length);
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

const list = (v: string | undefined): string[] =>
  (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** The member name and URLs an etcd static pod runs with (flags of its etcd container, then kubeadm's annotation). */
export function parseEtcdPod(pod: EtcdPodLike): EtcdPodInfo {
  const container = pod.spec?.containers?.find((c) => c.name === 'etcd') ?? pod.spec?.containers?.[0];
  const args = [...(container?.command ?? []), ...(container?.args ?? [])];
  const client = list(flag(args, 'advertise-client-urls') ?? pod.metadata?.annotations?.[ADVERTISE_ANNOTATION]);
  return {
    podName: pod.metadata?.name ?? '',
    nodeName: pod.spec?.nodeName ?? '',
    memberName: flag(args, 'name'),
    clientURLs: client,
    peerURLs: list(flag(args, 'initial-advertise-peer-urls')),
  };
}

/** host:port of a URL (lower case, default ports filled in), or undefined when it does not parse. */
function endpointKey(url: string): string | undefined {
  try {
    const u = new URL(url);
    const port = u.port || (u.protocol === 'https:' ? '443' : '80');
    return `${u.hostname.toLowerCase().replace(/^\[|\]$/g, '')}:${port}`;
  } catch {
    return undefined;
  }
}

function hostOf(url: string): string | undefined {
  return endpointKey(url)?.replace(/:\d+$/, '');
}

function urlsOf(m: { clientURLs?: string[]; peerURLs?: string[] }): string[] {
  return [...(m.clientURLs ?? []), ...(m.peerURLs ?? [])];
}

export function mapMembersToNodes(
  members: MemberLike[],
  nodes: NodeAddressInfo[],
  etcdPods: EtcdPodInfo[] = [],
): MemberNode[] {
  // A host shared by several members (a lab on 127.0.0.1) says nothing about which node is which.
  const hostCount = new Map<string, number>();
  for (const m of members) {
    for (const h of new Set(urlsOf(m).map(hostOf).filter(Boolean) as string[])) {
      hostCount.set(h, (hostCount.get(h) ?? 0) + 1);
    }
  }
  return members.map((m) => {
    const result = (node: string | null, via: MappingSource | null): MemberNode => ({
      member: m.name,
      ...(m.id ? { id: m.id } : {}),
      node,
      via,
    });
    const keys = new Set(urlsOf(m).map(endpointKey).filter(Boolean));
    const byPod =
      etcdPods.find((p) => urlsOf(p).some((u) => keys.has(endpointKey(u)))) ??
      etcdPods.find((p) => p.memberName !== undefined && p.memberName === m.name);
    if (byPod?.nodeName) return result(byPod.nodeName, 'static-pod');
    const hosts = urlsOf(m)
      .map(hostOf)
      .filter((h): h is string => h !== undefined && hostCount.get(h) === 1);
    const byAddress = nodes.find((n) =>
      n.addresses.some((a) => a.address !== undefined && hosts.includes(a.address.toLowerCase())),
    );
    if (byAddress) return result(byAddress.name, 'address');
    const byName = nodes.find((n) => n.name === m.name);
    if (byName) return result(byName.name, 'name');
    return result(null, null);
  });
}
