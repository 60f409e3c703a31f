import type { Diagnosis } from '../domain/diagnosis.js';
import { stateHeadline } from '../domain/words.js';
import type { EventLevel } from './events.js';

/**
 * What changed between two diagnoses, in words for the event log: state, members going and coming, leader changes.
 * Pure. A leader change counts when a member other than the last known leader leads (an election with no leader for
 * a while, then the old leader again, is not a change).
 */
export interface EtcdTrack {
  state: Diagnosis['state'] | null;
  lastLeader: string | null;
  leaderChanges: number;
  reachable: Record<string, boolean>;
}

export const EMPTY_TRACK: EtcdTrack = { state: null, lastLeader: null, leaderChanges: 0, reachable: {} };

export interface TrackEvent {
  level: EventLevel;
  message: string;
}

export function trackDiagnosis(
  prev: EtcdTrack,
  d: Diagnosis,
): { next: EtcdTrack; events: TrackEvent[]; changed: number } {
  const events: TrackEvent[] = [];
  const reachable: Record<string, boolean> = {};
  for (const m of d.members) {
    reachable[m.name] = m.reachable;
    const was = prev.reachable[m.name];
    if (was === true && !m.reachable) {
      events.push({ level: 'error', message: `${m.name} stopped answering (${m.error ?? 'no answer'})` });
    } else if (was === false && m.reachable) {
      events.push({ level: 'info', message: `${m.name} answers again` });
    }
  }
  let changed = 0;
  let lastLeader = prev.lastLeader;
  if (d.leader !== null && d.leader !== prev.lastLeader) {
    if (prev.lastLeader !== null) {
      changed = 1;
      events.push({ level: 'warning', message: `leader changed: ${prev.lastLeader} -> ${d.leader}` });
    }
    lastLeader = d.leader;
  }
  if (d.state !== prev.state) {
    const level: EventLevel = d.state === 'healthy' ? 'info' : d.state === 'degraded' ? 'warning' : 'error';
    events.push({ level, message: stateHeadline(d, { now: prev.state !== null }) });
  }
  return {
    next: { state: d.state, lastLeader, leaderChanges: prev.leaderChanges + changed, reachable },
    events,
    changed,
  };
}
