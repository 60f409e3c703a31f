import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as after } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { type RunbookSuite, useRunbookSuite } from '../helpers/kubeadm-runbooks.js';
import { simulatorUnavailable } from '../helpers/kubeadm-sim.js';

/**
 * The replace and snapshot plans of `lifeboat recover --runbook` on three simulated kubeadm control planes when the
 * scripts do not run together: one starts 60 s after the others, one is cut off between destructive steps (a closed
 * terminal) and run again, nodes boot before or after their script. Own nodes, so it runs beside the other
 * kubeadm-*.test.ts files.
 */

const unavailable = simulatorUnavailable();
const LATE_MS = 60_000;

const title = `kubeadm scripts out of step (simulated)${unavailable ? `: skipped, ${unavailable}` : ''}`;

describe.skipIf(unavailable)(title, () => {
  let s: RunbookSuite;
  useRunbookSuite((suite) => {
    s = suite;
  });

  it("replace: cp3's script starts 60 s late and cp3 boots after it; cp1's is cut off after re-adding cp3, before promoting it, and run again: nothing lost", async () => {
    await s.writeKeys('/replace-late');
    await s.sim.powerCut('cp2');
    await s.sim.powerCut('cp3');
    s.sim.loseDisk('cp3');
    const dir = join(s.sim.dir, 'runbook-replace-late');
    mkdirSync(dir);
    await s.runbook('--lost cp3', dir);
    const start = Date.now();
    const cut = s.background(dir, 'cp1');
    const cp2 = s.script(dir, 'cp2');
    s.sim.boot('cp2');
    // cp1 removes cp3's old entry and adds it back as a learner (both destructive), then waits for cp3 to catch up,
    // which cannot happen before cp3's script starts: cut off there, before the promote.
    await cut.waitFor('to wait for cp3 to catch up', /step \d+\/\d+: wait-caught-up cp3/);
    cut.cut();
    expect((await cut.done).code, cut.text()).not.toBe(0);
    const cp1 = s.script(dir, 'cp1');
    await after(Math.max(0, start + LATE_MS - Date.now()));
    const cp3 = s.background(dir, 'cp3');
    // cp3 boots once its script has taken etcd out of the kubelet's hands (the manifest moved aside).
    await cp3.waitFor('to reach its wipe step', /step \d+\/\d+: wipe cp3/);
    s.sim.boot('cp3');
    const results = [await cp1, await cp2, await cp3.done];
    const report = s.expectAllDone(results);
    expect(cut.text(), report).not.toMatch(/every step of this script is done/);
    expect(results[0]!.stdout, report).toMatch(/step \d+\/\d+ already done: add-member cp3/);
    await s.expectRecovered('/replace-late');
  }, 900_000);

  it('snapshot after a total loss, no member answering: cp2 boots before its script, which is cut off in the restore and run again; cp3 runs 60 s late: the verified backup is back', async () => {
    await s.writeKeys('/snapshot-late');
    for (const step of ['backup etcd', 'verify --latest']) {
      const r = await s.lifeboat('cp1', step);
      expect(r.code, `${step}: ${r.stdout}${r.stderr}`).toBe(0);
    }
    for (const n of s.sim.nodes) await s.sim.powerCut(n.name);
    for (const n of s.sim.nodes) s.sim.loseDisk(n.name);
    // No member answers: the members come from cp3's manifest (it joined last, so it lists all three); every disk is
    // gone, so the plan is the snapshot, and the snapshot is the newest verified backup.
    const dir = join(s.sim.dir, 'runbook-snapshot-late');
    const scripts = await s.runbook('--lost cp1,cp2,cp3', dir, 'cp3');
    expect(readFileSync(join(dir, 'cp1.sh'), 'utf8')).toMatch(/^# Plan snapshot: /m);
    expect(scripts.sort()).toEqual(['cp1.sh', 'cp2.sh', 'cp3.sh']);
    const start = Date.now();
    // cp2 boots first: kubeadm's join manifest on an empty disk finds no cluster and crash-loops until its script
    // takes it over.
    s.sim.boot('cp2');
    const cut = s.background(dir, 'cp2');
    const cp1 = s.background(dir, 'cp1');
    await cut.waitFor('to restore', /step \d+\/\d+: restore cp2/);
    cut.cut();
    await cut.done;
    const cp2 = s.script(dir, 'cp2');
    // cp1 boots after its script has stopped etcd there (it finds the restored data and its own manifest).
    await cp1.waitFor('to restore', /step \d+\/\d+: restore cp1/);
    s.sim.boot('cp1');
    await after(Math.max(0, start + LATE_MS - Date.now()));
    const cp3 = s.background(dir, 'cp3');
    await cp3.waitFor('to restore', /step \d+\/\d+: restore cp3/);
    s.sim.boot('cp3');
    const results = [await cp1.done, await cp2, await cp3.done];
    const report = s.expectAllDone(results);
    expect(cut.text(), report).not.toMatch(/every step of this script is done/);
    await s.expectRecovered('/snapshot-late');
  }, 900_000);
});
