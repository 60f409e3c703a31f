import { describe, expect, it } from 'vitest';
import { diagnose } from '../../src/domain/diagnosis.js';
import type { EndpointProbe, MemberEntry } from '../../src/domain/probe.js';

const ids = ['101', '202', '303', '404', '505'];

function memberList(n: number, learners: number[] = []): MemberEntry[] {
  return ids.slice(0, n).map((id, i) => ({
    id,
    name: `cp${i + 1}`,
    peerURLs: [`http://10.0.0.${i + 1}:2380`],
    clientURLs: [`http://10.0.0.${i + 1}:2379`],
    isLearner: learners.includes(i),
  }));
}

/** Probes for an n-member cluster where `down` members give a connection error. */
function probes(
  n: number,
  down: number[] = [],
  extra: Partial<{ learners: number[]; leader: number; raft: number[]; alarms: EndpointProbe['alarms'] }> = {},
): EndpointProbe[] {
  const list = memberList(n, extra.learners);
  const leader = extra.leader ?? 0;
  return list.map((m, i) =>
    down.includes(i)
      ? { endpoint: m.clientURLs[0]!, error: `${m.clientURLs[0]}: connection refused`, elapsedMs: 3 }
      : {
          endpoint: m.clientURLs[0]!,
          elapsedMs: 5,
          members: list,
          alarms: extra.alarms ?? [],
          linearizableRead: n - down.length > n / 2,
          serializableRead: true,
          status: {
            memberId: m.id,
            leaderId: n - down.length > n / 2 ? ids[leader]! : '0',
            version: '3.4.23',
            dbSize: 1_000_000,
            raftTerm: 4,
            raftIndex: extra.raft?.[i] ?? 5000,
            raftAppliedIndex: extra.raft?.[i] ?? 5000,
            isLearner: m.isLearner,
            errors: [],
          },
        },
  );
}

describe('diagnose', () => {
  it('healthy 3-member cluster: margin 1, no plans', () => {
    const d = diagnose(probes(3));
    expect(d).toMatchObject({
      state: 'healthy',
      votingMembers: 3,
      reachableVoting: 3,
      quorum: 2,
      tolerance: 1,
      margin: 1,
    });
    expect(d.leader).toBe('cp1');
    expect(d.plans).toEqual([]);
    expect(d.findings.map((f) => f.code)).toEqual(['healthy']);
  });

  it('one of three down: degraded, names the dead member, plan restart', () => {
    const d = diagnose(probes(3, [1]));
    expect(d.state).toBe('degraded');
    expect(d.margin).toBe(0);
    const unreachable = d.findings.find((f) => f.code === 'member-unreachable');
    expect(unreachable?.members).toEqual(['cp2']);
    expect(unreachable?.message).toContain('cp2');
    expect(d.findings.find((f) => f.code === 'zero-margin')?.message).toMatch(
      /^One more failure stops etcd: 2 of 3 voting members answer/,
    );
    expect(d.plans.map((p) => p.name)).toEqual(['restart']);
  });

  it('two of three down: quorum-lost, explains the read-only symptom and ranks plans', () => {
    const d = diagnose(probes(3, [1, 2], { raft: [7000, 0, 0] }));
    expect(d.state).toBe('quorum-lost');
    expect(d.margin).toBe(-1);
    const lost = d.findings[0]!;
    expect(lost.code).toBe('quorum-lost');
    expect(lost.message).toContain(
      'etcd has lost quorum: 1 of 3 voting members answer, 2 needed for quorum (margin -1)',
    );
    expect(lost.message).toMatch(/no change takes effect/);
    expect(lost.message).toMatch(/kube-vip/);
    expect(lost.message).toMatch(/First: bring back cp2 and cp3/);
    // Probes alone know no snapshot and nothing of the disks: no snapshot plan, and restart says the disks are unknown.
    expect(d.plans.map((p) => p.name)).toEqual(['restart', 'survivor']);
    expect(d.plans[1]!.title).toContain('cp1');
    expect(d.plans.map((p) => p.dataLoss)[0]).toBe('none');
    expect(d.plans[0]!.when).toMatch(/still have their data is unknown/);
    expect(d.plans[0]!.steps.join('\n')).not.toMatch(/do not wipe/);
    expect(d.plans[1]!.command).toBe('lifeboat recover --plan survivor');
  });

  it('nobody answers: unreachable', () => {
    const d = diagnose(probes(3, [0, 1, 2]));
    expect(d.state).toBe('unreachable');
    expect(d.members).toHaveLength(3);
    expect(d.findings[0]!.code).toBe('unreachable');
    expect(d.findings[0]!.message).toContain('connection refused');
  });

  it('learners never count towards quorum', () => {
    // 3 voters + 2 learners; learners down changes nothing, voters down do.
    const withLearners = diagnose(probes(5, [3, 4], { learners: [3, 4] }));
    expect(withLearners).toMatchObject({ state: 'healthy', votingMembers: 3, reachableVoting: 3, margin: 1 });
    expect(withLearners.findings.some((f) => f.code === 'learners')).toBe(true);
    const votersDown = diagnose(probes(5, [1, 2], { learners: [3, 4] }));
    expect(votersDown).toMatchObject({ state: 'quorum-lost', votingMembers: 3, reachableVoting: 1 });
  });

  it('flags even member counts, lag, alarms and list disagreement', () => {
    expect(diagnose(probes(4)).findings.map((f) => f.code)).toContain('even-members');
    const lag = diagnose(probes(3, [], { raft: [9000, 9000, 100] }));
    expect(lag.findings.find((f) => f.code === 'raft-lag')?.members).toEqual(['cp3']);
    const alarm = diagnose(probes(3, [], { alarms: [{ memberId: '202', alarm: 'NOSPACE' }] }));
    expect(alarm.state).toBe('degraded');
    expect(alarm.findings.find((f) => f.code === 'alarm-nospace')?.members).toEqual(['cp2']);
    const mismatch = probes(3);
    mismatch[2] = { ...mismatch[2]!, members: memberList(2) };
    expect(diagnose(mismatch).findings.map((f) => f.code)).toContain('member-list-mismatch');
  });

  it('5 members: any member down is degraded (margin 1, then 0), three down loses quorum', () => {
    expect(diagnose(probes(5, [0]))).toMatchObject({ state: 'degraded', margin: 1 });
    expect(diagnose(probes(5, [0, 1]))).toMatchObject({ state: 'degraded', margin: 0 });
    expect(diagnose(probes(5)).state).toBe('healthy');
    expect(diagnose(probes(5, [0, 1, 2]), {}).state).toBe('quorum-lost');
  });

  it('every non-info finding ends with what to do first', () => {
    const d = diagnose(probes(3, [1, 2]));
    for (const f of d.findings.filter((x) => x.severity !== 'info')) expect(f.message).toContain('First:');
  });
});
