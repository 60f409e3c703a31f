import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../../src/adapters/config-file.js';
import { lockSlots } from '../../../src/domain/maintenance/lock-view.js';
import { MaintenanceMetrics } from '../../../src/domain/maintenance/metrics.js';
import { insideWindow, scheduleDue, wantReasons } from '../../../src/domain/maintenance/policy.js';
import { parseNodeRecord, parseRequest } from '../../../src/domain/maintenance/records.js';
import { agentSettings, DEFAULTS } from '../../../src/domain/maintenance/settings.js';
import { parseWindow } from '../../../src/domain/schedule/window.js';

const at = (iso: string) => Date.parse(iso);
const DAY = 86_400_000;

describe('maintenance window', () => {
  it('same-day window in UTC: start inclusive, end exclusive, listed days only', () => {
    const w = parseWindow({ days: ['sat', 'sun'], start: '03:00', end: '05:00' });
    expect(insideWindow(w, at('2026-11-28T03:00:00Z'))).toBe(true); // Saturday
    expect(insideWindow(w, at('2026-11-28T04:59:59Z'))).toBe(true);
    expect(insideWindow(w, at('2026-11-28T05:00:00Z'))).toBe(false);
    expect(insideWindow(w, at('2026-11-28T02:59:59Z'))).toBe(false);
    expect(insideWindow(w, at('2026-11-27T04:00:00Z'))).toBe(false); // Friday
  });

  it('a window past midnight belongs to the day it starts', () => {
    const w = parseWindow({ days: ['fri'], start: '22:00', end: '02:00' });
    expect(insideWindow(w, at('2026-11-27T23:00:00Z'))).toBe(true); // Friday night
    expect(insideWindow(w, at('2026-11-28T01:30:00Z'))).toBe(true); // Saturday early, Friday's window
    expect(insideWindow(w, at('2026-11-29T01:30:00Z'))).toBe(false); // Sunday early: Saturday has none
    expect(insideWindow(w, at('2026-11-27T01:30:00Z'))).toBe(false); // Friday early: Thursday has none
  });

  it("uses the window's time zone, across a DST change", () => {
    const w = parseWindow({ days: ['sun'], start: '03:00', end: '05:00', timezone: 'Europe/Berlin' });
    // 2026-03-29 is the spring-forward Sunday in Berlin (02:00 -> 03:00, UTC+2 afterwards).
    expect(insideWindow(w, at('2026-03-29T01:00:00Z'))).toBe(true); // 03:00 CEST
    expect(insideWindow(w, at('2026-03-29T00:30:00Z'))).toBe(false); // 01:30 CET
    const tokyo = parseWindow({ days: ['mon'], start: '04:00', end: '05:00', timezone: 'Asia/Tokyo' });
    expect(insideWindow(tokyo, at('2026-11-29T19:30:00Z'))).toBe(true); // Monday 04:30 in Tokyo
  });
});

describe('schedule due and wants', () => {
  const w = parseWindow({ days: ['sat'], start: '03:00', end: '05:00' });
  it('every 7d: due when never done or a week has passed, and only inside the window', () => {
    const now = at('2026-11-28T03:30:00Z');
    expect(scheduleDue({ everyMs: 7 * DAY, window: w, lastCompletedAt: undefined, now })).toBe(true);
    expect(scheduleDue({ everyMs: 7 * DAY, window: w, lastCompletedAt: now - 6 * DAY, now })).toBe(false);
    expect(scheduleDue({ everyMs: 7 * DAY, window: w, lastCompletedAt: now - 7 * DAY, now })).toBe(true);
    expect(scheduleDue({ everyMs: 7 * DAY, window: w, lastCompletedAt: undefined, now: now + 2 * 3_600_000 })).toBe(
      false,
    );
    expect(scheduleDue({ everyMs: undefined, window: w, lastCompletedAt: undefined, now })).toBe(false);
    expect(scheduleDue({ everyMs: DAY, window: undefined, lastCompletedAt: now - DAY, now })).toBe(true);
  });

  it('wants lists every reason that applies', () => {
    expect(wantReasons({ sentinel: false, requested: false, scheduleDue: false })).toEqual([]);
    expect(wantReasons({ sentinel: true, sentinelCommand: true, requested: true, scheduleDue: true })).toEqual([
      'sentinel',
      'sentinel-command',
      'schedule',
      'request',
    ]);
    expect(wantReasons({ sentinel: false, sentinelCommand: false, requested: true, scheduleDue: false })).toEqual([
      'request',
    ]);
  });
});

describe('agent settings from lifeboat.yaml, env and flags', () => {
  const config = parseConfigText(
    `etcd: { endpoints: [http://127.0.0.1:2379] }
nodes:
  - name: cp1
    roles: [control-plane, etcd]
    maintenance: { every: 7d, window: { days: [sat], start: "03:00", end: "05:00", timezone: Asia/Tokyo }, sentinel: /tmp/s1 }
  - name: cp2
    roles: [control-plane, etcd]
    etcdMember: etcd-b
  - name: w1
    roles: [worker]
    maintenance: { rebootCommand: "/sbin/shutdown -r now" }
maintenance: { settle: 30s, ttl: 10m, maxRaftLag: 500, requireVerifiedBackupWithin: 24h, onStaleBackup: warn, maxConcurrentWorkers: 2, pollInterval: 10s }
`,
    'lifeboat.yaml',
  );

  it('reads the node and the maintenance section; flags and env override', () => {
    const s = agentSettings(config, { node: 'cp1' });
    expect(s).toMatchObject({
      node: 'cp1',
      kind: 'etcd-member',
      member: 'cp1',
      sentinel: '/tmp/s1',
      everyMs: 7 * DAY,
      pollMs: 10_000,
      settleMs: 30_000,
      ttlMs: 600_000,
      maxConcurrentWorkers: 2,
      policy: { maxRaftLag: 500, requireVerifiedBackupWithinMs: DAY, onStaleBackup: 'warn' },
    });
    expect(s.window?.timezone).toBe('Asia/Tokyo');
    expect(s.rebootCommand).toBeUndefined();
    const env = { LIFEBOAT_AGENT_POLL: '200ms', LIFEBOAT_AGENT_TTL: '5s' };
    expect(agentSettings(config, { node: 'cp1', settle: '1s' }, env)).toMatchObject({
      pollMs: 200,
      ttlMs: 5000,
      settleMs: 1000,
    });
    expect(agentSettings(config, { node: 'cp2' })).toMatchObject({
      member: 'etcd-b',
      sentinel: '/var/run/reboot-required',
    });
    expect(agentSettings(config, { node: 'w1' })).toMatchObject({
      kind: 'worker',
      rebootCommand: '/sbin/shutdown -r now',
    });
    expect(agentSettings(config, { node: 'w1' }).member).toBeUndefined();
  });

  it('defaults without a config; an unknown node or a bad duration is a problem, not a guess', () => {
    expect(agentSettings(undefined, { node: 'n1' })).toMatchObject({
      kind: 'etcd-member',
      member: 'n1',
      pollMs: DEFAULTS.pollMs,
      ttlMs: DEFAULTS.ttlMs,
      policy: { maxRaftLag: 1000, onStaleBackup: 'block' },
    });
    expect(() => agentSettings(config, { node: 'cp9' })).toThrow(
      'node "cp9" is not in the config (nodes: cp1, cp2, w1)',
    );
    expect(() => agentSettings(config, { node: 'cp1', poll: 'soon' })).toThrow('--poll "soon" is not a duration');
    expect(() => agentSettings(config, { node: 'cp1', ttl: '1s' })).toThrow('must be between 2s and 7d, got 1s');
    // A timer past 24.8 days fires at once: an unbounded poll or TTL meant a tight loop.
    expect(() => agentSettings(config, { node: 'cp1', poll: '999999999h' })).toThrow('between 50ms and 1h');
    expect(() => agentSettings(config, { node: 'cp1' }, { LIFEBOAT_AGENT_TTL: '30d' })).toThrow('got 30d');
  });

  it('lock slots: one for all etcd members, N for workers', () => {
    expect(lockSlots('etcd-member', 5)).toEqual(['etcd-member']);
    expect(lockSlots('worker', 2)).toEqual(['worker-0', 'worker-1']);
    expect(lockSlots('worker', 0)).toEqual(['worker-0']);
  });
});

describe('records and metrics', () => {
  it('records that do not parse read as absent', () => {
    expect(parseRequest('{"node":"cp1","by":"a","at":"x"}')).toMatchObject({ node: 'cp1' });
    expect(parseRequest('nonsense')).toBeUndefined();
    expect(parseRequest('{"node":1}')).toBeUndefined();
    expect(parseNodeRecord('{"node":"cp1","phase":"idle"}')).toEqual({ node: 'cp1', phase: 'idle', reboots: 0 });
    expect(parseNodeRecord('{"node":"cp1","phase":"exploding"}')).toBeUndefined();
  });

  it('metrics render in the Prometheus text format', () => {
    const m = new MaintenanceMetrics('cp"1');
    m.countRefusals(['member-down', 'margin', 'member-down']);
    m.countRefusals(['member-down']);
    m.countReboot();
    m.setWanted(true);
    m.setLockHolder('etcd-member', 'cp2');
    const text = m.render();
    expect(text).toContain('# TYPE lifeboat_maintenance_reboots_total counter');
    expect(text).toContain('lifeboat_maintenance_reboots_total{node="cp\\"1"} 1');
    expect(text).toContain('lifeboat_maintenance_refusals_total{node="cp\\"1",reason="member-down"} 2');
    expect(text).toContain('lifeboat_maintenance_refusals_total{node="cp\\"1",reason="margin"} 1');
    expect(text).toContain('lifeboat_maintenance_lock_holder{slot="etcd-member",holder="cp2"} 1');
    expect(text).toContain('lifeboat_maintenance_wanted{node="cp\\"1"} 1');
    expect(m.snapshot()).toEqual({ reboots: 1, wanted: 1, 'refusals.member-down': 2, 'refusals.margin': 1 });
    m.setLockHolder('etcd-member', undefined);
    expect(m.render()).not.toContain('holder="cp2"');
  });
});
