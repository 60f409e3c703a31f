import { join } from 'node:path';
import { parseConfigText } from '../adapters/config-file.js';
import { writeFileAtomic } from '../adapters/host/atomic-file.js';
import { readHostFiles } from '../adapters/host/probe.js';
import type { Finding } from '../domain/diagnosis.js';
import { type HostFacts, planInitConfig, renderInitConfig } from '../domain/init/plan.js';
import { runCheck } from '../domain/schedule/check.js';
import type { CheckFinding } from '../domain/schedule/findings.js';
import { configInventory } from '../domain/schedule/inventory.js';
import { DAY } from '../domain/schedule/types.js';
import { errorMessage, UserError } from '../errors.js';
import { runDoctor } from './doctor.js';
import { probeWithDiscovery } from './probe.js';
import { Settings } from './settings.js';

export interface InitOptions {
  /** Prefix of every host path read (`/` on a real host). */
  root: string;
  /** The lifeboat.yaml to write. */
  output: string;
  force: boolean;
  backupTo?: string[];
  clusterName?: string;
  kubeconfig?: string;
  deadlineMs: number;
  now: number;
}

export interface InitReport {
  output: string;
  layout: HostFacts['layout'];
  thisNode: string;
  members: string[];
  nodes: string[];
  reboots: Array<{ origin: string }>;
  notes: string[];
  check: { errors: number; warnings: number; findings: Array<Pick<CheckFinding, 'severity' | 'code' | 'message'>> };
  doctor: { state: string; exitCode: number; findings: Array<Pick<Finding, 'severity' | 'code' | 'message'>> };
}

/**
 * `lifeboat init` (like `talosctl gen config`): look at this host (kubeadm or k3s etcd layout, crontabs and timers
 * that reboot it), ask etcd for its members and Kubernetes for its nodes when they answer, write a commented
 * lifeboat.yaml, then run the schedule check and doctor on it.
 */
export async function runInit(opts: InitOptions): Promise<InitReport> {
  const files = readHostFiles(opts.root);
  const facts: HostFacts = { ...files, notes: [...files.notes] };

  const endpoints = files.manifest?.advertiseClientUrls.length
    ? files.manifest.advertiseClientUrls
    : files.defaultEndpoint
      ? [files.defaultEndpoint]
      : [];
  if (endpoints.length) {
    const probes = await probeWithDiscovery({ endpoints, tls: files.tls }, opts.deadlineMs);
    const listed = probes.find((p) => p.members?.length)?.members;
    if (listed) {
      facts.members = listed.map((m) => ({ name: m.name, clientURLs: m.clientURLs }));
      facts.notes.push(`etcd members (from ${endpoints[0]}): ${listed.map((m) => m.name).join(', ')}`);
    } else {
      const why = probes.map((p) => p.error).filter(Boolean)[0] ?? 'no answer';
      facts.notes.push(`etcd did not list its members (${why}): members from the manifest only`);
    }
  }

  const kubeconfig = opts.kubeconfig ?? files.kubeconfig;
  if (kubeconfig || opts.root === '/') {
    try {
      const { KubeApi } = await import('../adapters/kube/api.js');
      const { memberNodes, nodeInfo } = await import('../adapters/kube/nodes.js');
      const api = await KubeApi.connect({ ...(kubeconfig ? { kubeconfig } : {}), timeoutMs: opts.deadlineMs });
      const kubeNodes = (await api.listNodes())
        .map(nodeInfo)
        .map((n) => ({ name: n.name, controlPlane: Boolean(n.controlPlane) }));
      facts.kubeNodes = kubeNodes;
      if (facts.members) {
        const mapped = await memberNodes(api, facts.members);
        facts.memberNodes = Object.fromEntries(mapped.filter((m) => m.node).map((m) => [m.member, m.node!]));
      }
      facts.notes.push(`Kubernetes nodes: ${kubeNodes.map((n) => n.name).join(', ')}`);
    } catch (err) {
      facts.notes.push(`Kubernetes did not answer (${errorMessage(err).split('\n')[0]}): nodes from etcd only`);
    }
  }

  const plan = planInitConfig(facts, {
    backupTo: opts.backupTo?.length ? opts.backupTo : [join(opts.root, 'var/backups/lifeboat')],
    clusterName: opts.clusterName,
  });
  const header = [
    `Written by \`lifeboat init\` on ${facts.hostname} at ${new Date(opts.now).toISOString()}.`,
    'Every key is explained in docs/CONFIG.md. What init found:',
    ...facts.notes.map((n) => `  - ${n}`),
    '',
    'Next: lifeboat -c THIS_FILE check; lifeboat -c THIS_FILE backup etcd; lifeboat -c THIS_FILE verify --latest',
  ];
  const text = renderInitConfig(plan, header).replaceAll('THIS_FILE', opts.output);
  const config = parseConfigText(text, opts.output); // what we write must load, or we write nothing
  writeNew(opts.output, text, opts.force);

  const check = runCheck({ ...configInventory(config, opts.output), from: opts.now, to: opts.now + 366 * DAY });
  const doctor = await runDoctor(new Settings({ config: opts.output }), opts.deadlineMs, opts.now);
  const brief = <F extends { severity: Finding['severity']; code: string; message: string }>(f: F) => ({
    severity: f.severity,
    code: f.code,
    message: f.message,
  });
  return {
    output: opts.output,
    layout: facts.layout,
    thisNode: plan.thisNode,
    members: facts.members?.map((m) => m.name) ?? [],
    nodes: (config.nodes ?? []).map((n) => n.name),
    reboots: facts.reboots.map((r) => ({ origin: r.origin })),
    notes: facts.notes,
    check: {
      errors: check.findings.filter((f) => f.severity === 'error').length,
      warnings: check.findings.filter((f) => f.severity === 'warning').length,
      findings: check.findings.filter((f) => f.severity !== 'info').map(brief),
    },
    doctor: {
      state: doctor.state,
      exitCode: doctor.exitCode,
      findings: doctor.findings.filter((f) => f.severity !== 'info').map(brief),
    },
  };
}

/**
 * Temp file, fsync, then into place: with --force by rename (replaces), else by link, which fails when the file
 * exists, so an existing lifeboat.yaml is never replaced by accident, not even by a race.
 */
function writeNew(path: string, text: string, force: boolean): void {
  try {
    writeFileAtomic(path, text, { mode: 0o600, replace: force });
  } catch (err) {
    if (!force && (err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new UserError(`${path} exists; not replacing it`, 'pass --force to replace it, or --output FILE');
    }
    throw new UserError(`cannot write ${path}: ${errorMessage(err)}`);
  }
}
