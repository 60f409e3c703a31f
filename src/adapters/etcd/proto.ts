import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as Grpc from '@grpc/grpc-js';
import { grpc, protoLoader } from './grpc-lazy.js';

/**
 * The raw gRPC layer: the vendored etcd proto loaded at runtime. 64-bit integers stay decimal strings here
 * (a member id does not fit a JS number); mapping.ts converts to number only where the value is small enough.
 */

/** proto/ sits at the repo (package) root: ../../../proto from src/adapters/etcd and from dist/adapters/etcd alike. */
function protoDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [resolve(here, '../../../proto'), resolve(here, '../../../../proto')];
  const found = candidates.find((dir) => existsSync(join(dir, 'etcd.proto')));
  if (!found) throw new Error(`etcd proto files not found (looked in ${candidates.join(', ')})`);
  return found;
}

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

export interface RawSnapshotResponse {
  header: RawHeader | null;
  remaining_bytes: Long;
  blob: Buffer;
  version: string;
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

type ServiceCtor = Grpc.ServiceClientConstructor;

export interface EtcdServices {
  KV: ServiceCtor;
  Lease: ServiceCtor;
  Cluster: ServiceCtor;
  Maintenance: ServiceCtor;
  Auth: ServiceCtor;
}

let cached: EtcdServices | undefined;

/** Loaded once per process: parsing the proto costs a few ms and the result is immutable. */
export function etcdServices(): EtcdServices {
  if (cached) return cached;
  const dir = protoDir();
  const definition = protoLoader().loadSync(join(dir, 'etcd.proto'), {
    includeDirs: [dir],
    keepCase: true,
    longs: String,
    enums: String,
    bytes: Buffer,
    defaults: true,
    oneofs: true,
  });
  const pkg = grpc().loadPackageDefinition(definition).etcdserverpb as Record<string, ServiceCtor>;
  const get = (name: string): ServiceCtor => {
    const ctor = pkg[name];
    if (!ctor) throw new Error(`etcd proto has no service ${name}`);
    return ctor;
  };
  cached = {
    KV: get('KV'),
    Lease: get('Lease'),
    Cluster: get('Cluster'),
    Maintenance: get('Maintenance'),
    Auth: get('Auth'),
  };
  return cached;
}
