import type { AlarmEntry, MemberEntry, MemberStatus } from '../../domain/probe.js';
import type { Long, RawAlarmResponse, RawMember, RawStatus } from './proto.js';

/** Keys and values travel as bytes. NEVER hand a string to a bytes field: protobufjs would base64-decode it. */
export function toBytes(value: string | Buffer): Buffer {
  return typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
}

/**
 * The range end that selects every key starting with `prefix` (etcd's GetPrefixRangeEnd): the prefix with its last
 * byte below 0xff incremented and the rest dropped; "\0" (= to the end of the keyspace) if there is no such byte.
 */
export function prefixRangeEnd(prefix: Buffer): Buffer {
  for (let i = prefix.length - 1; i >= 0; i--) {
    if (prefix[i]! < 0xff) {
      const end = Buffer.from(prefix.subarray(0, i + 1));
      end[i] = prefix[i]! + 1;
      return end;
    }
  }
  return Buffer.from([0]);
}

/** Counts, sizes and raft indexes fit a JS number for any real cluster; ids do not, so they stay strings. */
export function toNumber(value: Long | number | undefined): number {
  const n = Number(value ?? 0);
  if (!Number.isSafeInteger(n)) throw new Error(`etcd returned a value too large for this field: ${value}`);
  return n;
}

export function toMember(raw: RawMember): MemberEntry {
  return {
    id: String(raw.ID),
    name: raw.name,
    peerURLs: [...raw.peerURLs],
    clientURLs: [...raw.clientURLs],
    isLearner: Boolean(raw.isLearner),
  };
}

export function toStatus(raw: RawStatus): MemberStatus {
  const status: MemberStatus = {
    memberId: String(raw.header?.member_id ?? '0'),
    leaderId: String(raw.leader ?? '0'),
    version: raw.version,
    dbSize: toNumber(raw.dbSize),
    raftTerm: toNumber(raw.raftTerm),
    raftIndex: toNumber(raw.raftIndex),
    isLearner: Boolean(raw.isLearner),
    errors: [...(raw.errors ?? [])],
  };
  if (raw.header?.cluster_id !== undefined) status.clusterId = String(raw.header.cluster_id);
  if (raw.header?.revision !== undefined) status.revision = toNumber(raw.header.revision);
  // Both are 0 only when the server predates 3.4 and left the field out: report "unknown", not zero.
  if (raw.raftAppliedIndex && raw.raftAppliedIndex !== '0') status.raftAppliedIndex = toNumber(raw.raftAppliedIndex);
  if (raw.dbSizeInUse && raw.dbSizeInUse !== '0') status.dbSizeInUse = toNumber(raw.dbSizeInUse);
  return status;
}

export function toAlarms(raw: RawAlarmResponse): AlarmEntry[] {
  // etcd (through 3.6) defines exactly NONE, NOSPACE and CORRUPT; enums: String hands us the name.
  return raw.alarms.map((a) => ({ memberId: String(a.memberID), alarm: a.alarm }));
}
