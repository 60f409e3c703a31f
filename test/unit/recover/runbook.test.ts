import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { K3sExecutor, parseK3sConfig } from '../../../src/adapters/executors/k3s.js';
import { KubeadmExecutor, parseKubeadmManifest } from '../../../src/adapters/executors/kubeadm.js';
import { CMDLINE_FLAGS_FN, MANIFEST_FLAGS_FN } from '../../../src/adapters/executors/shell.js';
import { execStartWords, parseEtcdUnit, SystemdExecutor } from '../../../src/adapters/executors/systemd.js';
import type { RunbookScript } from '../../../src/adapters/executors/types.js';
import { planRecovery } from '../../../src/domain/recover/plan.js';
import type { ExecutablePlan, RecoverInput } from '../../../src/domain/recover/types.js';
import { down, input, members, SNAPSHOT } from './fixtures.js';

const FIX = resolve(import.meta.dirname, '../../fixtures/executors');
const KUBEADM = join(FIX, 'kubeadm-etcd.yaml');
const UNIT = join(FIX, 'etcd.service');
const K3S = join(FIX, 'k3s-config.yaml');
const tmp = mkdtempSync(join(tmpdir(), 'lifeboat-runbook-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const nodes = [
  { node: 'node-a', member: 'cp1' },
  { node: 'node-b', member: 'cp2' },
  { node: 'node-c', member: 'cp3' },
];

function plan(i: RecoverInput): ExecutablePlan {
  const d = planRecovery(i, 'auto');
  if (d.kind !== 'plan') throw new Error(d.reason);
  return d.plan;
}
const survivor = () =>
  plan(
    input(
      'quorum-lost',
      members(3, { cp1: down({ running: null, hasData: false }), cp2: down({ running: null, hasData: false }) }),
    ),
  );
const snapshot = (version = '3.5.12') =>
  plan(
    input(
      'unreachable',
      members(3, { cp1: down({ hasData: false }), cp2: down({ hasData: false }), cp3: down({ hasData: false }) }),
      {
        snapshot: SNAPSHOT,
        restoreTool: { tool: 'etcdutl', version },
      },
    ),
  );
const script = (scripts: RunbookScript[], node: string) => scripts.find((s) => s.node === node)!.text;

/** bash -n: every generated script must at least parse. */
function assertBashSyntax(scripts: RunbookScript[]): void {
  for (const s of scripts) {
    const res = spawnSync('bash', ['-n'], { input: s.text, encoding: 'utf8' });
    expect(res.status, `${s.file}: ${res.stderr}`).toBe(0);
  }
}

/** Run a bash function from the prelude on real files. */
function bash(fn: string[], call: string): string {
  return execFileSync('bash', ['-c', `${fn.join('\n')}\n${call}`], { encoding: 'utf8' });
}

describe('kubeadm executor (static pod manifest as kubeadm 1.30 writes it)', () => {
  it('reads certificates, data dir and etcd version from the manifest', () => {
    const m = parseKubeadmManifest(readFileSync(KUBEADM, 'utf8'), KUBEADM);
    expect(m).toMatchObject({ dataDir: '/var/lib/etcd', version: '3.5.12', caFile: '/etc/kubernetes/pki/etcd/ca.crt' });
    expect(m.flags.get('name')).toBe('cp1');
    expect(new KubeadmExecutor(KUBEADM, nodes).restoreTool()).toEqual({ tool: 'etcdutl', version: '3.5.12' });
    expect(() => parseKubeadmManifest('kind: Pod\nspec: {}\n', 'x.yaml')).toThrow(/not a kubeadm etcd manifest/);
  });

  it('survivor: one script per node; the survivor forces a new cluster and re-adds, the others wait and join', () => {
    const scripts = new KubeadmExecutor(KUBEADM, nodes).runbook(survivor());
    expect(scripts.map((s) => s.file)).toEqual(['node-a.sh', 'node-b.sh', 'node-c.sh']);
    assertBashSyntax(scripts);
    const c = script(scripts, 'node-c');
    expect(c).toContain(
      'lb_etcdctl() { ETCDCTL_API=3 etcdctl --cacert=/etc/kubernetes/pki/etcd/ca.crt --cert=/etc/kubernetes/pki/etcd/healthcheck-client.crt --key=/etc/kubernetes/pki/etcd/healthcheck-client.key',
    );
    expect(c).toContain('lb_silent https://10.0.0.11:2379');
    expect(c).toContain('lb_start_with force-new-cluster=true');
    expect(c).toContain('member add cp1 --learner --peer-urls=https://10.0.0.11:2380');
    expect(c).toContain('lb_promote https://10.0.0.13:2379 https://10.0.0.11:2380');
    expect(c.indexOf('force-new-cluster=true')).toBeLessThan(c.indexOf('member add cp1'));
    // Cut off after the forced start, a re-run goes on (the healthy one-member cluster is its own work) and still
    // takes the flag off; the copy of the data is complete or absent.
    expect(c.indexOf('if lb_done forcing')).toBeLessThan(c.indexOf('quorum is back): not forcing'));
    expect(c.indexOf('lb_mark forcing')).toBeLessThan(c.indexOf('lb_start_with force-new-cluster=true'));
    expect(c).toContain('mv "$LB_DATA.before-recover.partial" "$LB_DATA.before-recover"');
    expect(c.indexOf('member add cp1')).toBeLessThan(c.indexOf('member add cp2'));
    const a = script(scripts, 'node-a');
    expect(a).toContain(`LB_MANIFEST=${KUBEADM}`);
    expect(a).toContain('lb_new_id https://10.0.0.13:2379 https://10.0.0.11:2380');
    expect(a).toContain(
      'lb_start_with initial-cluster=cp3=https://10.0.0.13:2380,cp1=https://10.0.0.11:2380 initial-cluster-state=existing',
    );
    // etcd is taken out of the kubelet's hands first; the wipe waits for the new member id, then stops and moves.
    const wipeAt = a.indexOf('lb_added()');
    expect(a.indexOf('lb_mark take-over')).toBeGreaterThan(0);
    expect(a.indexOf('lb_mark take-over')).toBeLessThan(wipeAt);
    expect(a.slice(wipeAt)).toMatch(/lb_stop_etcd\n\s+lb_move_data_aside\n/);
    expect(a).not.toContain('force-new-cluster=true');
    expect(a).toMatch(/^# Run as root on node-a\./m);
    // A node that booted before its script may already run as the re-added member (joined by itself, maybe promoted):
    // neither the take-over nor the stop step stops it; only what is not that member is stopped.
    const joined = /lb_joined https:\/\/10\.0\.0\.13:2379 https:\/\/10\.0\.0\.11:2380 \S+ https:\/\/127\.0\.0\.1:2379/;
    const takeOver = a.slice(a.indexOf('# Before any step'), a.indexOf('lb_mark take-over'));
    expect(takeOver).toMatch(joined);
    expect(takeOver.search(joined)).toBeLessThan(takeOver.indexOf('lb_stop_etcd'));
    const stopStep = a.slice(a.indexOf('step 1/'), a.indexOf('lb_added()'));
    expect(stopStep).toMatch(joined);
    expect(stopStep.search(joined)).toBeLessThan(stopStep.indexOf('lb_stop_etcd'));
  });

  it('the manifest edit keeps every other flag and puts the new ones right after `- etcd`', () => {
    const out = join(tmp, 'edited.yaml');
    bash(
      MANIFEST_FLAGS_FN,
      `lb_manifest_flags ${KUBEADM} ${out} initial-cluster=cp3=https://10.0.0.13:2380,cp1=https://10.0.0.11:2380 initial-cluster-state=existing`,
    );
    const original = parse(readFileSync(KUBEADM, 'utf8')).spec.containers[0].command as string[];
    const edited = parse(readFileSync(out, 'utf8')).spec.containers[0].command as string[];
    expect(edited.slice(0, 3)).toEqual([
      'etcd',
      '--initial-cluster=cp3=https://10.0.0.13:2380,cp1=https://10.0.0.11:2380',
      '--initial-cluster-state=existing',
    ]);
    expect(edited.filter((f) => f.startsWith('--initial-cluster='))).toHaveLength(1);
    expect(edited.slice(3)).toEqual(original.slice(1).filter((f) => !f.startsWith('--initial-cluster=')));
    bash(MANIFEST_FLAGS_FN, `lb_manifest_flags ${KUBEADM} ${out} force-new-cluster=true`);
    const forced = parse(readFileSync(out, 'utf8'));
    expect(forced.spec.containers[0].command).toEqual(['etcd', '--force-new-cluster=true', ...original.slice(1)]);
    expect(forced.spec.volumes).toEqual(parse(readFileSync(KUBEADM, 'utf8')).spec.volumes);
  });

  it('snapshot on etcd 3.5: every node restores with the same token, --bump-revision, then starts', () => {
    const scripts = new KubeadmExecutor(KUBEADM, nodes).runbook(snapshot());
    assertBashSyntax(scripts);
    for (const node of ['node-a', 'node-b', 'node-c']) {
      const s = script(scripts, node);
      expect(s).toContain('lifeboat-restore-test 1000000000');
      expect(s).toContain(`lb_restore ${SNAPSHOT.file}`);
      expect(s.indexOf('lb_restore /')).toBeLessThan(s.indexOf('lb_start_normal\n'));
    }
    expect(script(scripts, 'node-a')).toContain('restart kube-apiserver on every node');
    // A healthy voter is stopped only when it holds less than the snapshot (the empty cluster after a total loss).
    expect(script(scripts, 'node-a')).toContain(`! lb_behind https://127.0.0.1:2379 ${SNAPSHOT.revision}; then`);
  });
});

describe('systemd executor (etcd unit file)', () => {
  it('reads ExecStart with continuation lines, in both flag spellings', () => {
    const unit = parseEtcdUnit(readFileSync(UNIT, 'utf8'), UNIT);
    expect(unit.dataDir).toBe('/var/lib/etcd');
    expect(unit.flags.get('initial-cluster-state')).toBe('new');
    expect(unit.flags.get('trusted-ca-file')).toBe('/etc/etcd/ca.pem');
    expect(unit.flags.get('peer-client-cert-auth')).toBe('true');
    expect(execStartWords(readFileSync(UNIT, 'utf8'))[0]).toBe('/usr/local/bin/etcd');
  });

  it('the ExecStart edit replaces `--flag value` and `--flag=value` forms and keeps the rest', () => {
    const line = bash(
      CMDLINE_FLAGS_FN,
      `lb_cmdline_flags ${UNIT} initial-cluster=cp3=https://10.0.0.13:2380 initial-cluster-state=existing`,
    ).trim();
    const words = line.split(' ');
    expect(words[0]).toBe('/usr/local/bin/etcd');
    expect(words.filter((w) => w.startsWith('--initial-cluster'))).toEqual([
      '--initial-cluster-token',
      '--initial-cluster=cp3=https://10.0.0.13:2380',
      '--initial-cluster-state=existing',
    ]);
    expect(words).not.toContain('new');
    expect(line).toContain('--name cp1 ');
    expect(line).toContain('--peer-client-cert-auth --client-cert-auth');
    expect(line).toContain('--data-dir=/var/lib/etcd');
  });

  it('survivor runbook: drop-in with an edited ExecStart, runtime mask while stopped', () => {
    const scripts = new SystemdExecutor(UNIT, nodes).runbook(survivor());
    assertBashSyntax(scripts);
    const c = script(scripts, 'node-c');
    expect(c).toContain('LB_DROPIN=/etc/systemd/system/etcd.service.d/99-lifeboat-recover.conf');
    expect(c).toContain('systemctl mask --runtime "$LB_UNIT"');
    expect(c).toContain('--cacert=/etc/etcd/ca.pem --cert=/etc/etcd/kubernetes.pem --key=/etc/etcd/kubernetes-key.pem');
    expect(c).toContain('lb_start_with force-new-cluster=true');
    expect(script(scripts, 'node-b')).toContain('initial-cluster-state=existing');
  });
});

describe('k3s executor (embedded etcd)', () => {
  it('reads the data dir, server URL and token presence', () => {
    expect(parseK3sConfig(readFileSync(K3S, 'utf8'), K3S)).toEqual({
      dataDir: '/var/lib/rancher/k3s',
      server: null,
      clusterInit: true,
      hasToken: true,
    });
    const joined = join(FIX, 'k3s-config-joined.yaml');
    expect(parseK3sConfig(readFileSync(joined, 'utf8'), joined)).toMatchObject({
      dataDir: '/srv/k3s',
      server: 'https://10.0.0.10:6443',
    });
  });

  it('survivor: cluster-reset on the survivor; the others wipe their db and rejoin one at a time', () => {
    const scripts = new K3sExecutor(K3S, nodes).runbook(survivor());
    assertBashSyntax(scripts);
    const c = script(scripts, 'node-c');
    expect(c).toContain('k3s server --cluster-reset\n');
    expect(c).not.toContain('member add');
    expect(c).toContain('same token');
    expect(c).toContain('--cacert=/var/lib/rancher/k3s/server/tls/etcd/server-ca.crt');
    const a = script(scripts, 'node-a');
    const b = script(scripts, 'node-b');
    expect(a).toContain('lb_check_server_url');
    expect(a).toContain('LB_DATA=/var/lib/rancher/k3s/server/db');
    expect(a).toContain('lb_healthy https://10.0.0.13:2379\n');
    expect(b).toContain('lb_healthy https://10.0.0.13:2379,https://10.0.0.11:2379\n');
  });

  it('snapshot: one server restores with --cluster-reset-restore-path, the others rejoin it', () => {
    const scripts = new K3sExecutor(K3S, nodes).runbook(snapshot());
    assertBashSyntax(scripts);
    const coordinator = scripts.find((s) => s.text.includes('--cluster-reset-restore-path='))!;
    expect(coordinator.node).toBe('node-a');
    expect(coordinator.text).toContain(`k3s server --cluster-reset --cluster-reset-restore-path=${SNAPSHOT.file}`);
    expect(script(scripts, 'node-b')).not.toContain('--cluster-reset');
    expect(script(scripts, 'node-b')).toContain('lb_move_data_aside');
  });
});

it('writes nothing but scripts: a runbook can be regenerated at will', () => {
  const at = new Date('2026-12-02T03:00:00Z');
  const a = new KubeadmExecutor(KUBEADM, nodes).runbook(survivor(), at);
  const b = new KubeadmExecutor(KUBEADM, nodes).runbook(survivor(), at);
  expect(a).toEqual(b);
  // A later runbook (a second incident, even one that reads the same) never reuses the first one's done markers.
  const later = new KubeadmExecutor(KUBEADM, nodes).runbook(survivor(), new Date('2026-12-09T03:00:00Z'));
  const stateDir = (text: string) => /^LB_STATE=(\S+)$/m.exec(text)?.[1];
  expect(stateDir(later[0]!.text)).toMatch(/^\/var\/lib\/lifeboat\/recover-[0-9a-f]{10}$/);
  expect(stateDir(later[0]!.text)).not.toBe(stateDir(a[0]!.text));
  writeFileSync(join(tmp, 'a.sh'), a[0]!.text);
});

describe('runbook waits', () => {
  const prelude = () => {
    const scripts = new KubeadmExecutor(KUBEADM, nodes).runbook(survivor(), new Date('2026-12-02T03:00:00Z'));
    const text = script(scripts, 'node-a');
    // The shared helpers only: everything up to the first step.
    return text.slice(text.indexOf('set -euo pipefail'), text.indexOf('lb_etcd_gone()')).replace(/^mkdir -p .*$/m, '');
  };

  it('say every few seconds what they still wait for and why, then give up with the reason', () => {
    const r = spawnSync(
      'bash',
      [
        '-c',
        `${prelude()}\nchk() { echo 'endpoint cp2 is unhealthy: failed to commit proposal'; return 1; }\nlb_wait 3 'cp2 to be healthy' chk`,
      ],
      { encoding: 'utf8', env: { ...process.env, LB_TELL_EVERY: '1' }, timeout: 30_000 },
    );
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(
      /still waiting \(\d+s of at most 3s\) for: cp2 to be healthy; last check: endpoint cp2 is unhealthy/,
    );
    expect(r.stderr).toMatch(/timed out after 3s waiting for: cp2 to be healthy/);
    expect(r.stderr).toMatch(/failed to commit proposal/);
  });

  it('the coordinator says when a lost member can be powered on; every script carries the plan notes', () => {
    const d = planRecovery(input('quorum-lost', members(3, { cp1: down(), cp2: down({ hasData: false }) })), 'replace');
    if (d.kind !== 'plan') throw new Error(d.reason);
    const scripts = new KubeadmExecutor(KUBEADM, nodes).runbook(d.plan);
    assertBashSyntax(scripts);
    expect(script(scripts, 'node-c')).toMatch(
      /lb_say 'cp2'\\''s old member entry is removed: cp2 can be powered on now'/,
    );
    for (const s of scripts)
      expect(s.text).toMatch(/^# Note: power cp2 on only after cp3's script has removed its old member entry/m);
  });
});

describe('total loss on kubeadm: no member answers', () => {
  it('the members come from the manifest, so a snapshot plan has every node to restore on', () => {
    const text = readFileSync(KUBEADM, 'utf8').replace(
      '--initial-cluster=cp1=https://10.0.0.11:2380',
      '--initial-cluster=cp3=https://10.0.0.13:2380,cp1=https://10.0.0.11:2380,cp2=https://10.0.0.12:2380',
    );
    const path = join(tmp, 'joined-etcd.yaml');
    writeFileSync(path, text);
    const known = new KubeadmExecutor(path, nodes).members();
    expect(known?.map((m) => [m.name, m.peerUrl, m.clientUrl])).toEqual([
      ['cp3', 'https://10.0.0.13:2380', 'https://10.0.0.13:2379'],
      ['cp1', 'https://10.0.0.11:2380', 'https://10.0.0.11:2379'],
      ['cp2', 'https://10.0.0.12:2380', 'https://10.0.0.12:2379'],
    ]);
    expect(new KubeadmExecutor(join(tmp, 'missing.yaml'), nodes).members()).toBeUndefined();
  });

  it('with no member list at all the snapshot plan says why it cannot apply (it used to crash)', () => {
    const d = planRecovery(input('unreachable', [], { snapshot: SNAPSHOT }), 'snapshot');
    expect(d.kind).toBe('no-plan');
    expect(d.kind === 'no-plan' && d.reason).toMatch(/cannot list the members/);
  });
});
