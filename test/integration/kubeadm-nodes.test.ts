import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as after } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../src/adapters/proc/wait.js';
import { type KubeadmSim, type ShResult, simulatorUnavailable, startKubeadmSim } from '../helpers/kubeadm-sim.js';

/**
 * The runbooks `lifeboat recover --runbook` writes for kubeadm, run on three simulated kubeadm control planes
 * (test/helpers/kubeadm-sim.ts): own network and mount namespaces, kubeadm's PKI and etcd.yaml, a kubelet-like
 * static-pod runner. What must hold after every recovery: every acknowledged key is there, the three members are
 * healthy voters, and every manifest and certificate is byte for byte what it was before the incident.
 */

const unavailable = simulatorUnavailable();
const BIN = resolve(import.meta.dirname, '../../bin/lifeboat.js');
const KEYS = 100;

describe.skipIf(unavailable)(`kubeadm nodes (simulated)${unavailable ? `: skipped, ${unavailable}` : ''}`, () => {
  let sim: KubeadmSim;
  let config: string;
  let before: Map<string, string>;

  beforeAll(async () => {
    // /var/lib/etcd on a mount of its own (its own disk): the stricter layout (`mv /var/lib/etcd` says "busy").
    sim = await startKubeadmSim({ ownMount: true });
    config = join(sim.dir, 'lifeboat.yaml');
    writeFileSync(
      config,
      [
        'etcd:',
        `  endpoints: [${sim.nodes.map((n) => n.clientUrl).join(', ')}]`,
        '  tls:',
        '    ca: /etc/kubernetes/pki/etcd/ca.crt',
        '    cert: /etc/kubernetes/pki/etcd/healthcheck-client.crt',
        '    key: /etc/kubernetes/pki/etcd/healthcheck-client.key',
        '  executor: kubeadm',
        'nodes:',
        ...sim.nodes.map((n) => `  - { name: ${n.name}, roles: [control-plane] }`),
        '',
      ].join('\n'),
    );
    before = sim.fingerprint();
  }, 240_000);

  afterAll(async () => {
    await sim?.destroy();
  }, 60_000);

  async function writeKeys(prefix: string): Promise<void> {
    for (let i = 0; i < KEYS; i++) {
      const r = await sim.etcdctl('cp1', `put ${prefix}/${i} value-${i}`);
      expect(r.code, r.stderr).toBe(0);
    }
  }

  async function countKeys(prefix: string): Promise<number> {
    const r = await sim.etcdctl('cp1', `get ${prefix}/ --prefix --keys-only -w json`);
    expect(r.code, r.stderr).toBe(0);
    return (JSON.parse(r.stdout) as { count?: number }).count ?? 0;
  }

  async function lifeboat(node: string, args: string): Promise<ShResult> {
    return sim.node(node).sh(`${process.execPath} ${BIN} -c ${config} ${args}`, 120_000);
  }

  async function expectRecovered(prefix: string): Promise<void> {
    const list = await sim.etcdctl('cp1', 'member list -w json');
    expect(list.code, list.stderr).toBe(0);
    const members = (JSON.parse(list.stdout) as { members: Array<{ name: string; isLearner?: boolean }> }).members;
    expect(members.map((m) => m.name).sort()).toEqual(['cp1', 'cp2', 'cp3']);
    expect(members.filter((m) => m.isLearner)).toEqual([]);
    const health = await sim.etcdctl('cp1', 'endpoint health --cluster');
    expect(health.code, health.stdout + health.stderr).toBe(0);
    expect(await countKeys(prefix)).toBe(KEYS);
    expect(sim.fingerprint()).toEqual(before);
  }

  /** Writes the runbook on cp1; returns the script names. */
  async function runbook(args: string, dir: string): Promise<string[]> {
    const r = await lifeboat('cp1', `recover ${args} --runbook ${dir}`);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    return readdirSync(dir).filter((f) => f.endsWith('.sh'));
  }

  /**
   * A node's script. Its kill timer is only a backstop: every wait in a runbook has its own deadline and says every
   * 30 s what it still waits for, which is what a failure report shows.
   */
  function script(dir: string, name: string): Promise<ShResult> {
    return sim.node(name).sh(`bash ${join(dir, `${name}.sh`)}`, 420_000);
  }

  /** Every script exited 0; otherwise the scripts' output and every node's kubelet and etcd log say why. */
  function expectAllDone(results: ShResult[]): string {
    const report = results.map((r, i) => `--- cp${i + 1} (exit ${r.code})\n${r.stdout}${r.stderr}`).join('\n');
    const codes = results.map((r) => r.code);
    if (process.env.KUBEADM_SIM_KEEP) console.log(report);
    expect(
      codes,
      codes.some((c) => c !== 0) ? `${report}\n${sim.nodes.map((n) => sim.logs(n.name)).join('\n')}` : '',
    ).toEqual([0, 0, 0]);
    return report;
  }

  /** The member id `name` has now (hex, as etcdctl prints it). */
  async function memberId(name: string): Promise<string> {
    const r = await sim.etcdctl('cp1', 'member list');
    expect(r.code, r.stderr).toBe(0);
    const id = r.stdout
      .split('\n')
      .find((l) => l.split(', ')[2] === name)
      ?.split(', ')[0];
    expect(id, r.stdout).toBeTruthy();
    return id!;
  }

  /**
   * A node whose disk is gone is powered on once the coordinator has removed its old member entry, as the runbook
   * says: booted earlier, kubeadm's manifest starts etcd empty under the old id, and that empty voter can elect a
   * member that missed the last writes (etcd then drops acknowledged writes: CI saw cp1 never rejoin).
   */
  async function bootOnceRemoved(name: string, oldId: string, scripts: Array<Promise<unknown>>): Promise<void> {
    let ended = false;
    void Promise.all(scripts).finally(() => {
      ended = true;
    });
    await waitFor(
      `${name}'s old member entry ${oldId} to be removed by cp1's script`,
      async () => {
        // Scripts that already ended (a failure) are reported by expectAllDone, not by this wait.
        if (ended) return true;
        const r = await sim.etcdctl('cp1', 'member list');
        return r.code === 0 && !r.stdout.split('\n').some((l) => l.startsWith(`${oldId}, `));
      },
      { timeoutMs: 300_000, intervalMs: 1000 },
    );
    sim.boot(name);
  }

  it('the incident: two nodes lose power together, one comes back without its disk; the scripts, started together, re-add it and lose nothing', async () => {
    await writeKeys('/incident');
    const cp3 = await memberId('cp3');
    await sim.powerCut('cp2');
    await sim.powerCut('cp3');
    sim.loseDisk('cp3');
    const dir = join(sim.dir, 'runbook-incident');
    mkdirSync(dir);
    const scripts = await runbook('--lost cp3', dir);
    expect(scripts.sort()).toEqual(['cp1.sh', 'cp2.sh', 'cp3.sh']);
    // The nodes boot while their scripts run: the kubelet starts etcd from the manifest it finds. cp2 at once; cp3,
    // whose disk is new, once its old entry is gone (the kubelet then starts it as the re-added learner, or fails).
    const runs = sim.nodes.map((n) => script(dir, n.name));
    sim.boot('cp2');
    await bootOnceRemoved('cp3', cp3, runs);
    const results = await Promise.all(runs);
    const report = expectAllDone(results);
    expect(results[0]!.stdout, report).toMatch(/cp3's old member entry is removed: cp3 can be powered on now/);
    await expectRecovered('/incident');
  }, 900_000);

  it('a second incident after the first, scripts and boots out of step: new markers, cp2 re-added, nothing lost', async () => {
    await writeKeys('/second');
    const cp2 = await memberId('cp2');
    await sim.powerCut('cp2');
    await sim.powerCut('cp3');
    sim.loseDisk('cp2');
    const dir = join(sim.dir, 'runbook-second');
    mkdirSync(dir);
    await runbook('--lost cp2', dir);
    // Out of step on purpose: the coordinator first, cp3 boots before its script, cp2's script runs before cp2 boots.
    const cp1Run = script(dir, 'cp1');
    await after(10_000);
    sim.boot('cp3');
    await after(5_000);
    const cp3Run = script(dir, 'cp3');
    const cp2Run = script(dir, 'cp2');
    await bootOnceRemoved('cp2', cp2, [cp1Run, cp2Run, cp3Run]);
    const results = await Promise.all([cp1Run, cp2Run, cp3Run]);
    const report = expectAllDone(results);
    // The first incident's markers were not reused: this runbook ran its own steps.
    expect(results[0]!.stdout, report).not.toMatch(/already done/);
    await expectRecovered('/second');
    expect(await countKeys('/incident')).toBe(KEYS);
  }, 900_000);
});
