// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the prelude strings are bash, where ${...} is bash's own expansion
import { dirname } from 'node:path';
import { parse } from 'yaml';
import type { ExecutorMember } from '../../domain/recover/members.js';
import type { ExecutablePlan, RestoreTool } from '../../domain/recover/types.js';
import { UserError } from '../../errors.js';
import { readInputFile } from '../host/input-file.js';
import { buildRunbook, type Driver } from './runbook.js';
import { MANIFEST_FLAGS_FN, q } from './shell.js';
import type { RunbookExecutor, RunbookScript } from './types.js';

/**
 * kubeadm's stacked etcd: a static pod manifest the kubelet runs. Stopping etcd = moving the manifest out of the
 * manifests dir (the kubelet removes the pod); a step with other flags = an edited copy moved back in. Certificates
 * and the data dir come from the manifest's own flags.
 */

export interface KubeadmManifest {
  flags: Map<string, string>;
  dataDir: string;
  image: string;
  /** etcd version from the image tag (registry.k8s.io/etcd:3.5.12-0 -> 3.5.12), or null. */
  version: string | null;
  caFile: string;
}

export function parseKubeadmManifest(text: string, path: string): KubeadmManifest {
  let doc: { spec?: { containers?: Array<{ name?: string; command?: string[]; image?: string }> } };
  try {
    doc = parse(text);
  } catch (err) {
    throw new UserError(`${path} is not YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  const container = doc?.spec?.containers?.find((c) => c.name === 'etcd' || c.command?.[0] === 'etcd');
  if (!container?.command) throw new UserError(`${path} has no etcd container command: not a kubeadm etcd manifest`);
  const flags = new Map<string, string>();
  for (const arg of container.command.slice(1)) {
    const m = /^--([^=]+)(?:=(.*))?$/.exec(arg);
    if (m) flags.set(m[1]!, m[2] ?? 'true');
  }
  const caFile = flags.get('trusted-ca-file') ?? '/etc/kubernetes/pki/etcd/ca.crt';
  const image = container.image ?? '';
  return {
    flags,
    dataDir: flags.get('data-dir') ?? '/var/lib/etcd',
    image,
    version: /:v?(\d+\.\d+\.\d+)/.exec(image)?.[1] ?? null,
    caFile,
  };
}

export function kubeadmDriver(manifestPath: string, manifest: KubeadmManifest): Driver {
  const pki = dirname(manifest.caFile);
  const local =
    manifest.flags
      .get('listen-client-urls')
      ?.split(',')
      .find((u) => u.includes('127.0.0.1')) ?? 'https://127.0.0.1:2379';
  const m = q(manifestPath);
  return {
    kind: 'kubeadm',
    source: manifestPath,
    dataDir: manifest.dataDir,
    tls: { cacert: manifest.caFile, cert: `${pki}/healthcheck-client.crt`, key: `${pki}/healthcheck-client.key` },
    localUrl: local,
    prelude: [
      ...MANIFEST_FLAGS_FN,
      `LB_MANIFEST=${m}`,
      // The original manifest of THIS recovery, kept outside the manifests dir (the kubelet runs every file in it).
      // Taken fresh per recovery: a copy from an earlier one would undo a kubeadm upgrade made since.
      'LB_ORIG="$LB_STATE/etcd.yaml.orig"',
      'LB_STOPPED="$LB_STATE/etcd.yaml.stopped"',
      'if [ ! -e "$LB_ORIG" ]; then',
      '  if [ -e "$LB_MANIFEST" ]; then src="$LB_MANIFEST"',
      '  elif [ -n "${LB_ORIGINAL_MANIFEST:-}" ] && [ -e "$LB_ORIGINAL_MANIFEST" ]; then src="$LB_ORIGINAL_MANIFEST"',
      '  else',
      '    echo "$LB_MANIFEST is missing (moved out by hand?): run again with LB_ORIGINAL_MANIFEST=FILE naming kubeadm\'s etcd.yaml for this node" >&2',
      '    exit 1',
      '  fi',
      '  cp "$src" "$LB_ORIG.next" && mv "$LB_ORIG.next" "$LB_ORIG"',
      'elif [ -e "$LB_MANIFEST" ] && ! cmp -s "$LB_MANIFEST" "$LB_ORIG" && ! cmp -s "$LB_MANIFEST" "$LB_STATE/etcd.yaml.edited"; then',
      '  echo "$LB_MANIFEST changed since this recovery began (a kubeadm upgrade?): it is neither $LB_ORIG nor our edit; write a new runbook" >&2',
      '  exit 1',
      'fi',
      `lb_etcd_gone() { [ -z "$(crictl ps -q --name '^etcd$' 2>/dev/null)" ] && lb_silent ${q(local)}; }`,
      'lb_stop_etcd() {',
      '  if [ -e "$LB_MANIFEST" ]; then mv "$LB_MANIFEST" "$LB_STOPPED"; fi',
      "  lb_wait 180 'the kubelet to stop the etcd pod' lb_etcd_gone",
      '}',
      // Written beside the manifest under a dot name (the kubelet skips those), then renamed: never half a file.
      'lb_put_manifest() { local next; next="$(dirname "$LB_MANIFEST")/.etcd.yaml.lifeboat-next"; cp "$1" "$next" && mv "$next" "$LB_MANIFEST"; }',
      'lb_start_normal() { lb_put_manifest "$LB_ORIG"; }',
      'lb_start_with() {',
      '  lb_manifest_flags "$LB_ORIG" "$LB_STATE/etcd.yaml.edited" "$@"',
      '  lb_put_manifest "$LB_STATE/etcd.yaml.edited"',
      '}',
    ],
    header: (plan: ExecutablePlan) => [
      `etcd image ${manifest.image || 'unknown'}: etcdctl (and etcdutl for 3.5+) of that version must be installed on the host.`,
      ...(plan.name === 'snapshot'
        ? ['After the restore, restart kube-apiserver on every node (move its manifest out and back) so caches resync.']
        : []),
    ],
  };
}

export class KubeadmExecutor implements RunbookExecutor {
  readonly kind = 'kubeadm' as const;
  private manifest: KubeadmManifest | undefined;

  constructor(
    readonly source: string,
    private readonly nodes: Array<{ node: string; member: string }>,
  ) {}

  private read(): KubeadmManifest {
    if (!this.manifest) {
      const text = readInputFile(this.source, 'manifest', {
        maxBytes: 1024 * 1024,
        hint: 'run recover on a control-plane node, or pass --manifest FILE',
      }).toString('utf8');
      this.manifest = parseKubeadmManifest(text, this.source);
    }
    return this.manifest;
  }

  /**
   * The members this node's manifest knows (its --initial-cluster: every member when it joined after them), for when
   * no member answers. Client URLs follow kubeadm's layout (the peer host on 2379). Hosts, processes and disks of
   * other nodes are unknown from here.
   */
  members(): ExecutorMember[] | undefined {
    let manifest: KubeadmManifest;
    try {
      manifest = this.read();
    } catch {
      return undefined;
    }
    const entries = (manifest.flags.get('initial-cluster') ?? '').split(',').flatMap((pair) => {
      const at = pair.indexOf('=');
      return at > 0 ? [{ name: pair.slice(0, at), peerUrl: pair.slice(at + 1) }] : [];
    });
    return entries.map((e) => ({
      ...e,
      clientUrl: e.peerUrl.replace(/:2380$/, ':2379'),
      running: null,
      hasData: null,
    }));
  }

  restoreTool(): RestoreTool | undefined {
    const v = this.read().version;
    if (!v) return undefined;
    const [major, minor] = v.split('.').map(Number);
    return { tool: (major ?? 0) > 3 || (minor ?? 0) >= 5 ? 'etcdutl' : 'etcdctl', version: v };
  }

  runbook(plan: ExecutablePlan, writtenAt = new Date()): RunbookScript[] {
    return buildRunbook(
      plan,
      kubeadmDriver(this.source, this.read()),
      (member) => nodeOf(this.nodes, member),
      writtenAt,
    );
  }
}

export function nodeOf(nodes: Array<{ node: string; member: string }>, member: string): string {
  return nodes.find((n) => n.member === member)?.node ?? member;
}
