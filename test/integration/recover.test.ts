import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtcdEndpointClient } from '../../src/adapters/etcd/client.js';
import { memberHealth } from '../../src/adapters/lab/members.js';
import { findProcesses } from '../../src/adapters/proc/find.js';
import { isAlive, killProcess, signal } from '../../src/adapters/proc/process.js';
import { waitFor } from '../../src/adapters/proc/wait.js';
import { json, runCli } from '../helpers/cli.js';

/** `lifeboat recover` on a real 3-member lab: dry run, restart, refusal, runbooks, interruption and resumption. */

const root = mkdtempSync(join(tmpdir(), 'lifeboat-recover-test-'));
const dir = join(root, 'lab');
const config = join(dir, 'lifeboat.yaml');
const BIN = resolve(import.meta.dirname, '../../bin/lifeboat.js');
const FIX = resolve(import.meta.dirname, '../fixtures/executors');
const recover = (...args: string[]) => runCli(['-c', config, 'recover', ...args], { timeoutMs: 120_000 });
const lab = (...args: string[]) => runCli(['lab', ...args, '--dir', dir]);

interface LabDoc {
  members: Array<{ name: string; clientUrl: string; pid: number | null; running: boolean }>;
}
interface RecoverDoc {
  ok: boolean;
  plan: string | null;
  dataLoss: string | null;
  seconds: number;
  steps: Array<{ name: string; ok: boolean; seconds: number; earlier?: boolean; pending?: boolean }>;
  resumed?: boolean;
  interrupted?: boolean;
  executed?: boolean;
}

async function members(): Promise<LabDoc['members']> {
  return json<LabDoc>(await lab('status', '--json')).members;
}

async function countKeys(endpoint: string): Promise<number> {
  const client = new EtcdEndpointClient(endpoint);
  try {
    return await client.count('/registry/');
  } finally {
    client.close();
  }
}

async function allHealthy(): Promise<boolean> {
  const ms = await members();
  return (await Promise.all(ms.map((m) => memberHealth(m.clientUrl)))).every((h) => h === 'healthy');
}

beforeAll(async () => {
  const up = await runCli(['lab', 'up', '--dir', dir, '--keys', '300']);
  expect(up.code, up.stderr).toBe(0);
});

afterAll(async () => {
  try {
    for (const m of await members().catch(() => [])) if (m.pid) signal(m.pid, 'SIGCONT');
    await runCli(['lab', 'down', '--purge', '--dir', dir]);
  } finally {
    for (const pid of findProcesses((arg) => arg.startsWith(`--data-dir=${root}/`))) await killProcess(pid);
    rmSync(root, { recursive: true, force: true });
  }
});

describe('recover on a 3-member lab', () => {
  it('a healthy cluster: nothing to recover, exit 0', async () => {
    const res = await recover('--json');
    expect(res.code, res.stderr).toBe(0);
    expect(json<RecoverDoc>(res)).toMatchObject({ ok: true, plan: null, executed: false });
  });

  it('one member killed with its data: the dry run prints the restart plan; --yes walks it', async () => {
    expect((await lab('kill', 'cp1')).code).toBe(0);
    const dry = await recover();
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('Plan: restart');
    expect(dry.stdout).toContain('Data loss: none.');
    expect(dry.stdout).toMatch(/^ {3}1\. \[cp1\] Start cp1 with its existing data dir/m);
    expect(dry.stdout).toContain('Nothing was changed');
    expect((await members()).find((m) => m.name === 'cp1')!.running).toBe(false);

    const res = await recover('--yes', '--json');
    expect(res.code, res.stderr).toBe(0);
    const doc = json<RecoverDoc>(res);
    expect(doc).toMatchObject({ ok: true, plan: 'restart', dataLoss: 'none' });
    expect(doc.steps.map((s) => s.name)).toEqual(['start cp1', 'wait-healthy all', 'wait-caught-up cp1']);
    expect(res.stderr).toMatch(/\[1\/3\] start cp1: ok in [\d.]+ s/);
    expect(await allHealthy()).toBe(true);
  });

  it('survivor refuses while an old member still runs, and names it', async () => {
    const kill = await lab('kill', 'cp1');
    expect(kill.code, kill.stderr).toBe(0);
    const cp2 = (await members()).find((m) => m.name === 'cp2')!;
    signal(cp2.pid!, 'SIGSTOP'); // running, answering nothing: the worst kind of old member
    const res = await recover('--plan', 'survivor', '--yes');
    expect(res.code, res.stderr).toBe(1);
    expect(res.stderr).toContain(`cp2 is still running (pid ${cp2.pid}) although it does not answer`);
    expect(res.stderr).toContain('--force');
    expect(isAlive(cp2.pid!)).toBe(true);
    // Nothing was started: the only journal is the finished one of the restart above.
    const journal = JSON.parse(readFileSync(join(dir, 'recover-journal.json'), 'utf8'));
    expect(journal.plan.name).toBe('restart');
    expect(journal.finishedAt).toBeDefined();
  });

  it('a kubeadm runbook for the same cluster: one checked script per node', async () => {
    const kubeadm = join(root, 'kubeadm.yaml');
    const endpoints = (await members()).map((m) => m.clientUrl);
    writeFileSync(kubeadm, `etcd:\n  endpoints: [${endpoints.join(', ')}]\n  executor: kubeadm\n`);
    const out = join(root, 'runbook');
    const res = await runCli([
      '-c',
      kubeadm,
      'recover',
      '--lost',
      'cp1,cp2',
      '--manifest',
      join(FIX, 'kubeadm-etcd.yaml'),
      '--runbook',
      out,
    ]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain('Plan: survivor'); // --lost: disks this executor cannot see are gone
    expect(readdirSync(out).sort()).toEqual(['cp1.sh', 'cp2.sh', 'cp3.sh']);
    for (const file of readdirSync(out)) {
      expect(spawnSync('bash', ['-n', join(out, file)]).status).toBe(0);
    }
    expect(readFileSync(join(out, 'cp3.sh'), 'utf8')).toContain('lb_start_with force-new-cluster=true');
    const yes = await runCli([
      '-c',
      kubeadm,
      'recover',
      '--plan',
      'survivor',
      '--manifest',
      join(FIX, 'kubeadm-etcd.yaml'),
      '--yes',
    ]);
    expect(yes.code).toBe(2);
    expect(yes.stderr).toContain('cannot act on other hosts');
  });

  it('interrupted with SIGINT between steps, a second run finishes the recovery with nothing lost', async () => {
    const journal = join(dir, 'recover-journal.json');
    const child = spawn(process.execPath, [BIN, '-c', config, '--json', 'recover', '--yes', '--force'], {
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    const exited = new Promise<number>((r) => child.on('close', (code) => r(code ?? 1)));
    const doneSteps = () => {
      try {
        const j = JSON.parse(readFileSync(journal, 'utf8')) as {
          plan: { name: string };
          steps: Record<string, { ok: boolean }>;
        };
        return j.plan.name === 'survivor' ? Object.values(j.steps).filter((s) => s.ok).length : 0;
      } catch {
        return 0;
      }
    };
    await waitFor('two journaled steps', () => doneSteps() >= 2, { timeoutMs: 60_000, intervalMs: 20 });
    child.kill('SIGINT');
    expect(await exited).toBe(1);
    const first = JSON.parse(stdout) as RecoverDoc;
    expect(first).toMatchObject({ ok: false, plan: 'survivor', interrupted: true });
    expect(first.steps.some((s) => s.pending)).toBe(true);

    const dry = await recover();
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('Unfinished recovery');
    expect(dry.stdout).toContain('(done)');

    const second = await recover('--yes', '--json');
    expect(second.code, second.stderr).toBe(0);
    const doc = json<RecoverDoc>(second);
    expect(doc).toMatchObject({ ok: true, plan: 'survivor', resumed: true });
    expect(doc.steps.filter((s) => s.earlier).length).toBeGreaterThanOrEqual(2);
    await waitFor('every member healthy', allHealthy, { timeoutMs: 30_000 });
    for (const m of await members()) expect(await countKeys(m.clientUrl)).toBe(300);
    const after = await recover('--json');
    expect(json<RecoverDoc>(after)).toMatchObject({ ok: true, plan: null });
  });
});
