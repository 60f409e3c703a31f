import fc from 'fast-check';
import type protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import * as generated from '../../../src/adapters/etcd/generated/etcd-descriptors.js';
import {
  createWireCodec,
  type DescriptorTables,
  decodeMessage,
  encodeMessage,
  type WireCodec,
} from '../../../src/adapters/etcd/wire.js';
import {
  genScript,
  loadEtcdRoot,
  messageArb,
  oracleDecode,
  oracleEncode,
  outcome,
  parseRoot,
  shape,
} from './wire-support.js';

const etcdRoot = loadEtcdRoot();
const etcdTables: DescriptorTables = generated;
const etcdCodec: WireCodec = { encodeMessage, decodeMessage };

/** Scalar kinds, packing, maps and oneofs that etcd.proto does not exercise. */
const TEST_PROTO = `
syntax = "proto3";
package wiretest;

enum Color { RED = 0; GREEN = 1; BLUE = 2; }

message Scalars {
  double d = 1; float f = 2; int32 i32 = 3; uint32 u32 = 4; sint32 s32 = 5; fixed32 f32 = 6; sfixed32 sf32 = 7;
  int64 i64 = 8; uint64 u64 = 9; sint64 s64 = 10; fixed64 f64 = 11; sfixed64 sf64 = 12;
  bool b = 13; string s = 14; bytes by = 15; Color color = 16;
  optional int32 maybe = 17;
  int32 far = 536870911;
}

message Packed {
  repeated double d = 1; repeated float f = 2; repeated int32 i32 = 3; repeated uint32 u32 = 4;
  repeated sint32 s32 = 5; repeated fixed32 f32 = 6; repeated sfixed32 sf32 = 7; repeated int64 i64 = 8;
  repeated uint64 u64 = 9; repeated sint64 s64 = 10; repeated fixed64 f64 = 11; repeated sfixed64 sf64 = 12;
  repeated bool b = 13; repeated Color color = 14;
  repeated string s = 15; repeated bytes by = 16; repeated Scalars msgs = 17;
}

// Same field numbers as Packed, written unpacked.
message Unpacked {
  repeated double d = 1 [packed = false]; repeated float f = 2 [packed = false];
  repeated int32 i32 = 3 [packed = false]; repeated uint32 u32 = 4 [packed = false];
  repeated sint32 s32 = 5 [packed = false]; repeated fixed32 f32 = 6 [packed = false];
  repeated sfixed32 sf32 = 7 [packed = false]; repeated int64 i64 = 8 [packed = false];
  repeated uint64 u64 = 9 [packed = false]; repeated sint64 s64 = 10 [packed = false];
  repeated fixed64 f64 = 11 [packed = false]; repeated sfixed64 sf64 = 12 [packed = false];
  repeated bool b = 13 [packed = false]; repeated Color color = 14 [packed = false];
  repeated string s = 15; repeated bytes by = 16; repeated Scalars msgs = 17;
}

message Maps {
  map<string, string> ss = 1; map<int32, Scalars> im = 2; map<string, bytes> sb = 3;
  map<uint32, Color> ue = 4; map<sint32, int64> sl = 5; map<fixed32, double> fd = 6;
}

message Oneofs {
  oneof choice { Scalars msg = 1; string text = 2; Color color = 3; sint64 big = 4; }
  int32 plain = 5;
  oneof other { bytes raw = 6; bool flag = 7; }
  Oneofs child = 8;
  repeated Oneofs children = 9;
}
`;
const testRoot = parseRoot(TEST_PROTO);
const testTables: DescriptorTables = genScript.describeRoot(testRoot);
const testCodec = createWireCodec(testTables);

/** Our encode equals protobufjs byte for byte (or both refuse the value); both read the bytes back alike. */
function checkEncode(root: protobuf.Root, codec: WireCodec, typeName: string, value: unknown): void {
  const theirs = outcome(() => oracleEncode(root, typeName, value));
  const ours = outcome(() => codec.encodeMessage(typeName, value));
  expect(ours.ok, `ours: ${ours.ok ? 'encoded' : String(ours.error)}`).toBe(theirs.ok);
  if (!ours.ok || !theirs.ok) return;
  expect(ours.value.toString('hex')).toBe(theirs.value.toString('hex'));
  expect(oracleDecode(root, typeName, ours.value)).toStrictEqual(oracleDecode(root, typeName, theirs.value));
}

/** Our decode equals protobufjs toObject(decode) with proto-loader's options: values, Buffer types, key order. */
function checkDecode(root: protobuf.Root, codec: WireCodec, typeName: string, bytes: Buffer): void {
  const expected = oracleDecode(root, typeName, bytes);
  const actual = codec.decodeMessage(typeName, bytes);
  expect(actual).toStrictEqual(expected);
  expect(shape(actual)).toStrictEqual(shape(expected));
}

function varint(n: bigint | number): Buffer {
  const out: number[] = [];
  let v = BigInt(n);
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return Buffer.from(out);
}

/** An unknown field (1000 to 2^29 - 2 are in none of the test types), of a wire type protobufjs skips. */
const unknownFieldArb = fc.oneof(
  fc
    .tuple(fc.integer({ min: 1000, max: 536870910 }), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }))
    .map(([n, v]) => Buffer.concat([varint(n * 8), varint(v)])),
  fc
    .tuple(fc.integer({ min: 1000, max: 536870910 }), fc.uint8Array({ minLength: 8, maxLength: 8 }))
    .map(([n, v]) => Buffer.concat([varint(n * 8 + 1), v])),
  fc
    .tuple(fc.integer({ min: 1000, max: 536870910 }), fc.uint8Array({ maxLength: 12 }))
    .map(([n, v]) => Buffer.concat([varint(n * 8 + 2), varint(v.length), v])),
  fc
    .tuple(fc.integer({ min: 1000, max: 536870910 }), fc.uint8Array({ minLength: 4, maxLength: 4 }))
    .map(([n, v]) => Buffer.concat([varint(n * 8 + 5), v])),
);

function propertyChecks(
  root: protobuf.Root,
  tables: DescriptorTables,
  codec: WireCodec,
  typeName: string,
  runs: number,
) {
  fc.assert(
    fc.property(messageArb(tables, typeName), (value) => {
      checkEncode(root, codec, typeName, value);
      const encoded = outcome(() => oracleEncode(root, typeName, value));
      if (encoded.ok) checkDecode(root, codec, typeName, encoded.value);
    }),
    { numRuns: runs },
  );
  // Unknown fields before and after the known ones are skipped by both.
  fc.assert(
    fc.property(
      messageArb(tables, typeName),
      fc.array(unknownFieldArb, { maxLength: 3 }),
      unknownFieldArb,
      (value, before, after) => {
        const encoded = outcome(() => oracleEncode(root, typeName, value));
        if (encoded.ok) checkDecode(root, codec, typeName, Buffer.concat([...before, encoded.value, after]));
      },
    ),
    { numRuns: Math.ceil(runs / 4) },
  );
}

describe('generated descriptor table', () => {
  it('is up to date with proto/ (else run node scripts/gen-etcd-proto.mjs)', () => {
    const fresh = genScript.describeRoot(etcdRoot);
    expect(generated.messages).toEqual(fresh.messages);
    expect(generated.enums).toEqual(fresh.enums);
    expect(generated.services).toEqual(fresh.services);
  });

  it('describes every etcd RPC with its gRPC path and types', () => {
    expect(generated.etcdMethod('KV', 'Range')).toEqual({
      path: '/etcdserverpb.KV/Range',
      requestType: 'etcdserverpb.RangeRequest',
      responseType: 'etcdserverpb.RangeResponse',
      requestStream: false,
      responseStream: false,
    });
    expect(generated.etcdMethod('Maintenance', 'Snapshot')?.responseStream).toBe(true);
    expect(generated.etcdMethod('KV', 'Watch')).toBeUndefined();
    expect(generated.etcdMethod('Nope', 'Range')).toBeUndefined();
    for (const methods of Object.values(generated.services)) {
      for (const m of Object.values(methods)) {
        expect(generated.messages[m.requestType as generated.MessageTypeName]).toBeDefined();
        expect(generated.messages[m.responseType as generated.MessageTypeName]).toBeDefined();
      }
    }
  });
});

describe('wire codec against protobufjs (as @grpc/proto-loader used it)', () => {
  it.each(Object.keys(generated.messages))('%s', (typeName) => {
    propertyChecks(etcdRoot, etcdTables, etcdCodec, typeName, 150);
  });

  it.each(Object.keys(testTables.messages))('test proto: %s', (typeName) => {
    propertyChecks(testRoot, testTables, testCodec, typeName, 300);
  });

  it('reads packed and unpacked repeated scalars alike', () => {
    fc.assert(
      fc.property(messageArb(testTables, 'wiretest.Packed'), (value) => {
        const packed = outcome(() => oracleEncode(testRoot, 'wiretest.Packed', value));
        const unpacked = outcome(() => oracleEncode(testRoot, 'wiretest.Unpacked', value));
        if (!packed.ok || !unpacked.ok) return;
        checkDecode(testRoot, testCodec, 'wiretest.Unpacked', packed.value);
        checkDecode(testRoot, testCodec, 'wiretest.Packed', unpacked.value);
      }),
      { numRuns: 300 },
    );
  });
});

describe('etcd messages Lifeboat reads', () => {
  const MEMBER = '10276657743932975437'; // etcd member ids use all 64 bits
  const CLUSTER = '14841639068965178418';
  const header = { cluster_id: CLUSTER, member_id: MEMBER, revision: '1234', raft_term: '7' };

  /** Bytes as etcd sends them: zero values left out, which protobufjs fromObject+encode also does for absent keys. */
  const fromEtcd = (typeName: string, value: object) => oracleEncode(etcdRoot, typeName, value);

  it('StatusResponse: 64-bit strings, defaults for fields older servers omit, key order', () => {
    const bytes = fromEtcd('etcdserverpb.StatusResponse', {
      header,
      version: '3.5.17',
      dbSize: '25395200',
      leader: MEMBER,
      raftIndex: '4321',
      raftTerm: '7',
      raftAppliedIndex: '4321',
      errors: ['memberID:1 alarm:NOSPACE'],
      dbSizeInUse: '16384000',
    });
    const status = decodeMessage<Record<string, unknown>>('etcdserverpb.StatusResponse', bytes);
    expect(status).toStrictEqual({
      errors: ['memberID:1 alarm:NOSPACE'],
      header,
      version: '3.5.17',
      dbSize: '25395200',
      leader: MEMBER,
      raftIndex: '4321',
      raftTerm: '7',
      raftAppliedIndex: '4321',
      dbSizeInUse: '16384000',
      isLearner: false,
      storageVersion: '',
      dbSizeQuota: '0',
      downgradeInfo: null,
    });
    expect(Object.keys(status)[0]).toBe('errors'); // protobufjs puts repeated fields first
    checkDecode(etcdRoot, etcdCodec, 'etcdserverpb.StatusResponse', bytes);
  });

  it('RangeResponse with kvs: keys and values are Buffers', () => {
    const kv = (key: string, value: string, mod: string) => ({
      key: Buffer.from(key),
      value: Buffer.from(value),
      create_revision: '2',
      mod_revision: mod,
      version: '3',
    });
    const bytes = fromEtcd('etcdserverpb.RangeResponse', {
      header,
      kvs: [kv('/lifeboat/a', 'x'.repeat(300), '9'), kv('/lifeboat/b', '', '-1')],
      more: true,
      count: '2',
    });
    const range = decodeMessage<{ kvs: Array<Record<string, unknown>>; more: boolean; count: string }>(
      'etcdserverpb.RangeResponse',
      bytes,
    );
    expect(range.more).toBe(true);
    expect(range.count).toBe('2');
    expect(range.kvs).toHaveLength(2);
    expect(range.kvs[0]).toStrictEqual({
      key: Buffer.from('/lifeboat/a'),
      create_revision: '2',
      mod_revision: '9',
      version: '3',
      value: Buffer.from('x'.repeat(300)),
      lease: '0',
    });
    expect(Buffer.isBuffer(range.kvs[1]?.value)).toBe(true);
    expect(range.kvs[1]?.mod_revision).toBe('-1');
    checkDecode(etcdRoot, etcdCodec, 'etcdserverpb.RangeResponse', bytes);
  });

  it('MemberListResponse', () => {
    const bytes = fromEtcd('etcdserverpb.MemberListResponse', {
      header,
      members: [
        { ID: MEMBER, name: 'etcd-0', peerURLs: ['https://10.0.0.1:2380'], clientURLs: ['https://10.0.0.1:2379'] },
        { ID: '18446744073709551615', peerURLs: ['https://10.0.0.2:2380'], isLearner: true },
      ],
    });
    expect(decodeMessage('etcdserverpb.MemberListResponse', bytes)).toStrictEqual({
      members: [
        {
          peerURLs: ['https://10.0.0.1:2380'],
          clientURLs: ['https://10.0.0.1:2379'],
          ID: MEMBER,
          name: 'etcd-0',
          isLearner: false,
        },
        { peerURLs: ['https://10.0.0.2:2380'], clientURLs: [], ID: '18446744073709551615', name: '', isLearner: true },
      ],
      header,
    });
    checkDecode(etcdRoot, etcdCodec, 'etcdserverpb.MemberListResponse', bytes);
  });

  it('TxnRequest with compare / success / failure oneofs encodes as protobufjs does', () => {
    const txn = {
      compare: [
        { result: 'EQUAL', target: 'MOD', key: Buffer.from('/lock'), mod_revision: '0' },
        { result: 'GREATER', target: 'VALUE', key: Buffer.from('/v'), value: Buffer.from('x'), target_union: 'value' },
      ],
      success: [{ request_put: { key: Buffer.from('/lock'), value: Buffer.from('me'), lease: '7587862148312420372' } }],
      failure: [{ request_range: { key: Buffer.from('/lock') } }, { request_txn: { compare: [] } }],
    };
    checkEncode(etcdRoot, etcdCodec, 'etcdserverpb.TxnRequest', txn);
    const decoded = decodeMessage<{
      compare: Array<Record<string, unknown>>;
      success: Array<Record<string, unknown>>;
      failure: Array<Record<string, unknown>>;
    }>('etcdserverpb.TxnRequest', encodeMessage('etcdserverpb.TxnRequest', txn));
    expect(decoded.compare[0]).toMatchObject({ target: 'MOD', mod_revision: '0', target_union: 'mod_revision' });
    expect(decoded.compare[0]).not.toHaveProperty('version'); // oneof members are not defaulted
    expect(decoded.compare[1]).toMatchObject({ result: 'GREATER', value: Buffer.from('x'), target_union: 'value' });
    expect(decoded.success[0]?.request).toBe('request_put');
    expect(decoded.failure.map((op) => op.request)).toEqual(['request_range', 'request_txn']);
    expect(decoded.failure[1]?.request_txn).toStrictEqual({ compare: [], success: [], failure: [] });
  });

  it('AlarmResponse: enum names; a number when the value is unknown', () => {
    const bytes = fromEtcd('etcdserverpb.AlarmResponse', {
      header,
      alarms: [
        { memberID: MEMBER, alarm: 'NOSPACE' },
        { memberID: '1', alarm: 'CORRUPT' },
        { memberID: '2' },
        { alarm: 9 },
      ],
    });
    const alarms = decodeMessage<{ alarms: unknown[] }>('etcdserverpb.AlarmResponse', bytes).alarms;
    expect(alarms).toStrictEqual([
      { memberID: MEMBER, alarm: 'NOSPACE' },
      { memberID: '1', alarm: 'CORRUPT' },
      { memberID: '2', alarm: 'NONE' },
      { memberID: '0', alarm: 9 },
    ]);
    checkDecode(etcdRoot, etcdCodec, 'etcdserverpb.AlarmResponse', bytes);
  });

  it('HashKVResponse: uint32 hash above 2^31 stays positive', () => {
    const bytes = fromEtcd('etcdserverpb.HashKVResponse', { header, hash: 0xdeadbeef, compact_revision: '77' });
    expect(decodeMessage('etcdserverpb.HashKVResponse', bytes)).toStrictEqual({
      header,
      hash: 3735928559,
      compact_revision: '77',
      hash_revision: '0',
    });
    checkDecode(etcdRoot, etcdCodec, 'etcdserverpb.HashKVResponse', bytes);
  });

  it('writes fields that are set even when they hold the proto3 default, as protobufjs does', () => {
    const bytes = encodeMessage('etcdserverpb.RangeRequest', {
      key: '',
      limit: 0,
      serializable: false,
      sort_order: 'NONE',
    });
    // key (1, empty bytes from base64 ''), limit (3) = 0, sort_order (5) = 0, serializable (7) = false
    expect(bytes.toString('hex')).toBe('0a00180028003800');
    checkEncode(etcdRoot, etcdCodec, 'etcdserverpb.RangeRequest', { key: '', limit: 0, serializable: false });
    expect(encodeMessage('etcdserverpb.StatusRequest', {})).toHaveLength(0);
    expect(encodeMessage('etcdserverpb.RangeRequest', { key: null, limit: undefined })).toHaveLength(0);
  });

  it('int32 negatives are 10-byte varints; 64-bit values round-trip exactly', () => {
    expect(testCodec.encodeMessage('wiretest.Scalars', { i32: -1 }).toString('hex')).toBe('18ffffffffffffffffff01');
    for (const v of ['-9223372036854775808', '9223372036854775807', '9007199254740993', '-1']) {
      const back = testCodec.decodeMessage<Record<string, string>>(
        'wiretest.Scalars',
        testCodec.encodeMessage('wiretest.Scalars', { i64: v, s64: v, sf64: v }),
      );
      expect([back.i64, back.s64, back.sf64]).toEqual([v, v, v]);
    }
    const unsigned = testCodec.decodeMessage<Record<string, string>>(
      'wiretest.Scalars',
      testCodec.encodeMessage('wiretest.Scalars', { u64: '18446744073709551615', f64: 18446744073709551615n }),
    );
    expect([unsigned.u64, unsigned.f64]).toEqual(['18446744073709551615', '18446744073709551615']);
  });

  it('a repeated message field keeps the last occurrence (protobufjs does not merge); oneof members all stay', () => {
    // header twice: {cluster_id: 1} then {member_id: 2}
    const twice = Buffer.from('0a0208010a021002', 'hex');
    const status = decodeMessage<{ header: unknown }>('etcdserverpb.StatusResponse', twice);
    expect(status.header).toStrictEqual({ cluster_id: '0', member_id: '2', revision: '0', raft_term: '0' });
    checkDecode(etcdRoot, etcdCodec, 'etcdserverpb.StatusResponse', twice);
    // Compare with value (7) then version (4): both kept; the oneof names the highest-numbered one.
    const both = Buffer.from('3a01782005', 'hex');
    expect(decodeMessage('etcdserverpb.Compare', both)).toMatchObject({
      version: '5',
      value: Buffer.from('x'),
      target_union: 'value',
    });
    checkDecode(etcdRoot, etcdCodec, 'etcdserverpb.Compare', both);
  });

  it('refuses values protobufjs refuses', () => {
    expect(() => encodeMessage('etcdserverpb.TxnRequest', { compare: 'x' })).toThrow(TypeError);
    expect(() => encodeMessage('etcdserverpb.RangeResponse', { header: 5 })).toThrow(TypeError);
    expect(() => encodeMessage('etcdserverpb.RangeRequest', [])).toThrow(/array/);
    expect(() => encodeMessage('etcdserverpb.RangeRequest', { limit: '' })).toThrow(/empty string/);
    expect(() => encodeMessage('etcdserverpb.RangeRequest', { key: '%%' })).toThrow(/invalid encoding/);
    expect(() => encodeMessage('etcdserverpb.Nope', {})).toThrow(/unknown protobuf message type/);
    for (const bad of [
      { compare: 'x' },
      { limit: '' },
      { key: '%%' },
      { key: 'QUJD=' },
      { key: 'Q' },
      { limit: '1-2' },
    ]) {
      const type = 'compare' in bad ? 'etcdserverpb.TxnRequest' : 'etcdserverpb.RangeRequest';
      expect(outcome(() => oracleEncode(etcdRoot, type, bad)).ok).toBe(false);
      expect(outcome(() => encodeMessage(type, bad)).ok).toBe(false);
    }
  });
});

describe('malformed input', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['truncated varint', '0880', /truncated varint/],
    ['truncated key', '80', /truncated varint/],
    ['varint longer than 10 bytes', '08ffffffffffffffffffff01', /longer than 10 bytes/],
    ['string length beyond the buffer', '120561', /length 5 beyond the end/],
    ['nested length beyond the buffer', '0a0508', /length 5 beyond the end/],
    ['varint running past the end of its sub-message', '0a01080a', /truncated varint/],
    ['truncated fixed64 of an unknown field', '8906000102', /truncated/],
    ['wire type 3 (group start)', '0b', /invalid wire type 3/],
    ['wire type 4 (group end)', '0c', /invalid wire type 4/],
    ['wire type 6', '0e', /invalid wire type 6/],
    ['wire type 7', '0f', /invalid wire type 7/],
    ['wire type 7 on an unknown field', 'a706', /invalid wire type 7/],
    ['field number 0', '0001', /field number 0/],
  ];

  it.each(cases)('%s throws a plain Error', (_name, hex, message) => {
    const run = () => decodeMessage('etcdserverpb.StatusResponse', Buffer.from(hex, 'hex'));
    expect(run).toThrow(message);
    const error = outcome(run);
    expect(error.ok).toBe(false);
    if (!error.ok) expect((error.error as Error).constructor).toBe(Error);
  });

  it('never throws anything but a plain Error on random bytes', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 64 }),
        fc.constantFrom(...Object.keys(generated.messages)),
        (bytes, type) => {
          const result = outcome(() => decodeMessage(type, bytes));
          if (!result.ok) expect((result.error as Error).constructor).toBe(Error);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('accepts a Uint8Array view at an offset', () => {
    const bytes = fromBytes('00000a0208011205332e352e30', 2);
    expect(
      decodeMessage<{ version: string; header: { cluster_id: string } }>('etcdserverpb.StatusResponse', bytes),
    ).toMatchObject({
      version: '3.5.0',
      header: { cluster_id: '1' },
    });
  });
});

function fromBytes(hex: string, offset: number): Uint8Array {
  const all = Uint8Array.from(Buffer.from(hex, 'hex'));
  return new Uint8Array(all.buffer, offset);
}
