import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as after } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { KEYS, type RunbookSuite, useRunbookSuite } from '../helpers/kubeadm-runbooks.js';
import { simulatorUnavailable } from '../helpers/kubeadm-sim.js';

/**
 * The runbooks `lifeboat recover --runbook` writes for kubeadm, run on three simulated kubeadm control planes
 * (test/helpers/kubeadm-sim.ts): own network and mount namespaces, kubeadm's PKI and etcd.yaml, a kubelet-like
 * static-pod runner. The replace plan: the incident, then a second incident on the same nodes. The other plans are
 * in kubeadm-plans.test.ts (its own nodes, so both files run side by side).
 */

const unavailable = simulatorUnavailable();

describe.skipIf(unavailable)(`kubeadm nodes (simulated)${unavailable ? `: skipped, ${unavailable}` : ''}`, () => {
  let s: RunbookSuite;
  useRunbookSuite((suite) => {
    s = suite;
  });

  it('the incident: two nodes lose power together, one comes back without its disk; the scripts, started together, re-add it and lose nothing', async () => {
    await s.writeKeys('/incident');
    const cp3 = await s.memberId('cp3');
    await s.sim.powerCut('cp2');
    await s.sim.powerCut('cp3');
    s.sim.loseDisk('cp3');
    const dir = join(s.sim.dir, 'runbook-incident');
    mkdirSync(dir);
    const scripts = await s.runbook('--lost cp3', dir);
    expect(scripts.sort()).toEqual(['cp1.sh', 'cp2.sh', 'cp3.sh']);
    // The nodes boot while their scripts run: the kubelet starts etcd from the manifest it finds. cp2 at once; cp3,
    // whose disk is new, once its old entry is gone (the kubelet then starts it as the re-added learner, or fails).
    const runs = s.sim.nodes.map((n) => s.script(dir, n.name));
    s.sim.boot('cp2');
    await s.bootOnceRemoved('cp3', cp3, runs);
    const results = await Promise.all(runs);
    const report = s.expectAllDone(results);
    expect(results[0]!.stdout, report).toMatch(/cp3's old member entry is removed: cp3 can be powered on now/);
    await s.expectRecovered('/incident');
  }, 900_000);

  it('a second incident after the first, scripts and boots out of step: new markers, cp2 re-added, nothing lost', async () => {
    await s.writeKeys('/second');
    const cp2 = await s.memberId('cp2');
    await s.sim.powerCut('cp2');
    await s.sim.powerCut('cp3');
    s.sim.loseDisk('cp2');
    const dir = join(s.sim.dir, 'runbook-second');
    mkdirSync(dir);
    await s.runbook('--lost cp2', dir);
    // Out of step on purpose: the coordinator first, cp3 boots before its script, cp2's script runs before cp2 boots.
    const cp1Run = s.script(dir, 'cp1');
    await after(10_000);
    s.sim.boot('cp3');
    await after(5_000);
    const cp3Run = s.script(dir, 'cp3');
    const cp2Run = s.script(dir, 'cp2');
    await s.bootOnceRemoved('cp2', cp2, [cp1Run, cp2Run, cp3Run]);
    const results = await Promise.all([cp1Run, cp2Run, cp3Run]);
    const report = s.expectAllDone(results);
    // The first incident's markers were not reused: this runbook ran its own steps.
    expect(results[0]!.stdout, report).not.toMatch(/already done/);
    await s.expectRecovered('/second');
    expect(await s.countKeys('/incident')).toBe(KEYS);
  }, 900_000);
});
