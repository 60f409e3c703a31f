/**
 * What `lifeboat init` reads from kubeadm's etcd static pod manifest (/etc/kubernetes/manifests/etcd.yaml): the
 * member's name, data dir, client URLs, certificates and initial cluster, all given as `--flag=value` arguments of
 * the etcd container's command. Pure: the caller parses the YAML.
 */
export interface EtcdManifestFacts {
  name?: string;
  dataDir?: string;
  advertiseClientUrls: string[];
  listenClientUrls: string[];
  /** Members named in --initial-cluster (name=peerURL): the cluster as it was when this member joined. */
  initialCluster: Array<{ name: string; peerUrl: string }>;
  certFile?: string;
  keyFile?: string;
  trustedCaFile?: string;
}

/** `--flag=value` and `--flag value` arguments of an etcd command line. */
export function etcdFlags(args: readonly string[]): Map<string, string> {
  const flags = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const m = /^--?([A-Za-z0-9-]+)(?:=(.*))?$/.exec(args[i]!);
    if (!m) continue;
    if (m[2] !== undefined) flags.set(m[1]!, m[2]);
    else if (i + 1 < args.length && !args[i + 1]!.startsWith('-')) flags.set(m[1]!, args[++i]!);
    else flags.set(m[1]!, 'true');
  }
  return flags;
}

const list = (text: string | undefined) =>
  (text ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/**
 * The etcd container of a static pod manifest (an already parsed YAML document): its command and args. Undefined
 * when the document is not a pod with an etcd container.
 */
export function etcdManifestFacts(manifest: unknown): EtcdManifestFacts | undefined {
  const containers = (manifest as { spec?: { containers?: unknown } } | null)?.spec?.containers;
  if (!Array.isArray(containers)) return undefined;
  const etcd = containers.find(
    (c) => c?.name === 'etcd' || (Array.isArray(c?.command) && String(c.command[0]).endsWith('etcd')),
  ) as { command?: unknown[]; args?: unknown[] } | undefined;
  if (!etcd) return undefined;
  const args = [...(etcd.command ?? []), ...(etcd.args ?? [])].map(String);
  const flags = etcdFlags(args);
  const get = (name: string) => flags.get(name);
  return {
    name: get('name'),
    dataDir: get('data-dir'),
    advertiseClientUrls: list(get('advertise-client-urls')),
    listenClientUrls: list(get('listen-client-urls')),
    initialCluster: list(get('initial-cluster')).flatMap((pair) => {
      const eq = pair.indexOf('=');
      return eq > 0 ? [{ name: pair.slice(0, eq), peerUrl: pair.slice(eq + 1) }] : [];
    }),
    certFile: get('cert-file'),
    keyFile: get('key-file'),
    trustedCaFile: get('trusted-ca-file'),
  };
}
