import pc from 'picocolors';
import { describe, expect, it } from 'vitest';
import { EMPTY_ALERT_STATE, evaluateAlerts } from '../../src/domain/alerts.js';
import { type Diagnosis, diagnose } from '../../src/domain/diagnosis.js';
import type { EndpointProbe, MemberEntry } from '../../src/domain/probe.js';
import { QUORUM_LOST_CONSEQUENCE, stateMeaning, stateTitle } from '../../src/domain/words.js';
import { renderDiagnosis, renderHeadline } from '../../src/render/cluster.js';
import { EMPTY_TRACK, trackDiagnosis } from '../../src/server/etcd-tracker.js';
import { etcdPanel } from '../../src/server/status.js';

/**
 * One wording table (src/domain/words.ts): for the same cluster, `lifeboat status`/`doctor`, serve's status page,
 * serve's event log and the alerts say the same thing about etcd's state.
 */

const plain = pc.createColors(false);

function cluster(n: number, down: number[], alarm?: 'NOSPACE'): EndpointProbe[] {
  const list: MemberEntry[] = Array.from({ length: n }, (_, i) => ({
    id: String(100 + i),
    name: `cp${i + 1}`,
    peerURLs: [`http://10.0.0.${i + 1}:2380`],
    clientURLs: [`http://10.0.0.${i + 1}:2379`],
    isLearner: false,
  }));
  const quorate = n - down.length > n / 2;
  return list.map((m, i) =>
    down.includes(i)
      ? { endpoint: m.clientURLs[0]!, error: `${m.clientURLs[0]}: connection refused`, elapsedMs: 3 }
      : {
          endpoint: m.clientURLs[0]!,
          elapsedMs: 5,
          members: list,
          alarms: alarm ? [{ memberId: m.id, alarm }] : [],
          linearizableRead: quorate,
          serializableRead: true,
          status: {
            memberId: m.id,
            leaderId: quorate ? list[n - 1 - down.length]!.id : '0',
            version: '3.5.21',
            dbSize: 1_000_000,
            raftTerm: 2,
            raftIndex: 100,
            raftAppliedIndex: 100,
            isLearner: false,
            errors: [],
          },
        },
  );
}

const CASES: Array<[string, EndpointProbe[], Diagnosis['state']]> = [
  ['healthy', cluster(3, []), 'healthy'],
  ['one of three down (margin 0)', cluster(3, [0]), 'degraded'],
  ['quorum holds but an alarm is raised', cluster(5, [], 'NOSPACE'), 'degraded'],
  ['two of three down', cluster(3, [0, 1]), 'quorum-lost'],
  ['every member down', cluster(3, [0, 1, 2]), 'unreachable'],
];

describe('the wording table: CLI, status page, event log and alerts agree', () => {
  it.each(CASES)('%s', (_, probes, state) => {
    const d = diagnose(probes);
    expect(d.state).toBe(state);
    const cli = renderHeadline(d, plain);
    // `lifeboat status` and `doctor` open with it ...
    expect(renderDiagnosis(d, plain).split('\n')[0]).toBe(cli);
    // ... the status page shows it as its headline ...
    const panel = etcdPanel(d, { probedAt: 0, probeMs: 1, leaderChanges: 0 });
    expect(panel.headline).toBe(cli);
    // ... and the event log writes it when serve first sees the state, and "now" when it changes to it.
    expect(trackDiagnosis(EMPTY_TRACK, d).events.at(-1)?.message).toBe(cli);
    const other = diagnose(state === 'healthy' ? cluster(3, [0]) : cluster(3, []));
    const changed = trackDiagnosis(trackDiagnosis(EMPTY_TRACK, other).next, d).events.at(-1)?.message;
    expect(changed).toBe(cli.replace(/^etcd is /, 'etcd is now '));
    expect(cli).toMatch(new RegExp(`^etcd is ${state.toUpperCase()}: .*; ${escapeRegExp(stateMeaning(d))}$`));

    // An alert fires for exactly the states that need a person, titled with the same words.
    const down = d.members.filter((m) => !m.reachable).map((m) => m.name);
    const etcd = {
      state: d.state,
      margin: d.margin,
      votingMembers: d.votingMembers,
      reachableVoting: d.reachableVoting,
      down,
    };
    const { alerts } = evaluateAlerts(
      EMPTY_ALERT_STATE,
      { at: 1, since: 0, etcd, backups: [], findings: [] },
      { confirm: 1 },
    );
    const paged = d.state !== 'healthy' && d.margin <= 0;
    expect(alerts.map((a) => a.key)).toEqual(paged ? ['etcd-quorum'] : []);
    if (paged) {
      expect(alerts[0]!.title).toBe(stateTitle(d));
      expect(cli.endsWith(stateMeaning(d))).toBe(true);
    }
    // The page's gauge says the margin as the table words it.
    expect(panel.marginWords).toMatch(new RegExp(`^margin ${d.margin}: `));
  });

  it('doctor and the alert word a lost quorum with the same consequence', () => {
    const d = diagnose(cluster(3, [0, 1]));
    const etcd = { state: d.state, margin: d.margin, votingMembers: 3, reachableVoting: 1, down: ['cp1', 'cp2'] };
    const { alerts } = evaluateAlerts(
      EMPTY_ALERT_STATE,
      { at: 1, since: 0, etcd, backups: [], findings: [] },
      { confirm: 1 },
    );
    const consequence = QUORUM_LOST_CONSEQUENCE.replace(/^r/, 'R');
    expect(d.findings[0]!.message).toContain(consequence);
    expect(alerts[0]!.detail).toContain(consequence);
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
