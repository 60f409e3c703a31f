import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../../src/adapters/config-file.js';
import { diagnose } from '../../../src/domain/diagnosis.js';
import { scheduleReport } from '../../../src/server/calendar.js';
import { EMPTY_TRACK, trackDiagnosis } from '../../../src/server/etcd-tracker.js';
import { buildTimeline, summarizeKinds } from '../../../src/server/timeline.js';

const incident = parseConfigText(readFileSync('examples/incident.yaml', 'utf8'), 'examples/incident.yaml');
// Wednesday 2026-01-07 12:00 UTC: the next two Mondays are 12 and 19 January.
const NOW = Date.parse('2026-01-07T12:00:00Z');

describe('scheduleReport: the 14-day calendar', () => {
  const report = scheduleReport(incident, 'examples/incident.yaml', NOW);
  const cal = report.calendar;

  it('is in the etcd members’ zone, 14 local days from today', () => {
    expect(cal.zone).toBe('Europe/Berlin');
    expect(cal.days.map((d) => d.date)[0]).toBe('2026-01-07');
    expect(cal.days).toHaveLength(14);
    expect(cal.days[13]!.date).toBe('2026-01-20');
    expect(cal.from).toBe('2026-01-07T00:00:00+01:00');
  });

  it('has every planned reboot at 04:00-04:10 local, and the two Monday quorum-loss windows in red', () => {
    const monday = cal.days.find((d) => d.date === '2026-01-12')!;
    expect(monday.label).toBe('Mon 12 Jan');
    expect(monday.reboots.map((r) => r.node).sort()).toEqual(['cp1', 'cp2']);
    expect(monday.reboots[0]).toMatchObject({ start: '2026-01-12T04:00:00+01:00', end: '2026-01-12T04:10:00+01:00' });
    expect(monday.reboots[0]!.s).toBeCloseTo(4 / 24, 6);
    expect(monday.danger).toEqual([
      expect.objectContaining({
        code: 'quorum-loss',
        severity: 'error',
        nodes: ['cp1', 'cp2'],
        start: '2026-01-12T04:00:00+01:00',
      }),
    ]);
    const red = cal.windows.filter((w) => w.severity === 'error').map((w) => w.text);
    expect(red).toEqual([
      'Mon 12 Jan 04:00–04:10 Europe/Berlin: cp1 and cp2 down together: etcd loses quorum',
      'Mon 19 Jan 04:00–04:10 Europe/Berlin: cp1 and cp2 down together: etcd loses quorum',
    ]);
    const wednesday = cal.days.find((d) => d.date === '2026-01-14')!;
    expect(wednesday.danger.map((z) => [z.code, z.severity, z.nodes])).toEqual([['zero-margin', 'warning', ['cp3']]]);
    expect(cal.days.find((d) => d.date === '2026-01-08')!.reboots.map((r) => [r.node, r.etcd])).toEqual([
      ['w1', false],
    ]);
  });

  it('carries the same check report as `lifeboat check --json` over a year', () => {
    expect(report.check.ok).toBe(false);
    expect(report.check.horizon.days).toBe(366);
    expect(report.check.findings[0]).toMatchObject({ severity: 'error', code: 'quorum-loss', nodes: ['cp1', 'cp2'] });
  });

  it('handles a DST day (25 hours) without drifting', () => {
    const dst = scheduleReport(incident, 'x', Date.parse('2026-10-20T12:00:00Z')).calendar;
    const sunday = dst.days.find((d) => d.date === '2026-10-25')!;
    expect(Date.parse(sunday.end) - Date.parse(sunday.start)).toBe(25 * 3_600_000);
    const monday = dst.days.find((d) => d.date === '2026-10-26')!;
    expect(monday.danger[0]!.start).toBe('2026-10-26T04:00:00+01:00');
  });
});

describe('buildTimeline / summarizeKinds', () => {
  const now = Date.parse('2026-01-07T12:00:00Z');
  const items = [
    {
      kind: 'etcd',
      name: 'etcd/a.db',
      createdAt: now - 3_600_000,
      size: 100,
      verified: { ok: true, at: now - 3_500_000, problems: [] },
    },
    {
      kind: 'etcd',
      name: 'etcd/b.db',
      createdAt: now - 86_400_000,
      size: 90,
      verified: { ok: false, at: now - 86_000_000, problems: ['x'] },
    },
    { kind: 'etcd', name: 'etcd/old.db', createdAt: now - 40 * 86_400_000, size: 80, verified: null },
    { kind: 'mysql/shop', name: 'mysql/s.sql.gz', createdAt: now - 7_200_000, size: 50, verified: null },
  ];
  const failures = [{ kind: 'etcd', at: now - 600_000, error: 'no etcd member answered' }];

  it('puts taken / verified / failed in the right local day, newest rows first', () => {
    const t = buildTimeline(items, failures, ['etcd'], now, 'UTC');
    expect(t.days).toHaveLength(30);
    expect(t.days[29]!.date).toBe('2026-01-07');
    expect(t.kinds.map((k) => k.kind)).toEqual(['etcd', 'mysql/shop']);
    const etcd = t.kinds[0]!.cells;
    expect(etcd[29]).toEqual({ taken: 1, verified: 1, failed: 1 });
    expect(etcd[28]).toEqual({ taken: 1, verified: 0, failed: 1 });
    expect(etcd.slice(0, 28).every((c) => c.taken + c.verified + c.failed === 0)).toBe(true);
    expect(t.rows.map((r) => [r.kind, r.status])).toEqual([
      ['etcd', 'failed'],
      ['etcd', 'verified'],
      ['mysql/shop', 'unverified'],
      ['etcd', 'verify-failed'],
    ]);
  });

  it('summarises each kind: newest, newest verified, size, latest drill', () => {
    const kinds = summarizeKinds(items, failures, [
      { kind: 'etcd', everyMs: 3_600_000 },
      { kind: 'helm', everyMs: 86_400_000 },
    ]);
    expect(kinds.map((k) => k.kind)).toEqual(['etcd', 'helm', 'mysql/shop']);
    expect(kinds[0]).toMatchObject({
      count: 3,
      lastSuccessAt: now - 3_600_000,
      lastVerifiedAt: now - 3_600_000,
      bytes: 100,
      verifiable: true,
    });
    expect(kinds[0]!.lastVerify).toEqual({ ok: true, at: now - 3_500_000, problems: [] });
    expect(kinds[1]).toMatchObject({ count: 0, lastSuccessAt: null, verifiable: false, everyMs: 86_400_000 });
  });
});

describe('trackDiagnosis', () => {
  const probe = (leader: string, down: string[] = []) =>
    diagnose(
      ['1', '2', '3']
        .filter((id) => !down.includes(`cp${id}`))
        .map((id) => ({
          endpoint: `http://127.0.0.1:${id}`,
          elapsedMs: 1,
          linearizableRead: true,
          status: {
            memberId: id,
            leaderId: leader,
            version: '3.4.23',
            dbSize: 1,
            raftTerm: 2,
            raftIndex: 10,
            isLearner: false,
            errors: [],
          },
          members: ['1', '2', '3'].map((m) => ({
            id: m,
            name: `cp${m}`,
            peerURLs: [],
            clientURLs: [`http://127.0.0.1:${m}`],
            isLearner: false,
          })),
        })),
    );

  it('counts leader changes and words member and state transitions', () => {
    let t = trackDiagnosis(EMPTY_TRACK, probe('1'));
    expect(t.events.map((e) => e.message)).toEqual([
      'etcd is HEALTHY: 3 of 3 voting members answer, 2 needed for quorum (margin 1); it can lose 1 more member and keep working',
    ]);
    t = trackDiagnosis(t.next, probe('2', ['cp1']));
    expect(t.changed).toBe(1);
    expect(t.events.map((e) => e.message)).toEqual([
      expect.stringMatching(/^cp1 stopped answering/),
      'leader changed: cp1 -> cp2',
      'etcd is now DEGRADED: 2 of 3 voting members answer, 2 needed for quorum (margin 0); one more failure stops etcd',
    ]);
    t = trackDiagnosis(t.next, probe('0'));
    expect(t.changed).toBe(0);
    t = trackDiagnosis(t.next, probe('2'));
    expect(t.next.leaderChanges).toBe(1);
  });
});
