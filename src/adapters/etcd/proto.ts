/**
 * The shapes of the raw messages (proto/etcd.proto, decoded by wire.ts as proto-loader would: keepCase, longs as
 * strings, enums as names, defaults filled in). 64-bit integers stay decimal strings here (a member id does not fit
 * a JS number); mapping.ts converts to number only where the value is small enough.
 */

export type Long = string;

export interface RawHeader {
  cluster_id: Long;
  member_id: Long;
  revision: Long;
  raft_term: Long;
}

export interface RawKeyValue {
  key: Buffer;
  value: Buffer;
  create_revision: Long;
  mod_revision: Long;
  version: Long;
  lease: Long;
}

export interface RawMember {
  ID: Long;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
  isLearner: boolean;
}

export interface RawStatus {
  header: RawHeader;
  version: string;
  dbSize: Long;
  leader: Long;
  raftIndex: Long;
  raftTerm: Long;
  raftAppliedIndex: Long;
  errors: string[];
  dbSizeInUse: Long;
  isLearner: boolean;
}

export interface RawRangeResponse {
  header: RawHeader;
  kvs: RawKeyValue[];
  more: boolean;
  count: Long;
}

export interface RawMembersResponse {
  header: RawHeader;
  members: RawMember[];
}

export interface RawMemberAddResponse extends RawMembersResponse {
  member: RawMember;
}

export interface RawAlarmResponse {
  header: RawHeader;
  alarms: Array<{ memberID: Long; alarm: 'NONE' | 'NOSPACE' | 'CORRUPT' }>;
}

export interface RawHashKVResponse {
  header: RawHeader;
  hash: number;
  compact_revision: Long;
}

export interface RawLeaseGrantResponse {
  header: RawHeader;
  ID: Long;
  TTL: Long;
  error: string;
}

export interface RawLeaseKeepAliveResponse {
  header: RawHeader;
  ID: Long;
  TTL: Long;
}

export interface RawDeleteRangeResponse {
  header: RawHeader;
  deleted: Long;
}

export interface RawTxnResponse {
  header: RawHeader;
  succeeded: boolean;
}
