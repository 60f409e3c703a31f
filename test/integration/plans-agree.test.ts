import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findProcesses } from '../../src/adapters/proc/find.js';
import { killProcess } from '../../src/adapters/proc/process.js';
import { planFailure, FAILURE_SCENARIOS as SCENARIOS } from '../../src/domain/recover/drill.js';
import { type CliResult, json, runCli } from '../helpers/cli.js';

/**
 * One planner: for every drill scenario, on a real lab broken the way the drill breaks it, `doctor` ranks the same
 * plans `recover` considers applicable, and its first plan is recover's plan word for word. A member whose disk is
 * known to be gone is never told "do not wipe it".
 */

interface Plan {
  name: string;
  title: string;
  dataLoss: string;
  when: string;
  steps: string[];
}
interface Recover {
  plan: string | null;
  title?: string;
  dataLoss: string | null;
  why?: string;
  steps: Array<{ title: string }>;
  candidates: Array<{ name: string; applies: boolean }>;
}

const root = mkdtempSync(join(tmpdir(), 'lifeboat-plans-agree-'));
afterAll(async () => {
  try {
    for (const pid of findProcesses((arg) => arg.startsWith(`--data-dir=${root}/`))) await killProcess(pid);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

async function ok(result: Promise<CliResult>): Promise<CliResult> {
  const r = await result;
  if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.stderr}`);
  return r;
}

// The restore token is random per run and "taken 21 s ago" reads the clock: the only words two runs may differ in.
const sameToken = (text: string) => text.replace(/lifeboat-restore-[0-9a-f]+/g, 'lifeboat-restore-TOKEN');
const sameClock = (text: string | null | undefined) => text?.replace(/, \d+ (s|min|h|days) ago\)/, ', N ago)');

describe('doctor and recover rank the same plans', () => {
  it.each(SCENARIOS)(
    '%s',
    async (scenario) => {
      const dir = join(root, scenario);
      const cfg = ['-c', join(dir, 'lifeboat.yaml')];
      await ok(runCli(['lab', 'up', '--dir', dir, '--members', '3', '--keys', '20'], { timeoutMs: 90_000 }));
      // A verified backup in the config's store: the snapshot plan is ranked too where quorum is gone.
      await ok(runCli([...cfg, 'backup', 'etcd']));
      await ok(runCli([...cfg, 'verify', '--latest'], { timeoutMs: 90_000 }));
      const healthy = json<{ leader: string; members: Array<{ name: string }> }>(
        await runCli([...cfg, 'doctor', '--json']),
      );
      const failure = planFailure(
        scenario,
        healthy.members.map((m) => m.name),
        healthy.leader,
      );
      for (const v of failure.victims) await ok(runCli(['lab', 'kill', v, '--dir', dir]));
      for (const w of failure.wiped) await ok(runCli(['lab', 'wipe', w, '--dir', dir]));

      const doctor = json<{ state: string; plans: Plan[] }>(await runCli([...cfg, 'doctor', '--json']));
      const recover = json<Recover>(await runCli([...cfg, 'recover', '--json']));
      expect(doctor.state).toBe(failure.expectState);
      const ranked = recover.candidates.filter((c) => c.applies).map((c) => c.name);
      expect(doctor.plans.map((p) => p.name)).toEqual(ranked);
      expect(recover.plan).toBe(failure.expectPlan);
      const first = doctor.plans[0]!;
      expect({ ...first, dataLoss: sameClock(first.dataLoss), steps: first.steps.map(sameToken) }).toEqual({
        name: recover.plan,
        title: recover.title,
        dataLoss: sameClock(recover.dataLoss),
        when: recover.why,
        steps: recover.steps.map((s) => sameToken(s.title)),
        command: expect.stringMatching(new RegExp(`^lifeboat recover --plan ${recover.plan}`)),
      });
      const said = doctor.plans.flatMap((p) => p.steps).join('\n');
      for (const gone of failure.wiped) expect(said).not.toContain(`Start ${gone} with its existing data dir`);
      await runCli(['lab', 'down', '--purge', '--dir', dir], { timeoutMs: 60_000 });
    },
    300_000,
  );
});
