import { quorumOf, toleranceOf } from '../quorum.js';
import { type CheckFinding, nameList, type SourceRef } from './findings.js';
import { type Interval, MINUTE } from './types.js';
import { zoneClock } from './tz.js';

/** Findings about the shape of the cluster and its schedules rather than about a moment in time. */
export function structureFindings(voting: string[], rebootingVoting: string[]): CheckFinding[] {
  const n = voting.length;
  const base = { first: null, occurrences: 0, sources: [] as SourceRef[] };
  const out: CheckFinding[] = [];
  if (n === 0) {
    out.push({
      ...base,
      severity: 'warning',
      code: 'no-etcd-members',
      nodes: [],
      message:
        'no node has the etcd role in lifeboat.yaml, so quorum cannot be checked; add "etcd" to the roles ' +
        'of the nodes that run an etcd member (kubeadm: every control-plane node).',
    });
    return out;
  }
  if (n < 3) {
    const what =
      n === 1
        ? `a single etcd member (${voting[0]}) is the whole quorum: every reboot of it stops the cluster's control plane`
        : `2 etcd members (${nameList(voting)}) tolerate no failure: either one down stops writes`;
    out.push({
      ...base,
      severity: rebootingVoting.length > 0 ? 'warning' : 'info',
      code: 'few-members',
      nodes: voting,
      message: `${what}. Use 3 members to survive one reboot at a time.`,
    });
  }
  if (n % 2 === 0) {
    out.push({
      ...base,
      severity: 'warning',
      code: 'even-members',
      nodes: voting,
      message:
        `${n} etcd members need ${quorumOf(n)} for quorum and tolerate ${toleranceOf(n)} down, the same as ` +
        `${n - 1}: the extra member adds failure chances, not tolerance. Use an odd number (3 or 5).`,
    });
  }
  return out;
}

/**
 * More than `tolerance` etcd members reboot in the same window of the day, on different days: correct today, but a
 * single slip of a day in one line (the incident) puts them down together. Reported unless an actual quorum-loss
 * already names all of them.
 */
export function sameWindowFinding(
  members: { name: string; down: Interval[]; sources: SourceRef[] }[],
  tolerance: number,
  zone: string,
  from: number,
  to: number,
  quorumLossSets: string[][],
): CheckFinding | undefined {
  if (members.length < 2) return undefined;
  const clock = zoneClock(zone, from, to);
  const prints = members.map((m) => {
    const minutes = new Uint8Array(1440);
    for (const iv of m.down) {
      const startMinute = Math.floor((((clock.wallAt(iv.start) / MINUTE) % 1440) + 1440) % 1440);
      const length = Math.min(1440, Math.ceil((iv.end - iv.start) / MINUTE));
      for (let j = 0; j < length; j++) minutes[(startMinute + j) % 1440] = 1;
    }
    return minutes;
  });
  let best = -1;
  let bestCount = 0;
  for (let minute = 0; minute < 1440; minute++) {
    let count = 0;
    for (const p of prints) count += p[minute]!;
    if (count > bestCount) {
      bestCount = count;
      best = minute;
    }
  }
  if (best < 0 || bestCount < 2 || bestCount <= tolerance) return undefined;
  const inSet = prints.map((p) => p[best] === 1);
  const names = members.filter((_, i) => inSet[i]).map((m) => m.name);
  if (quorumLossSets.some((set) => names.every((n) => set.includes(n)))) return undefined;
  const all = (minute: number) => prints.every((p, i) => !inSet[i] || p[(minute + 1440) % 1440] === 1);
  let start = best;
  while (start > best - 1439 && all(start - 1)) start--;
  let end = best + 1;
  while (end < start + 1440 && all(end)) end++;
  const hhmm = (m: number) => {
    const x = ((m % 1440) + 1440) % 1440;
    return `${String(Math.floor(x / 60)).padStart(2, '0')}:${String(x % 60).padStart(2, '0')}`;
  };
  const window = end - start >= 1440 ? 'all day' : `${hhmm(start)}–${hhmm(end)} ${zone}`;
  const sources = members.filter((_, i) => inSet[i]).flatMap((m) => m.sources);
  return {
    severity: 'warning',
    code: 'same-window',
    nodes: names,
    first: null,
    occurrences: 0,
    timezone: zone,
    description: `the ${window} window of the day`,
    sources,
    message:
      `${nameList(names)} (${names.length} of ${members.length} etcd members) all reboot in the same ${window} ` +
      'window of the day, on different days: a one-day slip in any of these lines puts them down together and ' +
      'etcd loses quorum, as in the incident. Give each etcd member its own time slot (lifeboat check --suggest).',
  };
}

export function bootLoopFinding(ref: SourceRef, voting: boolean): CheckFinding {
  return {
    severity: 'error',
    code: 'boot-loop',
    nodes: [ref.node],
    first: null,
    occurrences: 0,
    sources: [ref],
    message:
      `${ref.node} reboots at every boot (${ref.origin}: ${ref.text}): the machine restarts as soon as it comes up ` +
      `and never stays up.${voting ? ' As an etcd member it is counted as down for the whole check.' : ''}`,
  };
}
