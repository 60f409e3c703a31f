import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as after } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../../src/adapters/proc/wait.js';
import { type RunbookSuite, useRunbookSuite } from '../helpers/kubeadm-runbooks.js';
import { simulatorUnavailable } from '../helpers/kubeadm-sim.js';

/**
 * The restart and snapshot plans of `lifeboat recover --runbook` on three simulated kubeadm control planes (see
 * kubeadm-nodes.test.ts for the replace plan): a script started 60 s late and one cut off and re-run; a total loss,
 * where the init node comes back alone on a new disk.
 */

const unavailable = simulatorUnavailable();

describe.skipIf(unavailable)(`kubeadm plans (simulated)${unavailable ? `: skipped, ${unavailable}` : ''}`, () => {
  let s: RunbookSuite;
  useRunbookSuite((suite) => {
    s = suite;
  });

  it('restart: two nodes lose power with their disks; one script starts 60 s late, another is interrupted and re-run: nothing lost', async () => {
    await s.writeKeys('/restart');
    await s.sim.powerCut('cp2');
    await s.sim.powerCut('cp3');
    const dir = join(s.sim.dir, 'runbook-restart');
    mkdirSync(dir);
    await s.runbook('', dir);
    expect(readFileSync(join(dir, 'cp1.sh'), 'utf8')).toMatch(/^# Plan restart: /m);
    // cp1's script runs in the background so it can be cut off mid-way, as a closed terminal would: while it waits
    // for every member to be healthy, which cannot happen before cp3's script starts, 60 s late.
    const log = join(s.sim.dir, 'restart-cp1.log');
    const cut = s.sim.node('cp1').spawn(`bash ${join(dir, 'cp1.sh')}`, log);
    const text = () => (existsSync(log) ? readFileSync(log, 'utf8') : '');
    const cp2 = s.script(dir, 'cp2');
    s.sim.boot('cp2');
    await waitFor("cp1's script to wait for every member", () => /step \d+\/\d+: wait-healthy all/.test(text()), {
      timeoutMs: 30_000,
      intervalMs: 200,
    });
    process.kill(-cut.pid!, 'SIGKILL');
    const cp1 = s.script(dir, 'cp1');
    await after(60_000);
    const cp3 = s.script(dir, 'cp3');
    s.sim.boot('cp3');
    const results = [await cp1, await cp2, await cp3];
    const report = s.expectAllDone(results);
    expect(text(), report).not.toMatch(/every step of this script is done/);
    // Run again once finished, a script says so and changes nothing.
    const again = await s.script(dir, 'cp2');
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(again.stdout).toMatch(/step 1\/\d+ already done: start cp2/);
    await s.expectRecovered('/restart');
  }, 900_000);

  it('total loss: cp1 boots on a new disk alone; that empty cluster is reported as data loss, and the newest verified backup is restored on every node', async () => {
    // A backup whose restore drill passed: what the total loss must bring back.
    await s.writeKeys('/total');
    for (const step of ['backup etcd', 'verify --latest']) {
      const r = await s.lifeboat('cp1', step);
      expect(r.code, `${step}: ${r.stdout}${r.stderr}`).toBe(0);
    }
    for (const n of s.sim.nodes) await s.sim.powerCut(n.name);
    for (const n of s.sim.nodes) s.sim.loseDisk(n.name);
    // kubeadm's init node boots first: its manifest (--initial-cluster of itself, state new) bootstraps an empty
    // one-member cluster, healthy, with the old cluster id.
    s.sim.boot('cp1');
    await waitFor('cp1 to answer alone', async () => (await s.sim.etcdctl('cp1', 'endpoint health')).code === 0, {
      timeoutMs: 120_000,
      intervalMs: 1000,
    });
    const doctor = await s.lifeboat('cp1', 'doctor');
    expect(doctor.code, doctor.stdout + doctor.stderr).not.toBe(0);
    expect(doctor.stdout + doctor.stderr).toMatch(
      /etcd has lost data: the members that answer are at store revision \d+/,
    );
    // recover plans the restore, not "nothing to recover", and refuses to write over the answering (empty) member
    // without --force. It runs on cp3, whose manifest lists every member (cp1's knows only itself).
    const dir = join(s.sim.dir, 'runbook-total-loss');
    const refused = await s.lifeboat('cp3', `recover --runbook ${dir}`);
    expect(refused.code, refused.stdout + refused.stderr).toBe(1);
    expect(refused.stdout + refused.stderr).toMatch(/Restore the snapshot at revision \d+ on every member/);
    expect(refused.stdout + refused.stderr).not.toMatch(/nothing to recover/);
    // A refusal writes no script (the fetched snapshot's folder may be there).
    expect(existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.sh')) : []).toEqual([]);
    const scripts = await s.runbook('--force', dir, 'cp3');
    expect(scripts.sort()).toEqual(['cp1.sh', 'cp2.sh', 'cp3.sh']);
    const runs = s.sim.nodes.map((n) => s.script(dir, n.name));
    s.sim.boot('cp2');
    s.sim.boot('cp3');
    s.expectAllDone(await Promise.all(runs));
    await s.expectRecovered('/total');
    const after = await s.lifeboat('cp1', 'doctor');
    expect(after.stdout + after.stderr).not.toMatch(/lost data/);
  }, 900_000);
});
