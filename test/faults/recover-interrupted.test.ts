import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtcdEndpointClient } from '../../src/adapters/etcd/client.js';
import { memberHealth } from '../../src/adapters/lab/members.js';
import { findProcesses } from '../../src/adapters/proc/find.js';
import { killProcess } from '../../src/adapters/proc/process.js';
import { waitFor } from '../../src/adapters/proc/wait.js';
import { json, runCli } from '../helpers/cli.js';

/**
 * The fault run interrupted recover at six steps; this interrupts it at every one, with SIGKILL (no handler runs, the
 * journal is all that is left): quorum lost on a 3-member lab, `recover --plan survivor --yes` killed once each
 * further step has been journaled, run again each time. The runs together must finish the recovery with every key.
 */

const KEYS = 200;
const root = mkdtempSync(join(tmpdir(), 'lifeboat-fault-recover-'));
const dir = join(root, 'lab');
const config = join(dir, 'lifeboat.yaml');
const journal = join(dir, 'recover-journal.json');
const BIN = resolve(import.meta.dirname, '../../bin/lifeboat.js');
const lab = (...args: string[]) => runCli(['lab', ...args, '--dir', dir], { timeoutMs: 120_000 });

interface LabDoc {
  members: Array<{ name: string; clientUrl: string; pid: number | null; running: boolean }>;
}

async function members(): Promise<LabDoc['members']> {
  return json<LabDoc>(await lab('status', '--json')).members;
}

/** Steps the journal of the survivor plan records as done (0 before it exists). */
function doneSteps(): { done: number; total: number } {
  try {
    const j = JSON.parse(readFileSync(journal, 'utf8')) as {
      plan: { name: string; steps?: unknown[] };
      steps: Record<string, { ok: boolean }>;
    };
    if (j.plan.name !== 'survivor') return { done: 0, total: 0 };
    return { done: Object.values(j.steps).filter((s) => s.ok).length, total: j.plan.steps?.length ?? 0 };
  } catch {
    return { done: 0, total: 0 };
  }
}

beforeAll(async () => {
  const up = await lab('up', '--keys', String(KEYS));
  expect(up.code, up.stderr).toBe(0);
}, 120_000);
afterAll(async () => {
  try {
    await lab('down', '--purge');
  } finally {
    for (const pid of findProcesses((arg) => arg.startsWith(`--data-dir=${root}/`))) await killProcess(pid);
    rmSync(root, { recursive: true, force: true });
  }
});

describe('recover SIGKILLed at every step', { timeout: 400_000 }, () => {
  it('each rerun resumes from the journal; together they recover every key', async () => {
    for (const m of ['cp1', 'cp2']) expect((await lab('kill', m)).code).toBe(0);

    const runs: Array<{ killedAfter: number; code: number | null }> = [];
    let finished: { code: number | null; stdout: string } | undefined;
    for (let k = 1; k <= 30 && !finished; k++) {
      const child = spawn(process.execPath, [BIN, '-c', config, '--json', 'recover', '--plan', 'survivor', '--yes'], {
        env: { ...process.env, NO_COLOR: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.resume();
      let exitCode: number | null | undefined;
      const exited = new Promise<void>((r) =>
        child.on('close', (code, sig) => {
          exitCode = sig ? null : code;
          r();
        }),
      );
      const before = doneSteps().done;
      // Kill it as soon as one more step is journaled (it may be part-way into the next one by then).
      await waitFor('one more journaled step, or the end', () => exitCode !== undefined || doneSteps().done > before, {
        timeoutMs: 120_000,
        intervalMs: 2,
      });
      if (exitCode === undefined) child.kill('SIGKILL');
      await exited;
      if (exitCode !== null) finished = { code: exitCode ?? null, stdout };
      else runs.push({ killedAfter: doneSteps().done, code: exitCode });
    }

    expect(finished, 'a run that finished by itself').toBeDefined();
    expect(finished!.code).toBe(0);
    // The last run resumes the journal, or (killed after the last step that changed anything) finds nothing to do.
    const last = json<{ ok: boolean; plan: string | null }>({ code: 0, stdout: finished!.stdout, stderr: '', ms: 0 });
    expect(last.ok).toBe(true);
    expect(['survivor', null]).toContain(last.plan);
    const { total } = doneSteps();
    expect(total).toBeGreaterThanOrEqual(4);
    // Killed as soon as each new step was journaled: steps that take a millisecond (a check, a record) can be
    // journaled together before the kill lands, so not quite one kill per step, but most (13 kills for 17 steps seen).
    expect(runs.length, JSON.stringify(runs)).toBeGreaterThanOrEqual(Math.ceil(total / 2));

    await waitFor(
      'every member healthy',
      async () =>
        (await Promise.all((await members()).map((m) => memberHealth(m.clientUrl)))).every((h) => h === 'healthy'),
      { timeoutMs: 60_000 },
    );
    for (const m of await members()) {
      const client = new EtcdEndpointClient(m.clientUrl);
      try {
        expect(await client.count('/registry/'), m.name).toBe(KEYS);
      } finally {
        client.close();
      }
    }
    const after = await runCli(['-c', config, '--json', 'recover'], { timeoutMs: 60_000 });
    expect(json(after)).toMatchObject({ ok: true, plan: null });
  });
});
