import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import {
  type Alert,
  type AlertState,
  alertsConfigSchema,
  EMPTY_ALERT_STATE,
  evaluateAlerts,
  type Observations,
} from '../../src/domain/alerts.js';

const MIN = 60_000;
const HOUR = 60 * MIN;

function etcd(reachable: number, voting = 3, down: string[] = []): Observations['etcd'] {
  const quorum = Math.floor(voting / 2) + 1;
  const margin = reachable - quorum;
  const state = reachable === 0 ? 'unreachable' : margin < 0 ? 'quorum-lost' : margin === 0 ? 'degraded' : 'healthy';
  return { state, margin, votingMembers: voting, reachableVoting: reachable, down };
}

/** Feeds observations in order; returns every alert sent, as "key status/level". */
function run(steps: Array<Partial<Observations>>, confirm = 2): { sent: string[]; alerts: Alert[]; state: AlertState } {
  let state = EMPTY_ALERT_STATE;
  const alerts: Alert[] = [];
  steps.forEach((step, i) => {
    const out = evaluateAlerts(state, { at: i * 1000, since: 0, backups: [], findings: [], ...step }, { confirm });
    // The state is plain data: it survives JSON (a restart that keeps it).
    state = JSON.parse(JSON.stringify(out.state));
    alerts.push(...out.alerts);
  });
  return { sent: alerts.map((a) => `${a.key} ${a.status}/${a.level}`), alerts, state };
}

describe('evaluateAlerts: etcd quorum', () => {
  it('sends nothing while healthy', () => {
    expect(run([{ etcd: etcd(3) }, { etcd: etcd(3) }]).sent).toEqual([]);
  });

  it('one alert per change of level, confirmed by two observations, and one resolve', () => {
    const steps = [
      etcd(3),
      etcd(2, 3, ['cp2']),
      etcd(2, 3, ['cp2']),
      etcd(2, 3, ['cp2']),
      etcd(1, 3, ['cp2', 'cp3']),
      etcd(1, 3, ['cp2', 'cp3']),
      etcd(1, 3, ['cp2', 'cp3']),
      etcd(2, 3, ['cp2']),
      etcd(2, 3, ['cp2']),
      etcd(3),
      etcd(3),
      etcd(3),
    ].map((e) => ({ etcd: e }));
    const { sent, alerts } = run(steps);
    expect(sent).toEqual([
      'etcd-quorum firing/zero-margin',
      'etcd-quorum firing/quorum-lost',
      'etcd-quorum firing/zero-margin',
      'etcd-quorum resolved/zero-margin',
    ]);
    expect(alerts[0]).toMatchObject({
      severity: 'warning',
      title: 'etcd is DEGRADED: one more failure stops etcd',
      at: 2000,
    });
    expect(alerts[0]!.detail).toMatch(
      /^2 of 3 voting members answer, 2 needed for quorum \(margin 0\)\. Down: cp2\. Bring back cp2 /,
    );
    expect(alerts[1]).toMatchObject({
      severity: 'critical',
      title: 'etcd is QUORUM-LOST: it accepts no changes until enough members are back',
    });
    expect(alerts[3]).toMatchObject({ status: 'resolved', title: 'etcd quorum margin restored', since: 2000 });
    expect(alerts[3]!.detail).toMatch(/^Cleared after 8s\./);
  });

  it('a single odd probe (a flap) sends nothing', () => {
    const { sent, state } = run([
      { etcd: etcd(3) },
      { etcd: etcd(2) },
      { etcd: etcd(3) },
      { etcd: etcd(2) },
      { etcd: etcd(3) },
    ]);
    expect(sent).toEqual([]);
    expect(state.pending).toEqual({});
  });

  it('confirm: 1 fires on the first observation; unreachable is its own level', () => {
    expect(run([{ etcd: etcd(0) }, { etcd: etcd(3) }], 1).sent).toEqual([
      'etcd-quorum firing/unreachable',
      'etcd-quorum resolved/unreachable',
    ]);
  });

  it('no probe yet is no opinion: an active alert stays', () => {
    const { sent, state } = run([{ etcd: etcd(1) }, { etcd: etcd(1) }, { etcd: undefined }, { etcd: undefined }]);
    expect(sent).toEqual(['etcd-quorum firing/quorum-lost']);
    expect(state.active['etcd-quorum']?.level).toBe('quorum-lost');
  });
});

describe('evaluateAlerts: backups, drills, schedule findings', () => {
  const every = HOUR;
  const backup = (over: Partial<Observations['backups'][number]>) => ({ kind: 'etcd', everyMs: every, ...over });

  it('a failed run fires at once and resolves on the next good run', () => {
    let state = EMPTY_ALERT_STATE;
    const at = 10 * MIN;
    const step = (b: Observations['backups'][number]) => {
      const out = evaluateAlerts(state, { at, since: 0, backups: [b], findings: [] });
      state = out.state;
      return out.alerts.map((a) => `${a.key} ${a.status}`);
    };
    expect(step(backup({ lastRun: { at, ok: false, error: 'no etcd member answered' }, lastSuccessAt: 0 }))).toEqual([
      'backup-failed/etcd firing',
    ]);
    expect(step(backup({ lastRun: { at, ok: false, error: 'again' }, lastSuccessAt: 0 }))).toEqual([]);
    expect(step(backup({ lastRun: { at, ok: true }, lastSuccessAt: at }))).toEqual(['backup-failed/etcd resolved']);
  });

  it('stale once older than the schedule plus grace (half the interval, at least 10 min); counts from start without any backup', () => {
    const at = (t: number, b: Partial<Observations['backups'][number]>) => ({ at: t, since: 0, backups: [backup(b)] });
    const { sent, alerts } = run([
      at(HOUR + 29 * MIN, {}),
      at(HOUR + 31 * MIN, {}),
      at(HOUR + 32 * MIN, { lastSuccessAt: HOUR + 32 * MIN }),
      at(3 * HOUR + 3 * MIN, { lastSuccessAt: HOUR + 32 * MIN }),
    ]);
    expect(sent).toEqual([
      'backup-stale/etcd firing/stale',
      'backup-stale/etcd resolved/stale',
      'backup-stale/etcd firing/stale',
    ]);
    expect(alerts[0]!.detail).toBe('Scheduled every 1h, but there is none.');
    expect(alerts[2]!.detail).toBe('Scheduled every 1h, but the newest is 1h31m old.');
  });

  it('a failed drill fires; a passing one resolves', () => {
    const v = (ok: boolean) => ({
      backups: [backup({ lastSuccessAt: 0, lastVerify: { at: 0, ok, problems: ok ? [] : ['HashKV differs'] } })],
    });
    const { sent, alerts } = run([v(false), v(false), v(true)]);
    expect(sent).toEqual(['verify-failed/etcd firing/failed', 'verify-failed/etcd resolved/failed']);
    expect(alerts[0]!.detail).toBe('HashKV differs');
  });

  it('a schedule finding fires when it appears, once, whatever its message says later, and resolves when gone', () => {
    const f = (message: string) => ({
      severity: 'error' as const,
      code: 'quorum-loss',
      nodes: ['cp1', 'cp2'],
      message,
    });
    const { sent } = run([
      { findings: [f('first: Monday'), { severity: 'info', code: 'no-reboots', nodes: [], message: 'x' }] },
      { findings: [f('first: next Monday')] },
      { findings: [] },
    ]);
    expect(sent).toEqual(['check/quorum-loss/cp1,cp2 firing/error', 'check/quorum-loss/cp1,cp2 resolved/error']);
  });
});

describe('alerts config', () => {
  it('accepts webhooks with a format and refuses other URLs and formats', () => {
    expect(
      v.safeParse(alertsConfigSchema, { webhooks: [{ url: 'https://hooks.slack.com/x', format: 'slack' }] }).success,
    ).toBe(true);
    expect(v.safeParse(alertsConfigSchema, { webhooks: [{ url: 'ftp://x' }] }).success).toBe(false);
    expect(v.safeParse(alertsConfigSchema, { webhooks: [{ url: 'http://x', format: 'teams' }] }).success).toBe(false);
    expect(v.safeParse(alertsConfigSchema, { webhook: [] }).success).toBe(false);
  });
});

describe('evaluateAlerts: the change-log follower', () => {
  const lag = (seconds: number) => ({ follow: { lagSeconds: seconds, lagRevisions: seconds * 10 } });

  it('warns when the follower lags past 30 s (confirmed twice), and resolves when it catches up', () => {
    const { sent, alerts } = run([lag(5), lag(31), lag(45), lag(0.5), lag(0.2)]);
    expect(sent).toEqual(['etcdlog-lag firing/lagging', 'etcdlog-lag resolved/lagging']);
    expect(alerts[0]!.severity).toBe('warning');
    expect(alerts[0]!.detail).toMatch(/45 s \(450 revisions\) behind/);
  });

  it('a gap fires at once (critical) and clears an hour later', () => {
    const gap = { lagSeconds: 0, lagRevisions: 0, lastGap: { at: 0, message: 'etcd compacted its history' } };
    const first = evaluateAlerts(EMPTY_ALERT_STATE, { at: 1000, since: 0, backups: [], findings: [], follow: gap });
    expect(first.alerts.map((a) => `${a.key} ${a.status} ${a.severity}`)).toEqual(['etcdlog-gap firing critical']);
    const later = evaluateAlerts(first.state, { at: HOUR + 1, since: 0, backups: [], findings: [], follow: gap });
    expect(later.alerts.map((a) => `${a.key} ${a.status}`)).toEqual(['etcdlog-gap resolved']);
  });

  it('no follower, no opinion', () => {
    expect(run([{}, {}]).sent).toEqual([]);
  });
});
