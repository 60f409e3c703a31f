import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DaemonSet, Deployment } from 'kubernetes-models/apps/v1';
import { CronJob } from 'kubernetes-models/batch/v1';
import { ClusterRole, ClusterRoleBinding, Role, RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { ConfigMap, Namespace, Pod, Service, ServiceAccount } from 'kubernetes-models/v1';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { MANIFEST_VALUES, MANIFESTS_DIR, renderChart, renderedObjects } from '../../scripts/render-chart.mjs';
import { loadConfigFile } from '../../src/adapters/config-file.js';
import { buildProgram } from '../../src/cli.js';
import { commandLineProblems, invocations } from '../helpers/command-line.js';

/**
 * deploy/ works as designed: every shipped manifest and every rendering of the chart validates against the
 * Kubernetes schemas (kubernetes-models), deploy/manifests/ is the chart's default rendering, the lifeboat.yaml in
 * each rendering is a valid config, and each agent's pod spec mounts what that config makes it read (the etcd client
 * certificates; the backup catalog, or S3 credentials, where maintenance.requireVerifiedBackupWithin is set).
 */

// biome-ignore lint/suspicious/noExplicitAny: parsed manifests
type Doc = Record<string, any>;

const ROOT = join(import.meta.dirname, '../..');
const work = mkdtempSync(join(tmpdir(), 'lifeboat-deploy-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

// biome-ignore lint/suspicious/noExplicitAny: each model takes its own kind's shape; the documents are parsed YAML
const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  'v1/Namespace': Namespace,
  'v1/ServiceAccount': ServiceAccount,
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'v1/Pod': Pod,
  'apps/v1/DaemonSet': DaemonSet,
  'apps/v1/Deployment': Deployment,
  'batch/v1/CronJob': CronJob,
  'rbac.authorization.k8s.io/v1/ClusterRole': ClusterRole,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': ClusterRoleBinding,
  'rbac.authorization.k8s.io/v1/Role': Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding,
};

function validate(doc: Doc, where: string): void {
  const Model = MODELS[`${doc.apiVersion}/${doc.kind}`];
  expect(Model, `${where}: no schema for ${doc.apiVersion} ${doc.kind}`).toBeDefined();
  expect(() => new (Model as NonNullable<typeof Model>)(doc).validate(), `${where}: ${doc.kind}`).not.toThrow();
}

/** The renderings shipped or documented: defaults (kubeadm, S3), k3s, and a host NFS directory with every extra on. */
const VARIANTS: Record<string, Doc> = {
  'kubeadm (defaults)': {},
  k3s: parse(readFileSync(join(ROOT, 'deploy/chart/lifeboat/values-k3s.yaml'), 'utf8')),
  'NFS directory, serve and worker agents on': {
    config: { backups: { to: ['/mnt/lifeboat-backups'] } },
    serve: { enabled: true },
    agent: { workers: { enabled: true } },
  },
};

function podSpec(workload: Doc): Doc {
  return workload.kind === 'CronJob' ? workload.spec.jobTemplate.spec.template.spec : workload.spec.template.spec;
}

/** The lifeboat.yaml of a rendering, through the real config loader (so it is valid, not just YAML). */
function configOf(docs: Doc[], name: string) {
  const map = docs.find((d) => d.kind === 'ConfigMap');
  const file = join(work, `${name.replace(/\W+/g, '-')}.yaml`);
  writeFileSync(file, map?.data['lifeboat.yaml']);
  return loadConfigFile(file).config;
}

/** The volume behind the container mount that covers `path` (the deepest one), if any. */
function volumeFor(spec: Doc, container: Doc, path: string): Doc | undefined {
  const mounts = (container.volumeMounts ?? []) as Doc[];
  const covering = mounts
    .filter((m) => path === m.mountPath || path.startsWith(`${m.mountPath}/`))
    .sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
  return covering && spec.volumes.find((v: Doc) => v.name === covering.name);
}

describe('deploy/manifests', () => {
  const files = readdirSync(MANIFESTS_DIR).filter((f) => f.endsWith('.yaml'));

  it('is exactly the chart rendered with its default values (npm run render:manifests)', () => {
    const rendered = renderChart({ values: MANIFEST_VALUES });
    expect(files.sort()).toEqual(rendered.map((r) => r.file).sort());
    for (const { file, text } of rendered) {
      expect(readFileSync(join(MANIFESTS_DIR, file), 'utf8'), file).toContain(text);
    }
  });

  it('every document validates against the Kubernetes schema', () => {
    let count = 0;
    for (const file of files) {
      for (const d of parseAllDocuments(readFileSync(join(MANIFESTS_DIR, file), 'utf8'))) {
        expect(d.errors, file).toEqual([]);
        validate(d.toJS() as Doc, file);
        count++;
      }
    }
    expect(count).toBeGreaterThan(10);
  });

  it('the static pod manifest validates and mounts the host config, etcd PKI and manifests', () => {
    const pod = parse(readFileSync(join(ROOT, 'deploy/static-pod/lifeboat.yaml'), 'utf8')) as Doc;
    validate(pod, 'deploy/static-pod/lifeboat.yaml');
    expect(pod.spec.hostNetwork).toBe(true);
    const c = pod.spec.containers[0];
    for (const path of [
      '/etc/lifeboat/lifeboat.yaml',
      '/etc/kubernetes/pki/etcd/ca.crt',
      '/etc/kubernetes/manifests',
    ]) {
      expect(volumeFor(pod.spec, c, path)?.hostPath, path).toBeDefined();
    }
  });
});

describe.each(Object.entries(VARIANTS))('deploy/chart rendered: %s', (name, values) => {
  const docs = renderedObjects({ values }) as Doc[];
  const config = configOf(docs, name);
  const agents = docs.filter((d) => d.kind === 'DaemonSet');

  it('every document validates against the Kubernetes schema', () => {
    for (const d of docs) validate(d, `${name}: ${d.kind}/${d.metadata.name}`);
  });

  it('no claim needs ReadWriteMany (it stays Pending on local-path or Longhorn)', () => {
    for (const d of docs.filter((d) => d.kind === 'PersistentVolumeClaim')) {
      expect(d.spec.accessModes).not.toContain('ReadWriteMany');
    }
  });

  it('the members agent runs only on etcd members, the workers agent only elsewhere', () => {
    const members = agents.find((d) => d.metadata.name === 'lifeboat-agent');
    expect(members).toBeDefined();
    const memberTerms = podSpec(members!).affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution
      .nodeSelectorTerms as Doc[];
    const memberKeys = memberTerms.map((t) => t.matchExpressions[0]);
    expect(memberKeys.every((e: Doc) => e.operator === 'Exists')).toBe(true);
    const workers = agents.find((d) => d.metadata.name === 'lifeboat-agent-workers');
    if (workers === undefined) return;
    const [term] = podSpec(workers).affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution
      .nodeSelectorTerms as Doc[];
    // One term ANDing "not a member" for every label that makes a member: no node can match both DaemonSets.
    expect(term!.matchExpressions).toEqual(memberKeys.map((e: Doc) => ({ key: e.key, operator: 'DoesNotExist' })));
  });

  it("each agent's pod mounts the etcd client certificates its config names", () => {
    const tls = config.etcd?.tls;
    expect(tls?.ca && tls.cert && tls.key).toBeTruthy();
    for (const ds of agents) {
      const spec = podSpec(ds);
      const c = spec.containers[0];
      for (const file of [tls!.ca!, tls!.cert!, tls!.key!]) {
        const volume = volumeFor(spec, c, file);
        expect(volume, `${ds.metadata.name}: ${file}`).toBeDefined();
        if (ds.metadata.name === 'lifeboat-agent') {
          // members: the node's own certificates; the directory must exist (no empty DirectoryOrCreate).
          expect(volume!.hostPath).toEqual({ path: dirname(file), type: 'Directory' });
        } else {
          expect(volume!.secret?.secretName, ds.metadata.name).toBeTruthy();
        }
      }
    }
  });

  it('the members agent reaches the backup catalog that requireVerifiedBackupWithin reads', () => {
    expect(config.maintenance?.requireVerifiedBackupWithin).toBeTruthy();
    const members = agents.find((d) => d.metadata.name === 'lifeboat-agent')!;
    const spec = podSpec(members);
    const c = spec.containers[0];
    const primary = config.backups!.to[0]!;
    if (primary.startsWith('s3://')) {
      const env = Object.fromEntries((c.env as Doc[]).map((e) => [e.name, e.valueFrom?.secretKeyRef]));
      expect(env.AWS_ACCESS_KEY_ID?.name).toBeTruthy();
      expect(env.AWS_SECRET_ACCESS_KEY?.name).toBe(env.AWS_ACCESS_KEY_ID?.name);
    } else {
      expect(volumeFor(spec, c, primary)?.hostPath?.path).toBe(primary);
    }
    // Every workload that writes backups reaches the same place.
    for (const w of docs.filter((d) => d.kind === 'CronJob' || d.kind === 'Deployment')) {
      const ws = podSpec(w);
      const wc = ws.containers[0];
      if (primary.startsWith('s3://')) {
        expect(
          (wc.env as Doc[]).map((e) => e.name),
          w.metadata.name,
        ).toContain('AWS_SECRET_ACCESS_KEY');
      } else {
        expect(volumeFor(ws, wc, primary)?.hostPath?.path, w.metadata.name).toBe(primary);
      }
    }
  });
});

describe('deploy/systemd', () => {
  const units = readdirSync(join(ROOT, 'deploy/systemd'));
  const analyze = '/usr/bin/systemd-analyze';

  it('has a timer for every oneshot job, and every timer starts a unit that exists', () => {
    for (const job of ['lifeboat-backup', 'lifeboat-verify']) {
      expect(units).toContain(`${job}.service`);
      expect(units).toContain(`${job}.timer`);
    }
    expect(units).toContain('lifeboat-serve.service');
    expect(units).toContain('lifeboat-agent.service');
  });

  it.skipIf(!existsSync(analyze))('systemd-analyze verify accepts every unit (skipped without systemd)', () => {
    // A throwaway root with the system's own units (targets), ours, and a stand-in for the installed executable.
    const root = join(work, 'systemd-root');
    mkdirSync(join(root, 'usr/local/bin'), { recursive: true });
    mkdirSync(join(root, 'etc/systemd/system'), { recursive: true });
    cpSync('/usr/lib/systemd/system', join(root, 'usr/lib/systemd/system'), { recursive: true });
    writeFileSync(join(root, 'usr/local/bin/lifeboat'), '#!/bin/sh\n');
    chmodSync(join(root, 'usr/local/bin/lifeboat'), 0o755);
    for (const unit of units) cpSync(join(ROOT, 'deploy/systemd', unit), join(root, 'etc/systemd/system', unit));
    const r = spawnSync(analyze, ['verify', '--man=no', `--root=${root}`, ...units], { encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});

/**
 * What the artefacts run is a lifeboat command line that exists today: a renamed flag in src/commands/ must not leave
 * a unit, pod or CronJob that exits 2 on every start. Pods run the image's entrypoint (lifeboat) with their args.
 */
describe('deploy/ runs commands that exist', () => {
  const lifeboatContainers = (docs: Doc[]) =>
    docs
      .filter((d) => ['DaemonSet', 'Deployment', 'CronJob', 'Pod'].includes(d.kind))
      .flatMap((d) => (d.kind === 'Pod' ? d.spec : podSpec(d)).containers as Doc[])
      .filter((c) => String(c.image).includes('lifeboat'));

  it('every systemd unit, static pod, manifest and chart rendering', async () => {
    const program = await buildProgram([]);
    const lines: Array<{ where: string; words: string[] }> = [];
    for (const unit of readdirSync(join(ROOT, 'deploy/systemd'))) {
      const text = readFileSync(join(ROOT, 'deploy/systemd', unit), 'utf8');
      for (const m of text.matchAll(/^Exec\w+=(.*)$/gm)) {
        for (const words of invocations(m[1]!)) lines.push({ where: `deploy/systemd/${unit}`, words });
      }
    }
    const pods: Array<[string, Doc[]]> = [
      ['deploy/static-pod/lifeboat.yaml', [parse(readFileSync(join(ROOT, 'deploy/static-pod/lifeboat.yaml'), 'utf8'))]],
      ...readdirSync(MANIFESTS_DIR).map((f): [string, Doc[]] => [
        `deploy/manifests/${f}`,
        parseAllDocuments(readFileSync(join(MANIFESTS_DIR, f), 'utf8')).map((d) => d.toJS() as Doc),
      ]),
      ...Object.entries(VARIANTS).map(([name, values]): [string, Doc[]] => [
        `chart (${name})`,
        renderedObjects({ values: { ...values, serve: { enabled: true }, agent: { workers: { enabled: true } } } }),
      ]),
    ];
    for (const [where, docs] of pods) {
      for (const c of lifeboatContainers(docs)) {
        expect(c.command, `${where}: ${c.name} runs the image's entrypoint`).toBeUndefined();
        lines.push({ where: `${where}: ${c.name}`, words: c.args as string[] });
      }
    }
    expect(lines.filter((l) => l.where.startsWith('deploy/systemd')).length).toBeGreaterThanOrEqual(5);
    expect(lines.filter((l) => l.where.startsWith('chart')).length).toBeGreaterThanOrEqual(9);
    const wrong = lines.flatMap(({ where, words }) =>
      commandLineProblems(program, words).map((p) => `${where}: lifeboat ${words.join(' ')}: ${p}`),
    );
    expect(wrong).toEqual([]);
  });
});
