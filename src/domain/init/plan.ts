import type { LifeboatConfig, RebootSpec } from '../config.js';
import { docOf, yamlInline } from '../config-reference.js';
import type { EtcdManifestFacts } from './etcd-manifest.js';

/**
 * `lifeboat init` as a pure function: what was found on this host (HostFacts) -> the lifeboat.yaml to write, with
 * comments that say what each key does (from CONFIG_DOCS) and where each value came from.
 */

export type HostLayout = 'kubeadm' | 'k3s' | 'unknown';

export interface HostFacts {
  hostname: string;
  layout: HostLayout;
  /** etcd client TLS files, as this process reads them (under --root). */
  tls?: { ca: string; cert: string; key: string };
  /** kubeadm's etcd static pod manifest, when there is one. */
  manifest?: EtcdManifestFacts;
  /** Where the etcd client URLs were looked for when nothing else named them (k3s: https://127.0.0.1:2379). */
  defaultEndpoint?: string;
  /** etcd's member list, when etcd answered. */
  members?: Array<{ name: string; clientURLs: string[] }>;
  /** Kubernetes nodes, when the API answered. */
  kubeNodes?: Array<{ name: string; controlPlane: boolean }>;
  /** etcd member name -> Kubernetes node name. */
  memberNodes?: Record<string, string>;
  /** Reboots scheduled on this host (crontabs, systemd timers), with the file:line they come from. */
  reboots: Array<{ origin: string; spec: RebootSpec }>;
  /** What was looked at, found, or could not be used: printed and written into the file's header. */
  notes: string[];
}

export interface InitChoices {
  clusterName?: string;
  /** backups.to; the first gets the backups. */
  backupTo: string[];
}

export const DEFAULT_BACKUP_EVERY = '1h';
export const DEFAULT_RETENTION = { keepLast: 24, daily: 7, weekly: 4, monthly: 6 };
export const DEFAULT_VERIFIED_WITHIN = '24h';

export interface InitPlan {
  config: LifeboatConfig;
  /** The node this host is. */
  thisNode: string;
  /** Trailing comments for values: the reboot entries' origins. */
  origins: Map<object, string>;
}

export function planInitConfig(facts: HostFacts, choices: InitChoices): InitPlan {
  const memberNames =
    facts.members?.map((m) => m.name).filter(Boolean) ??
    (facts.manifest?.initialCluster.length ? facts.manifest.initialCluster.map((m) => m.name) : []);
  const nodeOf = (member: string) => facts.memberNodes?.[member] ?? member;
  const thisMember = facts.manifest?.name;
  const thisNode = thisMember ? nodeOf(thisMember) : facts.hostname;
  const origins = new Map<object, string>();
  const reboots = facts.reboots.map((r) => {
    const spec = { ...r.spec };
    origins.set(spec, r.origin);
    return spec;
  });

  // Sorted by node name: etcd lists members by id, and the same cluster should give the same file.
  const nodes: NonNullable<LifeboatConfig['nodes']> = memberNames
    .map((member) => {
      const name = nodeOf(member);
      return {
        name,
        roles: ['control-plane' as const, 'etcd' as const],
        ...(name !== member ? { etcdMember: member } : {}),
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
  for (const n of facts.kubeNodes ?? []) {
    if (!nodes.some((x) => x.name === n.name) && !n.controlPlane) nodes.push({ name: n.name, roles: ['worker'] });
  }
  if (!nodes.some((n) => n.name === thisNode)) {
    // No etcd member here: the host is a worker (or the members could not be listed).
    nodes.push({ name: thisNode, roles: thisMember ? ['control-plane', 'etcd'] : ['worker'] });
  }
  const self = nodes.find((n) => n.name === thisNode)!;
  if (reboots.length) self.reboot = reboots;

  const endpoints = facts.members?.length
    ? facts.members.flatMap((m) => m.clientURLs.slice(0, 1))
    : facts.manifest?.advertiseClientUrls.length
      ? facts.manifest.advertiseClientUrls
      : [facts.defaultEndpoint ?? (facts.tls ? 'https://127.0.0.1:2379' : 'http://127.0.0.1:2379')];

  const config: LifeboatConfig = {
    cluster: { name: choices.clusterName ?? 'cluster' },
    etcd: {
      endpoints,
      ...(facts.tls ? { tls: { ...facts.tls } } : {}),
      ...(facts.layout !== 'unknown' ? { executor: facts.layout } : {}),
    },
    nodes,
    backups: {
      to: choices.backupTo,
      etcd: { every: DEFAULT_BACKUP_EVERY, verifyEvery: 1 },
      retention: { ...DEFAULT_RETENTION },
    },
    maintenance: { requireVerifiedBackupWithin: DEFAULT_VERIFIED_WITHIN },
  };
  return { config, thisNode, origins };
}

/** Keys written commented out, to be filled in: off-node copies, encryption, alerts. */
const SUGGESTIONS: Record<string, string[]> = {
  backups: ['backups.encryption.recipients', 'backups.s3.endpoint'],
  maintenance: ['maintenance.onStaleBackup'],
};

const WIDTH = 100;

function commentLines(text: string, indent: string): string[] {
  const words = text.split(/\s+/).filter(Boolean);
  const lines: string[] = [];
  let line = '';
  for (const w of words) {
    if (line && indent.length + 2 + line.length + 1 + w.length > WIDTH) {
      lines.push(`${indent}# ${line}`);
      line = w;
    } else line = line ? `${line} ${w}` : w;
  }
  if (line) lines.push(`${indent}# ${line}`);
  return lines;
}

const isMapping = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * The config as commented YAML: each key preceded by what it does, reboot entries followed by the file and line
 * they were found at, and a few keys left commented out with an example (off-node copies, encryption).
 */
export function renderInitConfig(plan: InitPlan, header: string[]): string {
  const out: string[] = header.map((h) => (h ? `# ${h}` : '#'));
  const emit = (value: Record<string, unknown>, path: string, indent: string, first = false) => {
    for (const [key, val] of Object.entries(value)) {
      if (val === undefined) continue;
      const p = path ? `${path}.${key}` : key;
      const doc = docOf(p)?.doc;
      if (!first && indent === '') out.push('');
      if (doc && !path.includes('[]')) out.push(...commentLines(doc.text, indent));
      if (isMapping(val)) {
        out.push(`${indent}${key}:`);
        emit(val, p, `${indent}  `);
        for (const s of SUGGESTIONS[p] ?? []) {
          const example = docOf(s)?.doc;
          if (!example?.example) continue;
          const rest = s.slice(p.length + 1).split('.');
          out.push(...commentLines(example.text, `${indent}  `));
          out.push(
            `${indent}  # ${rest[0]}:${rest.length > 1 ? ` { ${rest.slice(1).join('.')}: ${yamlInline(example.example)} }` : ` ${yamlInline(example.example)}`}`,
          );
        }
      } else if (Array.isArray(val) && val.some(isMapping)) {
        out.push(`${indent}${key}:`);
        for (const item of val) {
          if (!isMapping(item)) continue;
          const entries = Object.entries(item);
          entries.forEach(([k, v], i) => {
            const lead = i === 0 ? `${indent}  - ` : `${indent}    `;
            if (Array.isArray(v) && v.some(isMapping)) {
              out.push(`${lead}${k}:`);
              for (const sub of v) {
                const origin = plan.origins.get(sub as object);
                out.push(`${indent}      - ${yamlInline(sub)}${origin ? `   # ${origin}` : ''}`);
              }
            } else out.push(`${lead}${k}: ${yamlInline(v)}`);
          });
        }
      } else out.push(`${indent}${key}: ${yamlInline(val)}`);
      first = false;
    }
  };
  emit(plan.config as Record<string, unknown>, '', '', true);
  return `${out.join('\n')}\n`;
}
