import { describe, expect, it } from 'vitest';
import { bumpRevisionFor, formatAgo, planRecovery } from '../../../src/domain/recover/plan.js';
import type { ExecutablePlan, PlanDecision } from '../../../src/domain/recover/types.js';
import { down, input, members, SNAPSHOT } from './fixtures.js';

function planOf(d: PlanDecision): ExecutablePlan {
  if (d.kind !== 'plan') throw new Error(`no plan: ${d.kind} ${d.reason}`);
  return d.plan;
}
const names = (p: ExecutablePlan) => p.steps.map((s) => s.name);

describe('planRecovery', () => {
  it('a healthy cluster has nothing to recover', () => {
    const d = planRecovery(input('healthy', members(3)), 'auto');
    expect(d.kind).toBe('nothing-to-do');
    expect(d.candidates.every((c) => !c.applies)).toBe(true);
  });

  it('one member down with its data: restart it, wait for the leader and its catch-up', () => {
    const p = planOf(planRecovery(input('degraded', members(3, { cp2: down() })), 'auto'));
    expect(p.name).toBe('restart');
    expect(p.dataLoss).toBe('none');
    expect(names(p)).toEqual(['start cp2', 'wait-healthy all', 'wait-caught-up cp2']);
    expect(p.steps[0]!.node).toBe('cp2');
    expect(p.steps[2]).toMatchObject({ via: 'cp1', node: 'cp1' });
  });

  it('quorum lost but every missing member keeps its disk: restart, not a rebuild', () => {
    const p = planOf(planRecovery(input('quorum-lost', members(3, { cp1: down(), cp2: down() })), 'auto'));
    expect(p.name).toBe('restart');
    expect(names(p).slice(0, 2)).toEqual(['start cp1', 'start cp2']);
  });

  it('a runbook executor cannot see disks: restart is offered first, carefully worded', () => {
    const ms = members(3, { cp1: down({ running: null, hasData: null }), cp2: down({ running: null, hasData: null }) });
    const d = planRecovery(input('quorum-lost', ms), 'auto');
    expect(planOf(d).name).toBe('restart');
    expect(d.candidates.find((c) => c.name === 'restart')!.reason).toMatch(
      /whether cp1 and cp2 still have their data is unknown/,
    );
    // Nothing saw the disks: the start steps say so instead of promising the data is there.
    const starts = planOf(d).steps.filter((s) => s.kind === 'start');
    expect(starts.map((s) => s.member)).toEqual(['cp1', 'cp2']);
    for (const s of starts) {
      expect(s.title).toMatch(/if its disk survived \(unknown/);
      expect(s.title).not.toMatch(/do not wipe/);
    }
  });

  it('a member whose disk is known to be intact is started with "do not wipe it"', () => {
    const ms = members(3, { cp1: down({ running: false, hasData: true }) });
    const start = planOf(planRecovery(input('degraded', ms), 'auto')).steps.find((s) => s.kind === 'start')!;
    expect(start.title).toBe('Start cp1 with its existing data dir (do not wipe it)');
  });

  it('one disk lost while quorum holds: replace re-adds it as a learner through the working cluster', () => {
    const p = planOf(planRecovery(input('degraded', members(3, { cp1: down({ hasData: false }) })), 'auto'));
    expect(p.name).toBe('replace');
    expect(p.dataLoss).toBe('none');
    expect(names(p)).toEqual([
      'remove-member cp1',
      'add-member cp1',
      'wipe cp1',
      'join cp1',
      'wait-caught-up cp1',
      'promote cp1',
      'wait-healthy all',
    ]);
    const remove = p.steps[0]!;
    expect(remove).toMatchObject({ kind: 'remove-member', memberId: '1000', via: 'cp2' });
    const join = p.steps.find((s) => s.kind === 'join')!;
    expect(join.kind === 'join' && join.initialCluster).toBe(
      'cp1=https://10.0.0.11:2380,cp2=https://10.0.0.12:2380,cp3=https://10.0.0.13:2380',
    );
    expect(p.steps.find((s) => s.kind === 'wipe')!.node).toBe('cp1');
    expect(p.steps.find((s) => s.kind === 'add-member')!.node).toBe('cp2');
  });

  describe('survivor', () => {
    const incident = () =>
      members(3, { cp1: down(), cp2: down({ hasData: false }), cp3: { raftIndex: 900, appliedIndex: 890 } });

    it('the incident: rebuild from the only survivor, others re-added one at a time, membership growing', () => {
      const d = planRecovery(input('quorum-lost', incident()), 'survivor');
      const p = planOf(d);
      expect(p.name).toBe('survivor');
      expect(d.kind === 'plan' && d.blockers).toEqual([]);
      expect(p.dataLoss).toBe('none beyond what cp3 had not applied (applied raft index 890)');
      expect(names(p)).toEqual([
        'ensure-stopped all',
        'force-new-cluster cp3',
        'wait-writable cp3',
        'restart-normal cp3',
        ...['remove-member', 'add-member', 'wipe', 'join', 'wait-caught-up', 'promote'].map((k) => `${k} cp1`),
        ...['remove-member', 'add-member', 'wipe', 'join', 'wait-caught-up', 'promote'].map((k) => `${k} cp2`),
        'wait-healthy all',
      ]);
      const joins = p.steps.filter((s) => s.kind === 'join').map((s) => (s.kind === 'join' ? s.initialCluster : ''));
      expect(joins).toEqual([
        'cp3=https://10.0.0.13:2380,cp1=https://10.0.0.11:2380',
        'cp3=https://10.0.0.13:2380,cp1=https://10.0.0.11:2380,cp2=https://10.0.0.12:2380',
      ]);
      expect(p.steps[0]).toMatchObject({ kind: 'ensure-stopped', members: ['cp1', 'cp2'] });
      expect(p.steps.every((s, i) => s.id.startsWith(`${i + 1}:`))).toBe(true);
    });

    it('auto prefers starting the member that kept its data and re-adding the lost one: no --force-new-cluster', () => {
      const d = planRecovery(input('quorum-lost', incident()), 'auto');
      const p = planOf(d);
      expect(p.name).toBe('replace');
      expect(p.dataLoss).toBe('none');
      expect(d.kind === 'plan' && d.blockers).toEqual([]);
      expect(names(p)).toEqual([
        'start cp1',
        'wait-healthy all',
        ...['remove-member', 'add-member', 'wipe', 'join', 'wait-caught-up', 'promote'].map((k) => `${k} cp2`),
        'wait-healthy all',
      ]);
      // The first wait is for the members that kept their data: quorum is back before anything is re-added.
      expect(p.steps[1]).toMatchObject({ kind: 'wait-healthy', members: ['cp1', 'cp3'] });
      expect(p.steps.some((s) => s.kind === 'force-new-cluster')).toBe(false);
      expect(d.candidates.find((c) => c.name === 'replace')!.reason).toBe(
        'starting cp1 (data kept) brings quorum back; then cp2, which lost its disk, is re-added',
      );
    });

    it('a cluster that lost its data (holds less than the newest verified backup) gets the snapshot plan, not "nothing to recover"', () => {
      const lost = 'etcd has lost data: revision 1, the newest verified backup holds revision 4242';
      const lone = members(3);
      const d = planRecovery(input('healthy', lone, { dataLost: lost, snapshot: SNAPSHOT }), 'auto');
      const p = planOf(d);
      expect(p.name).toBe('snapshot');
      expect(p.why).toBe(lost);
      // The empty members still answer: restoring over them is refused without --force, like any running member.
      expect(d.kind === 'plan' && d.blockers.map((b) => b.member)).toEqual(['cp1', 'cp2', 'cp3']);
      expect(
        planRecovery(input('healthy', lone, { dataLost: lost, snapshot: SNAPSHOT, force: true }), 'auto'),
      ).toMatchObject({
        kind: 'plan',
        blockers: [],
      });
      // No usable backup: it says why rather than "nothing to recover".
      const none = planRecovery(
        input('healthy', lone, { dataLost: lost, snapshotProblem: 'no usable verified snapshot' }),
        'auto',
      );
      expect(none).toMatchObject({
        kind: 'no-plan',
        reason: 'the snapshot plan does not apply: no usable verified snapshot',
      });
      expect(planRecovery(input('healthy', lone), 'auto').kind).toBe('nothing-to-do');
    });

    it('says to power the lost member on only after its old entry is removed (empty under its old id it can cost writes)', () => {
      const p = planOf(planRecovery(input('quorum-lost', incident()), 'auto'));
      expect(p.notes).toContainEqual(
        expect.stringMatching(/^power cp2 on only after cp3's script has removed its old member entry/),
      );
    });

    it('falls back to the survivor when those that kept their data cannot bring quorum back, or are frozen', () => {
      const gone = () => down({ hasData: false });
      const lostThree = members(5, { cp1: gone(), cp2: gone(), cp3: gone() });
      expect(planOf(planRecovery(input('quorum-lost', lostThree), 'auto')).name).toBe('survivor');
      // 2 answer, 1 kept its data: 3 of 5 is quorum again, so replace.
      const lostTwo = members(5, { cp1: gone(), cp2: gone(), cp3: down() });
      expect(planOf(planRecovery(input('quorum-lost', lostTwo), 'auto')).name).toBe('replace');
      const frozen = members(3, { cp1: down({ running: true }), cp2: down({ hasData: false }) });
      const d = planRecovery(input('quorum-lost', frozen), 'auto');
      expect(d.candidates.find((c) => c.name === 'replace')!.reason).toContain('frozen');
    });

    it('picks the reachable member with the highest applied index', () => {
      const ms = members(5, {
        cp1: down(),
        cp2: down(),
        cp3: down({ hasData: false }),
        cp4: { appliedIndex: 700 },
        cp5: { appliedIndex: 710 },
      });
      const d = planRecovery(input('quorum-lost', ms), 'survivor');
      expect(planOf(d).title).toContain('cp5');
      expect(d.kind === 'plan' && d.blockers).toEqual([
        { member: 'cp4', why: expect.stringContaining('still answers') },
      ]);
    });

    it('refuses (blockers) while an old member still runs, and names it; --force lifts it', () => {
      const ms = members(3, { cp1: down(), cp2: down({ running: true, pid: 4242 }) });
      const d = planRecovery(input('quorum-lost', ms), 'survivor');
      expect(d.kind === 'plan' && d.blockers).toEqual([
        { member: 'cp2', why: 'cp2 is still running (pid 4242) although it does not answer' },
      ]);
      const forced = planRecovery(input('quorum-lost', ms, { force: true }), 'survivor');
      expect(forced.kind === 'plan' && forced.blockers).toEqual([]);
      expect(d.candidates.find((c) => c.name === 'restart')!.reason).toContain('frozen');
    });

    it('does not apply while quorum holds', () => {
      const d = planRecovery(input('degraded', members(3, { cp1: down({ hasData: false }) })), 'survivor');
      expect(d.kind).toBe('no-plan');
      expect(d.kind !== 'plan' && d.reason).toContain('quorum holds');
    });
  });

  describe('snapshot', () => {
    const allGone = () =>
      members(3, { cp1: down({ hasData: false }), cp2: down({ hasData: false }), cp3: down({ hasData: false }) });

    it('no usable member: restore the same snapshot everywhere with a new token, then start together', () => {
      const d = planRecovery(input('unreachable', allGone(), { snapshot: SNAPSHOT }), 'auto');
      const p = planOf(d);
      expect(p.name).toBe('snapshot');
      expect(names(p)).toEqual([
        'ensure-stopped all',
        'restore cp1',
        'restore cp2',
        'restore cp3',
        'start-all all',
        'wait-healthy all',
      ]);
      expect(p.dataLoss).toBe('every change after revision 4242 (snapshot taken 2026-11-27T09:00:00.000Z, 3 h ago)');
      const restores = p.steps.filter((s) => s.kind === 'restore');
      expect(new Set(restores.map((s) => s.kind === 'restore' && s.token))).toEqual(new Set(['lifeboat-restore-test']));
      expect(restores.every((s) => s.kind === 'restore' && s.bumpRevision === null)).toBe(true);
      expect(p.notes.join(' ')).toContain('restart every kube-apiserver');
    });

    it('etcd >= 3.5 (etcdutl): --bump-revision and --mark-compacted for Kubernetes', () => {
      const d = planRecovery(
        input('unreachable', allGone(), { snapshot: SNAPSHOT, restoreTool: { tool: 'etcdutl', version: '3.5.12' } }),
        'auto',
      );
      const restore = planOf(d).steps.find((s) => s.kind === 'restore')!;
      expect(restore.kind === 'restore' && restore.bumpRevision).toBe(1_000_000_000);
      expect(restore.title).toContain('--bump-revision 1000000000 --mark-compacted');
      expect(bumpRevisionFor({ restoreTool: { tool: 'etcdutl', version: '3.6.0' } })).toBe(1_000_000_000);
      expect(bumpRevisionFor({ restoreTool: { tool: 'etcdctl', version: '3.4.23' } })).toBeNull();
    });

    it('without a snapshot nothing applies, and the reason says what is missing', () => {
      const d = planRecovery(input('unreachable', allGone(), { snapshotProblem: 'no --snapshot FILE given' }), 'auto');
      expect(d.kind).toBe('no-plan');
      expect(d.candidates.find((c) => c.name === 'snapshot')!.reason).toBe('no --snapshot FILE given');
    });

    it('is refused while quorum holds (it would throw newer data away)', () => {
      const d = planRecovery(input('degraded', members(3, { cp1: down() }), { snapshot: SNAPSHOT }), 'snapshot');
      expect(d.kind).toBe('no-plan');
    });

    it('a rollback (asked outright: --plan snapshot --force with a point) takes a healthy cluster back', () => {
      const healthy = input('healthy', members(3), { snapshot: SNAPSHOT, force: true, rollback: true });
      const p = planOf(planRecovery(healthy, 'snapshot'));
      expect(p.name).toBe('snapshot');
      expect(p.why).toMatch(/rollback .*revision 4242/);
      expect(names(p)[0]).toBe('ensure-stopped all'); // the working members are stopped first
      expect(p.dataLoss).toMatch(/every change after revision 4242/);
      // Never by itself: auto, or snapshot without the rollback flag, still finds nothing to do.
      expect(planRecovery(healthy, 'auto').kind).toBe('nothing-to-do');
      const asked = input('healthy', members(3), { snapshot: SNAPSHOT, force: true });
      expect(planRecovery(asked, 'snapshot').kind).toBe('nothing-to-do');
    });

    it('a member that still answers blocks a restore over it', () => {
      const ms = members(3, { cp1: down(), cp2: down() });
      const d = planRecovery(input('quorum-lost', ms, { snapshot: SNAPSHOT }), 'snapshot');
      expect(d.kind === 'plan' && d.blockers.map((b) => b.member)).toEqual(['cp3']);
    });
  });

  it('estimates grow with the data to copy', () => {
    const small = planOf(
      planRecovery(input('quorum-lost', members(3, { cp1: down(), cp2: down({ hasData: false }) })), 'survivor'),
    );
    const big = planOf(
      planRecovery(
        input(
          'quorum-lost',
          members(3, { cp1: down(), cp2: down({ hasData: false }), cp3: { dbSize: 2 * 1024 ** 3 } }),
        ),
        'survivor',
      ),
    );
    expect(big.estimateSeconds).toBeGreaterThan(small.estimateSeconds + 30);
    expect(formatAgo(90_000)).toBe('90 s');
    expect(formatAgo(3 * 86_400_000)).toBe('3 days');
  });
});
