import type { EndpointProbe, MemberEntry } from '../../../src/domain/probe.js';

export const IDS = ['101', '202', '303', '404', '505'];

export function memberList(n: number, opts: { learners?: number[]; unstarted?: number[] } = {}): MemberEntry[] {
  return IDS.slice(0, n).map((id, i) => ({
    id,
    name: opts.unstarted?.includes(i) ? '' : `cp${i + 1}`,
    peerURLs: [`http://10.0.0.${i + 1}:2380`],
    clientURLs: opts.unstarted?.includes(i) ? [] : [`http://10.0.0.${i + 1}:2379`],
    isLearner: opts.learners?.includes(i) ?? false,
  }));
}

export interface ProbeOptions {
  down?: number[];
  learners?: number[];
  unstarted?: number[];
  leader?: number | null;
  raft?: number[];
  applied?: number[];
  alarms?: EndpointProbe['alarms'];
  readFailing?: number[];
  /** Members whose member list is missing one entry (a membership change seen differently). */
  skewedList?: number[];
}

/** Probes of an n-member cluster (cp1..cpN, leader cp1 unless told otherwise), all healthy unless told otherwise. */
export function probes(n: number, o: ProbeOptions = {}): EndpointProbe[] {
  const list = memberList(n, o);
  const leader = o.leader === undefined ? 0 : o.leader;
  return list
    .filter((_, i) => !o.unstarted?.includes(i))
    .map((m) => {
      const i = list.indexOf(m);
      const endpoint = m.clientURLs[0]!;
      if (o.down?.includes(i)) return { endpoint, error: `${endpoint}: connection refused`, elapsedMs: 3 };
      const raftIndex = o.raft?.[i] ?? 5000;
      return {
        endpoint,
        elapsedMs: 5,
        members: o.skewedList?.includes(i) ? list.slice(0, -1) : list,
        alarms: o.alarms ?? [],
        linearizableRead: !o.readFailing?.includes(i),
        serializableRead: true,
        status: {
          memberId: m.id,
          leaderId: leader === null ? '0' : IDS[leader]!,
          version: '3.4.23',
          dbSize: 1_000_000,
          raftTerm: 4,
          raftIndex,
          raftAppliedIndex: o.applied?.[i] ?? raftIndex,
          isLearner: m.isLearner,
          errors: [],
        },
      };
    });
}
