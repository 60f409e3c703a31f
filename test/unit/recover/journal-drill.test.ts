import { describe, expect, it } from 'vitest';
import type { MemberView } from '../../../src/domain/diagnosis.js';
import { describePlan, describeRun, dryRunDocument } from '../../../src/domain/recover/describe.js';
import { drillKey, judgeWrites, planFailure } from '../../../src/domain/recover/drill.js';
import {
  interruptedStep,
  isUnfinished,
  journalProblem,
  newJournal,
  nextAfterFailure,
  recordStep,
  remainingSteps,
  startStep,
} from '../../../src/domain/recover/journal.js';
import { mergeMembers } from '../../../src/domain/recover/members.js';
import { planRecovery } from '../../../src/domain/recover/plan.js';
import type { ExecutablePlan } from '../../../src/domain/recover/types.js';
import { down, input, members } from './fixtures.js';

function survivorPlan(): ExecutablePlan {
  const d = planRecovery(input('quorum-lost', members(3, { cp1: down(), cp2: down({ hasData: false }) })), 'survivor');
  if (d.kind !== 'plan') throw new Error('no plan');
  return d.plan;
}

describe('journal', () => {
  it('records steps in order, knows what remains, and finishes with the last one', () => {
    const plan = survivorPlan();
    let j = newJournal(plan, new Date('2026-11-27T12:00:00Z'));
    expect(isUnfinished(j)).toBe(true);
    expect(remainingSteps(j)).toHaveLength(plan.steps.length);
    j = recordStep(j, plan.steps[0]!, { ok: true, seconds: 0.1, at: '2026-11-27T12:00:01Z' });
    j = recordStep(j, plan.steps[1]!, { ok: false, seconds: 3, at: '2026-11-27T12:00:04Z', error: 'boom' });
    expect(remainingSteps(j)[0]!.id).toBe(plan.steps[1]!.id); // a failed step is retried
    for (const s of plan.steps.slice(1)) j = recordStep(j, s, { ok: true, seconds: 1, at: '2026-11-27T12:01:00Z' });
    expect(j.finishedAt).toBe('2026-11-27T12:01:00Z');
    expect(isUnfinished(j)).toBe(false);
    expect(remainingSteps(j)).toEqual([]);
  });

  it('a step journaled as started and never recorded was cut short; its record clears that', () => {
    const plan = survivorPlan();
    let j = recordStep(newJournal(plan, new Date('2026-11-27T12:00:00Z')), plan.steps[0]!, {
      ok: true,
      seconds: 0.1,
      at: '2026-11-27T12:00:01Z',
    });
    expect(interruptedStep(j)).toBeUndefined();
    j = startStep(j, plan.steps[1]!, new Date('2026-11-27T12:00:02Z'));
    expect(j.running).toEqual({ step: plan.steps[1]!.id, since: '2026-11-27T12:00:02.000Z' });
    // What a run killed inside step 2 leaves: the step is still to do, and known to be cut short.
    const killed = JSON.parse(JSON.stringify(j)) as typeof j;
    expect(interruptedStep(killed)).toEqual(plan.steps[1]);
    expect(remainingSteps(killed)[0]!.id).toBe(plan.steps[1]!.id);
    j = recordStep(j, plan.steps[1]!, { ok: false, seconds: 3, at: '2026-11-27T12:00:05Z', error: 'boom' });
    expect(j.running).toBeUndefined();
    expect(interruptedStep(j)).toBeUndefined(); // failed, not cut short
  });

  it('refuses files that are not its journals', () => {
    expect(journalProblem(null)).toBe('not an object');
    expect(journalProblem({ version: 2, plan: { steps: [] }, steps: {} })).toContain('version 2');
    expect(journalProblem(newJournal(survivorPlan(), new Date()))).toBeUndefined();
  });

  it('says what to do after a failed step, and that a re-run continues there', () => {
    const step = survivorPlan().steps.find((s) => s.kind === 'force-new-cluster')!;
    const next = nextAfterFailure(step, 'lifeboat recover --yes');
    expect(next).toContain("cp3's etcd log");
    expect(next).toContain('re-run `lifeboat recover --yes`: it continues at this step');
  });
});

describe('describe', () => {
  it('prints numbered steps with the node, data loss and estimate; done steps are marked on resume', () => {
    const plan = survivorPlan();
    const lines = describePlan(plan, { done: new Set([plan.steps[0]!.id]) });
    expect(lines[0]).toBe('Plan: survivor - Rebuild from the freshest survivor (cp3)');
    expect(lines).toContain('Data loss: none beyond what cp3 had not applied (applied raft index 500).');
    expect(lines.find((l) => l.startsWith('   1.'))).toContain('(done) [cp3] Make sure cp1 and cp2 are stopped');
    expect(lines.find((l) => l.startsWith('   2.'))).toContain('[cp3] Stop cp3');
    const again = describePlan(plan, { done: new Set([plan.steps[0]!.id]), interrupted: plan.steps[1]!.id });
    expect(again.find((l) => l.startsWith('   2.'))).toContain('(interrupted: again) [cp3] Stop cp3');
    const doc = dryRunDocument({ kind: 'plan', plan, blockers: [], candidates: [] });
    expect(doc).toMatchObject({ ok: true, plan: 'survivor', executed: false, seconds: 0 });
    expect(doc.steps[0]).toMatchObject({ name: 'ensure-stopped all', ok: false, pending: true });
  });

  it('tells an interruption from a failure', () => {
    const base = {
      plan: 'survivor',
      dataLoss: 'none',
      seconds: 3,
      resumed: false,
      journal: '/lab/recover-journal.json',
    };
    const steps = [
      { name: 'a', ok: true, seconds: 1 },
      { name: 'b', ok: false, seconds: 0, pending: true },
    ];
    expect(describeRun({ ...base, ok: false, steps, interrupted: true })[1]).toBe(
      'Run the same command again to continue.',
    );
    const redone = describeRun({ ...base, ok: true, steps, resumed: true, redone: 'b' })[0];
    expect(redone).toBe(
      'Recovered with the survivor plan in 3 s (continued an interrupted run; step "b", cut short, done again): 1 steps done.',
    );
    const failed = describeRun({ ...base, ok: false, steps, failed: { step: 'b', error: 'x', next: 'do y' } });
    expect(failed).toEqual(['Stopped at step "b" (1 of 2 done): x', 'What to do next: do y.']);
  });
});

describe('mergeMembers', () => {
  const view = (name: string, id: string, reachable: boolean): MemberView => ({
    name,
    id,
    endpoint: `http://127.0.0.1:${id}`,
    reachable,
    leader: false,
    learner: false,
    raftIndex: reachable ? 10 : null,
    raftAppliedIndex: reachable ? 9 : null,
    raftTerm: null,
    dbSize: null,
    version: null,
    error: null,
  });
  const entry = (name: string, id: string) => ({
    id,
    name,
    peerURLs: [`http://127.0.0.1:${Number(id) + 1}`],
    clientURLs: [`http://127.0.0.1:${id}`],
    isLearner: false,
  });
  const lab = [
    {
      name: 'cp1',
      peerUrl: 'http://127.0.0.1:2001',
      clientUrl: 'http://127.0.0.1:2000',
      running: false,
      hasData: false,
    },
    {
      name: 'cp2',
      peerUrl: 'http://127.0.0.1:3001/',
      clientUrl: 'http://127.0.0.1:3000',
      running: true,
      pid: 7,
      hasData: true,
    },
  ];

  it('joins the diagnosis, the member list and the executor by peer URL', () => {
    const merged = mergeMembers(
      [view('cp1', '2000', false), view('cp2', '3000', true)],
      [entry('cp1', '2000'), entry('', '3000')],
      lab,
    );
    expect(merged.map((m) => [m.name, m.id, m.reachable, m.appliedIndex, m.running, m.hasData, m.pid])).toEqual([
      ['cp1', '2000', false, null, false, false, undefined],
      ['cp2', '3000', true, 9, true, true, 7],
    ]);
  });

  it('without any member list (nobody answers) the executor names the members', () => {
    const merged = mergeMembers([], [], lab);
    expect(merged.map((m) => [m.name, m.id, m.reachable, m.peerUrl])).toEqual([
      ['cp1', '', false, 'http://127.0.0.1:2001'],
      ['cp2', '', false, 'http://127.0.0.1:3001'],
    ]);
  });

  it('data lost: the members the cluster no longer lists come from the executor too (the empty cluster is not the membership)', () => {
    const alone = [view('cp1', '2000', true)];
    expect(mergeMembers(alone, [entry('cp1', '2000')], lab).map((m) => m.name)).toEqual(['cp1']);
    const merged = mergeMembers(alone, [entry('cp1', '2000')], lab, true);
    expect(merged.map((m) => [m.name, m.id, m.reachable, m.peerUrl])).toEqual([
      ['cp1', '2000', true, 'http://127.0.0.1:2001'],
      ['cp2', '', false, 'http://127.0.0.1:3001'],
    ]);
  });
});

describe('drill', () => {
  it('incident: a majority with the leader dies, the leader loses its disk, the writer stays alive', () => {
    expect(planFailure('incident', ['cp1', 'cp2', 'cp3'], 'cp2')).toMatchObject({
      victims: ['cp2', 'cp1'],
      wiped: ['cp2'],
      writer: 'cp3',
      expectState: 'quorum-lost',
      expectPlan: 'replace',
      force: false,
    });
    const five = planFailure('incident', ['cp1', 'cp2', 'cp3', 'cp4', 'cp5'], 'cp5');
    expect(five).toMatchObject({ victims: ['cp5', 'cp1', 'cp2'], writer: 'cp4', expectPlan: 'replace', force: false });
  });

  it('disk-loss and total-loss', () => {
    expect(planFailure('disk-loss', ['cp1', 'cp2', 'cp3'], 'cp1')).toMatchObject({
      victims: ['cp1'],
      wiped: ['cp1'],
      expectState: 'degraded',
      expectPlan: 'replace',
    });
    expect(planFailure('total-loss', ['cp1', 'cp2', 'cp3'], null)).toMatchObject({
      victims: ['cp1', 'cp2', 'cp3'],
      wiped: ['cp1', 'cp2', 'cp3'],
      expectState: 'unreachable',
      expectPlan: 'snapshot',
      needsSnapshot: true,
    });
  });

  it('judges the writer log: every ack must be there, except after the snapshot in the old cluster', () => {
    const ack = (seq: number, revision: number, clusterId = 'old') => ({
      seq,
      key: drillKey(seq),
      revision,
      clusterId,
    });
    const acks = [ack(1, 10), ack(2, 11), ack(3, 20), ack(4, 21), ack(5, 12, 'new')];
    const present = new Set([drillKey(1), drillKey(2), drillKey(5)]);
    expect(judgeWrites(acks, (k) => present.has(k))).toMatchObject({ acked: 5, lost: 2, lostUnexpectedly: 2 });
    const verdict = judgeWrites(acks, (k) => present.has(k), { revision: 15, clusterId: 'old' });
    expect(verdict).toMatchObject({ lost: 2, expectedLost: 2, lostUnexpectedly: 0, presentUnexpectedly: 0 });
    const leaky = judgeWrites(acks, () => true, { revision: 15, clusterId: 'old' });
    expect(leaky.presentUnexpectedly).toBe(2);
    expect(drillKey(42)).toBe('/drill/writes/00000042');
  });
});
