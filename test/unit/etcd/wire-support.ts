import { join } from 'node:path';
import fc from 'fast-check';
import protobuf from 'protobufjs';
import type { FieldDescriptor } from '../../../src/adapters/etcd/generated/etcd-descriptors.js';
import type { DescriptorTables } from '../../../src/adapters/etcd/wire.js';

/**
 * The oracle for wire.ts: protobufjs, called the way @grpc/proto-loader called it (fromObject + encode to
 * serialize; decode + toObject with proto-loader's options to deserialize), plus fast-check arbitraries that
 * build random message objects from a descriptor table.
 */

export const PROTO_DIR = join(import.meta.dirname, '../../../proto');

/** proto-loader's options, as src/adapters/etcd/proto.ts passed them. */
export const TO_OBJECT_OPTIONS: protobuf.IConversionOptions = {
  longs: String,
  enums: String,
  bytes: Buffer,
  defaults: true,
  oneofs: true,
};

export interface Tables extends DescriptorTables {
  readonly services: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

interface GenScript {
  loadRoot(dir: string, file: string): protobuf.Root;
  describeRoot(root: protobuf.Root): Tables;
}

/** The generator script itself (it writes nothing when imported): its describeRoot builds tables for test protos. */
export const genScript = (await import(
  new URL('../../../scripts/gen-etcd-proto.mjs', import.meta.url).href
)) as GenScript;

/** proto/etcd.proto loaded as proto-loader loads it (keepCase, imports from proto/). */
export function loadEtcdRoot(): protobuf.Root {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => join(PROTO_DIR, target);
  root.loadSync('etcd.proto', { keepCase: true });
  root.resolveAll();
  return root;
}

export function parseRoot(source: string): protobuf.Root {
  const root = protobuf.parse(source, { keepCase: true }).root;
  root.resolveAll();
  return root;
}

export function oracleEncode(root: protobuf.Root, typeName: string, value: unknown): Buffer {
  const type = root.lookupType(typeName);
  return Buffer.from(type.encode(type.fromObject(value as Record<string, unknown>)).finish());
}

export function oracleDecode(root: protobuf.Root, typeName: string, bytes: Uint8Array): unknown {
  const type = root.lookupType(typeName);
  return type.toObject(type.decode(bytes), TO_OBJECT_OPTIONS);
}

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

export function outcome<T>(run: () => T): Outcome<T> {
  try {
    return { ok: true, value: run() };
  } catch (error) {
    return { ok: false, error };
  }
}

/**
 * The value with every object turned into its list of [key, value] entries, so that comparing two shapes also
 * compares key order (what JSON output of a decoded message depends on). Buffers become 'Buffer<hex>'.
 */
export function shape(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return `Buffer<${value.toString('hex')}>`;
  if (Array.isArray(value)) return value.map(shape);
  if (value !== null && typeof value === 'object') {
    return Object.keys(value).map((k) => [k, shape((value as Record<string, unknown>)[k])]);
  }
  return value;
}

// ---------------------------------------------------------------------------------------------------------------
// Arbitraries: what our callers pass, and what protobufjs fromObject also accepts.

const TWO_63 = 2n ** 63n;
const TWO_64 = 2n ** 64n;

const EXTREME_LONGS = [
  '0',
  '-1',
  '1',
  '-9223372036854775808',
  '9223372036854775807',
  '18446744073709551615',
  '9007199254740993',
  '-9007199254740993',
  '4294967296',
  '4294967295',
  '2147483648',
  '-2147483649',
  '10276657743932975437',
];

/** Strings Long.fromString accepts in its own lenient way; protobufjs and wire.ts must agree on them too. */
const ODD_LONG_STRINGS = [
  '+5',
  '007',
  '12ab',
  'NaN',
  'Infinity',
  '-Infinity',
  '--5',
  '0x10',
  '1e3',
  ' 42',
  '99999999999999999999999',
  '-0',
];

function longArb(unsigned: boolean): fc.Arbitrary<unknown> {
  const range = unsigned ? { min: 0n, max: TWO_64 - 1n } : { min: -TWO_63, max: TWO_63 - 1n };
  return fc.oneof(
    { weight: 4, arbitrary: fc.bigInt(range).map(String) },
    { weight: 3, arbitrary: fc.constantFrom(...EXTREME_LONGS) },
    { weight: 2, arbitrary: fc.integer({ min: -1000, max: 100000 }).map(String) },
    { weight: 2, arbitrary: fc.maxSafeInteger() },
    { weight: 1, arbitrary: fc.double() },
    { weight: 1, arbitrary: fc.bigInt({ min: -TWO_64, max: TWO_64 }) },
    { weight: 1, arbitrary: fc.constantFrom(...ODD_LONG_STRINGS) },
    { weight: 1, arbitrary: fc.record({ low: fc.integer(), high: fc.integer() }) },
  );
}

const int32Arb = fc.oneof(
  { weight: 4, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.integer().map(String) },
);
const uint32Arb = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 0xffffffff }) },
  { weight: 1, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.constantFrom(0x80000000, 0xdeadbeef, 0xffffffff, -1) },
);

const bytesArb = fc.oneof(
  { weight: 4, arbitrary: fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 20 }) },
  { weight: 1, arbitrary: fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 10 }) },
  // Base64, padded and not (protobufjs decodes strings for bytes fields as base64).
  {
    weight: 1,
    arbitrary: fc.tuple(fc.uint8Array({ maxLength: 20 }), fc.boolean()).map(([a, padded]) => {
      const base64 = Buffer.from(a).toString('base64');
      return padded ? base64 : base64.replace(/=+$/, '');
    }),
  },
);

const stringArb = fc.oneof(
  { weight: 5, arbitrary: fc.string({ unit: 'binary', maxLength: 60 }) },
  { weight: 1, arbitrary: fc.constantFrom('', 'http://10.0.0.1:2380', 'é', '🚀') },
  { weight: 1, arbitrary: fc.integer() },
);

const boolArb = fc.oneof(
  { weight: 5, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.constantFrom(0, 1, '', 'false') },
);

function scalarArb(type: string): fc.Arbitrary<unknown> | undefined {
  switch (type) {
    case 'double':
    case 'float':
      return fc.oneof(fc.double(), fc.integer());
    case 'int32':
    case 'sint32':
    case 'sfixed32':
      return int32Arb;
    case 'uint32':
    case 'fixed32':
      return uint32Arb;
    case 'int64':
    case 'sint64':
    case 'sfixed64':
      return longArb(false);
    case 'uint64':
    case 'fixed64':
      return longArb(true);
    case 'bool':
      return boolArb;
    case 'string':
      return stringArb;
    case 'bytes':
      return bytesArb;
    default:
      return undefined;
  }
}

/** Keys of a map field: property names, as our callers would write them. */
function mapKeyArb(type: string): fc.Arbitrary<string> {
  switch (type) {
    case 'string':
      return fc.string({ maxLength: 8 }).filter((k) => k !== '__proto__');
    case 'uint32':
    case 'fixed32':
      return fc.integer({ min: 0, max: 0xffffffff }).map(String);
    default:
      // Out-of-range keys too: protobufjs hands the key string to its writer without fromObject's conversion.
      return fc.oneof(fc.integer().map(String), fc.constantFrom('2147483648', '4294967296', '-2147483649', 'x'));
  }
}

export const MAX_DEPTH = 3;

/** Random objects for message `typeName` of `tables`, nested messages down to MAX_DEPTH. */
export function messageArb(
  tables: DescriptorTables,
  typeName: string,
  depth = 0,
): fc.Arbitrary<Record<string, unknown>> {
  const fields = tables.messages[typeName];
  if (!fields) throw new Error(`no message ${typeName}`);
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const field of fields) {
    const value = valueArb(tables, field, depth);
    if (value === undefined) continue; // a message field below MAX_DEPTH
    if (field.map) {
      model[field.name] = fc.oneof(fc.dictionary(mapKeyArb(field.map.key), value, { maxKeys: 3 }), fc.constant(null));
    } else if (field.repeated) {
      model[field.name] = fc.oneof(
        { weight: 4, arbitrary: fc.array(value, { maxLength: 4 }) },
        { weight: 1, arbitrary: fc.constantFrom(null, undefined, [], 0) },
      );
    } else {
      // null and undefined are skipped by fromObject, like an absent property.
      model[field.name] = fc.oneof(
        { weight: 6, arbitrary: value },
        { weight: 1, arbitrary: fc.constantFrom(null, undefined) },
      );
    }
  }
  return fc.record(model, { requiredKeys: [] });
}

function valueArb(tables: DescriptorTables, field: FieldDescriptor, depth: number): fc.Arbitrary<unknown> | undefined {
  const type = field.map ? field.map.value : field.type;
  const scalar = scalarArb(type);
  if (scalar) return scalar;
  const values = tables.enums[type];
  if (values) {
    const names = Object.keys(values);
    return fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom(...names) },
      { weight: 2, arbitrary: fc.constantFrom(...Object.values(values)) },
      // Unknown names are dropped (or the default, in a repeated field); unknown numbers pass through.
      { weight: 1, arbitrary: fc.constantFrom('BOGUS', 7, -1, 2147483647, 2147483648, -(2 ** 40), 1.5, Number.NaN) },
    );
  }
  if (depth >= MAX_DEPTH) return undefined;
  return messageArb(tables, type, depth + 1);
}
