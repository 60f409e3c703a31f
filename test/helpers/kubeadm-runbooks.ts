import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { waitFor } from '../../src/adapters/proc/wait.js';
import { type KubeadmSim, type ShResult, startKubeadmSim } from './kubeadm-sim.js';

/**
 * What the kubeadm runbook tests share (test/integration/kubeadm-*.test.ts): three simulated control planes with
 * /var/lib/etcd on a mount of its own (the stricter layout: `mv /var/lib/etcd` says "busy"), a lifeboat.yaml for
 * them (kubeadm executor, backups in the simulator's folder), and the checks every recovery must pass: every
 * acknowledged key is there, the three members are healthy voters, every manifest and certificate is byte for
 * byte what it was before the incident.
 */

const BIN = resolve(import.meta.dirname, '../../bin/lifeboat.js');
export const KEYS = 100;

export interface RunbookSuite {
  sim: KubeadmSim;
  writeKeys(prefix: string): Promise<void>;
  countKeys(prefix: string): Promise<number>;
  /** lifeboat with the suite's config, run on `node`. */
  lifeboat(node: string, args: string): Promise<ShResult>;
  expectRecovered(prefix: string): Promise<void>;
  /** Writes the runbook on `on` (cp1 unless said); returns the script names. */
  runbook(args: string, dir: string, on?: string): Promise<string[]>;
  script(dir: string, name: string): Promise<ShResult>;
  /** A node's script in the background, its output in a log file: it can be watched and cut off (a closed terminal). */
  background(dir: string, name: string): BackgroundScript;
  expectAllDone(results: ShResult[]): string;
  memberId(name: string): Promise<string>;
  bootOnceRemoved(name: string, oldId: string, scripts: Array<Promise<unknown>>): Promise<void>;
}

export interface BackgroundScript {
  /** Resolves when the script ends (a cut-off one with code 137); stdout holds its whole log. */
  done: Promise<ShResult>;
  /** The output so far. */
  text(): string;
  /** Waits (with a deadline) until the output matches. */
  waitFor(what: string, pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** SIGKILL to the script and everything it started (an etcdctl it waits on), as a closed terminal would. */
  cut(): void;
}

/**
 * One simulated kubeadm cluster for the describe block this is called in: started before its tests (handed to `use`)
 * and destroyed after them.
 */
export function useRunbookSuite(use: (suite: RunbookSuite) => void): void {
  let suite: RunbookSuite | undefined;
  beforeAll(async () => {
    suite = await startRunbookSuite();
    use(suite);
  }, 240_000);
  afterAll(async () => {
    await suite?.sim.destroy();
  }, 60_000);
}

export async function startRunbookSuite(): Promise<RunbookSuite> {
  const sim = await startKubeadmSim({ ownMount: true });
  const config = join(sim.dir, 'lifeboat.yaml');
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
      'backups:',
      `  to: [${join(sim.dir, 'backups')}]`,
      'nodes:',
      ...sim.nodes.map((n) => `  - { name: ${n.name}, roles: [control-plane] }`),
      '',
    ].join('\n'),
  );
  const before = sim.fingerprint();

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
  async function runbook(args: string, dir: string, on = 'cp1'): Promise<string[]> {
    const r = await lifeboat(on, `recover ${args} --runbook ${dir}`);
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

  let logs = 0;
  function background(dir: string, name: string): BackgroundScript {
    const log = join(sim.dir, `${name}-${++logs}.log`);
    writeFileSync(log, '');
    const child = sim.node(name).spawn(`bash ${join(dir, `${name}.sh`)}`, log);
    const text = () => readFileSync(log, 'utf8');
    const done = new Promise<ShResult>((ok) =>
      child.on('exit', (code, signal) => ok({ code: code ?? (signal ? 137 : 1), stdout: text(), stderr: '' })),
    );
    return {
      done,
      text,
      waitFor: (what, pattern, timeoutMs = 240_000) =>
        waitFor(`${name}'s script ${what}`, () => pattern.test(text()), { timeoutMs, intervalMs: 200 }).then(
          () => undefined,
          (err: Error) => {
            throw new Error(`${err.message}\n--- ${name}'s script so far\n${text()}\n${sim.logs(name)}`);
          },
        ),
      cut: () => process.kill(-child.pid!, 'SIGKILL'),
    };
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

  return {
    sim,
    writeKeys,
    countKeys,
    lifeboat,
    expectRecovered,
    runbook,
    script,
    background,
    expectAllDone,
    memberId,
    bootOnceRemoved,
  };
}
