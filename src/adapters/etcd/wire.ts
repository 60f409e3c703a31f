import { enums, type FieldDescriptor, messages } from './generated/etcd-descriptors.js';

/**
 * Protobuf wire codec for the etcd API, driven by the descriptor table generated from proto/ (no protobufjs at
 * runtime). It reproduces what @grpc/proto-loader gave us through protobufjs 7, because the code above reads
 * these objects as they are:
 *
 * - encode = `Type.encode(Type.fromObject(value)).finish()`: fields in number order; a field is written whenever
 *   it is set and not null/undefined, even if it holds the proto3 default; repeated scalars packed. 64-bit values
 *   may be decimal strings, numbers, bigints or Long-like {low, high}; bytes may be a Buffer, Uint8Array, array of
 *   numbers or a base64 string; enums a name or a number.
 * - decode = `Type.toObject(Type.decode(bytes), { longs: String, enums: String, bytes: Buffer, defaults: true,
 *   oneofs: true })`: every field outside a oneof is present (defaults filled in), 64-bit integers are exact
 *   decimal strings, enums are names (numbers when unknown), bytes are Buffer views into the input (do not mutate
 *   the input while the result is in use). Oneof members are present only when on the wire, and the oneof's own
 *   name says which. Object keys come in protobufjs' order: repeated, maps, other fields, then oneof members.
 *
 * Like protobufjs, a message field that occurs twice keeps the last occurrence (no merge) and a second member of
 * a oneof does not clear the first. Deliberately unlike protobufjs, on inputs etcd and our callers never produce:
 * a known field with the wrong wire type is skipped as unknown (protobufjs misreads it); malformed input throws a
 * plain Error, also for groups (wire types 3/4) and field number 0; a lone UTF-16 surrogate is written as U+FFFD
 * (protobufjs writes invalid UTF-8 for strings under 40 characters); base64 with data after '=' decodes to what
 * precedes it (protobufjs pads with stray bytes); map keys of 64-bit type decode as decimal strings (protobufjs
 * uses an internal hash string) and a map entry without a value gets the value type's default. etcd has no maps.
 */

export interface DescriptorTables {
  readonly messages: Readonly<Record<string, readonly FieldDescriptor[]>>;
  readonly enums: Readonly<Record<string, Readonly<Record<string, number>>>>;
}

export interface WireCodec {
  encodeMessage(typeName: string, value: unknown): Buffer;
  decodeMessage<T>(typeName: string, bytes: Uint8Array): T;
}

/** A codec for any descriptor table in the generated format (the etcd one is below). */
export function createWireCodec(tables: DescriptorTables): WireCodec {
  return new Codec(tables);
}

let etcd: WireCodec | undefined;

/** Serializes `value` as the etcd message `typeName` (e.g. 'etcdserverpb.RangeRequest'). */
export function encodeMessage(typeName: string, value: unknown): Buffer {
  etcd ??= createWireCodec({ messages, enums });
  return etcd.encodeMessage(typeName, value);
}

/** Parses `bytes` as the etcd message `typeName`; throws a plain Error on malformed input. */
export function decodeMessage<T>(typeName: string, bytes: Uint8Array): T {
  etcd ??= createWireCodec({ messages, enums });
  return etcd.decodeMessage<T>(typeName, bytes);
}

// ---------------------------------------------------------------------------------------------------------------
// Compiled descriptors: built once per message type, on first use.

// Field kinds.
const DOUBLE = 1;
const FLOAT = 2;
const INT32 = 3;
const UINT32 = 4;
const SINT32 = 5;
const FIXED32 = 6;
const SFIXED32 = 7;
const INT64 = 8;
const UINT64 = 9;
const SINT64 = 10;
const FIXED64 = 11;
const SFIXED64 = 12;
const BOOL = 13;
const STRING = 14;
const BYTES = 15;
const ENUM = 16;
const MESSAGE = 17;

const SCALAR_KINDS: ReadonlyMap<string, number> = new Map([
  ['double', DOUBLE],
  ['float', FLOAT],
  ['int32', INT32],
  ['uint32', UINT32],
  ['sint32', SINT32],
  ['fixed32', FIXED32],
  ['sfixed32', SFIXED32],
  ['int64', INT64],
  ['uint64', UINT64],
  ['sint64', SINT64],
  ['fixed64', FIXED64],
  ['sfixed64', SFIXED64],
  ['bool', BOOL],
  ['string', STRING],
  ['bytes', BYTES],
]);

// Wire types.
const VARINT = 0;
const I64 = 1;
const LEN = 2;
const I32 = 5;

function wireTypeOf(kind: number): number {
  switch (kind) {
    case DOUBLE:
    case FIXED64:
    case SFIXED64:
      return I64;
    case FLOAT:
    case FIXED32:
    case SFIXED32:
      return I32;
    case STRING:
    case BYTES:
    case MESSAGE:
      return LEN;
    default:
      return VARINT;
  }
}

const isLong = (kind: number): boolean => kind >= INT64 && kind <= SFIXED64;

/** Same as protobufjs (and protoc): deeper nesting is refused. */
const RECURSION_LIMIT = 100;

interface EnumType {
  readonly byName: ReadonlyMap<string, number>;
  readonly byNumber: ReadonlyMap<number, string>;
  /** The first declared value: proto3's default. */
  readonly defaultNumber: number;
  readonly defaultName: string;
}

interface Field {
  readonly name: string;
  readonly number: number;
  readonly kind: number;
  readonly wireType: number;
  /** The key as written before each (unpacked) value. */
  readonly tag: number;
  readonly repeated: boolean;
  /** Encode as one packed run. */
  readonly packed: boolean;
  /** Decode accepts a packed run (any repeated scalar or enum, whatever `packed` says). */
  readonly packable: boolean;
  readonly oneof: string | undefined;
  /** Position among the message's oneof members (-1 if none). */
  readonly oneofIndex: number;
  /** The enum or message type name; '' for scalars. */
  readonly typeName: string;
  readonly enumType: EnumType | undefined;
  /** Resolved on first use: message types may refer to each other (TxnRequest → RequestOp → TxnRequest). */
  message: Message | undefined;
  /** Map fields: the entry's key (1) and value (2). */
  readonly mapKey: Field | undefined;
  readonly mapValue: Field | undefined;
}

interface Message {
  readonly name: string;
  /** By field number. */
  readonly fields: readonly Field[];
  readonly byNumber: ReadonlyMap<number, Field>;
  /**
   * A decoded object before any field is read: every non-oneof field in protobufjs toObject's key order (repeated,
   * maps, then the others, each by number) holding its default, or undefined where the default is a fresh array,
   * object or Buffer (filled in at the end unless the wire gave a value). Copied with a spread: keeps key order.
   */
  readonly template: Readonly<Record<string, unknown>>;
  /** The template's fields whose default is created per decoded object. */
  readonly freshDefaults: readonly Field[];
  /** Oneof members, by field number; `oneofIndex` indexes this list. */
  readonly oneofMembers: readonly Field[];
}

class Codec implements WireCodec {
  private readonly compiled = new Map<string, Message>();
  private readonly compiledEnums = new Map<string, EnumType>();

  constructor(private readonly tables: DescriptorTables) {}

  encodeMessage(typeName: string, value: unknown): Buffer {
    const msg = this.message(typeName);
    // @grpc/proto-loader's serializer refuses arrays; protobufjs fromObject accepts anything for a fieldless type.
    if (Array.isArray(value)) throw new Error(`expected a ${typeName} object, got an array`);
    if (msg.fields.length === 0) return Buffer.alloc(0);
    if (!isObject(value)) throw new TypeError(`${typeName}: object expected`);
    const w = new Writer();
    this.writeFields(msg, value, w, 0);
    return w.finish();
  }

  decodeMessage<T>(typeName: string, bytes: Uint8Array): T {
    const msg = this.message(typeName);
    const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const r = new Reader(buf);
    return this.readFields(msg, r, buf.length, 0) as T;
  }

  private message(name: string): Message {
    let msg = this.compiled.get(name);
    if (msg === undefined) {
      msg = this.compileMessage(name);
      this.compiled.set(name, msg);
    }
    return msg;
  }

  private messageOf(field: Field): Message {
    if (field.message === undefined) field.message = this.message(field.typeName);
    return field.message;
  }

  private compileMessage(name: string): Message {
    const descriptors = this.tables.messages[name];
    if (descriptors === undefined) throw new Error(`unknown protobuf message type ${name}`);
    let oneofCount = 0;
    const fields = [...descriptors]
      .sort((a, b) => a.number - b.number)
      .map((d) => this.compileField(name, d, d.oneof === undefined ? -1 : oneofCount++));
    const isMap = (f: Field) => f.mapValue !== undefined;
    const defaults = [
      ...fields.filter((f) => f.repeated),
      ...fields.filter(isMap),
      ...fields.filter((f) => !f.repeated && !isMap(f) && f.oneof === undefined),
    ];
    const isFresh = (f: Field) => f.repeated || isMap(f) || f.kind === BYTES;
    const template: Record<string, unknown> = {};
    for (const f of defaults) template[f.name] = isFresh(f) ? undefined : this.defaultValue(f);
    return {
      name,
      fields,
      byNumber: new Map(fields.map((f) => [f.number, f])),
      template,
      freshDefaults: defaults.filter(isFresh),
      oneofMembers: fields.filter((f) => f.oneof !== undefined),
    };
  }

  private compileField(owner: string, d: FieldDescriptor, oneofIndex: number): Field {
    const map = d.map;
    const kind = this.kindOf(owner, d.type);
    const wireType = map ? LEN : wireTypeOf(kind);
    const repeated = d.repeated === true;
    const packable = repeated && wireType !== LEN;
    const entry = (entryName: string, entryNumber: number, type: string) =>
      this.compileField(`${owner}.${d.name}`, { name: entryName, number: entryNumber, type }, -1);
    return {
      name: d.name,
      number: d.number,
      kind,
      wireType,
      tag: ((d.number << 3) | wireType) >>> 0,
      repeated,
      packed: packable && d.packed === true,
      packable,
      oneof: d.oneof,
      oneofIndex,
      typeName: kind === ENUM || kind === MESSAGE ? d.type : '',
      enumType: kind === ENUM ? this.enumType(d.type) : undefined,
      message: undefined,
      mapKey: map ? entry('key', 1, map.key) : undefined,
      mapValue: map ? entry('value', 2, map.value) : undefined,
    };
  }

  private kindOf(owner: string, type: string): number {
    const scalar = SCALAR_KINDS.get(type);
    if (scalar !== undefined) return scalar;
    if (this.tables.enums[type] !== undefined) return ENUM;
    if (this.tables.messages[type] !== undefined) return MESSAGE;
    throw new Error(`${owner}: unknown protobuf type ${type}`);
  }

  private enumType(name: string): EnumType {
    let e = this.compiledEnums.get(name);
    if (e === undefined) {
      const values = Object.entries(this.tables.enums[name] ?? {});
      const first = values[0];
      if (first === undefined) throw new Error(`protobuf enum ${name} has no values`);
      // Aliases: as in protobufjs, the last name declared for a number is the one decoded.
      const byNumber = new Map(values.map(([valueName, n]) => [n, valueName]));
      e = {
        byName: new Map(values),
        byNumber,
        defaultNumber: first[1],
        defaultName: byNumber.get(first[1]) ?? first[0],
      };
      this.compiledEnums.set(name, e);
    }
    return e;
  }

  // -------------------------------------------------------------------------------------------------------------
  // Decoding.

  private readFields(msg: Message, r: Reader, end: number, depth: number): Record<string, unknown> {
    if (depth > RECURSION_LIMIT) throw new Error('invalid protobuf: maximum nesting depth exceeded');
    const out: Record<string, unknown> = { ...msg.template };
    let oneofValues: unknown[] | undefined;
    while (r.pos < end) {
      const key = r.key();
      const wireType = key & 7;
      const f = msg.byNumber.get(key >>> 3);
      if (f === undefined) {
        r.skip(wireType);
      } else if (f.repeated) {
        let list = out[f.name] as unknown[] | undefined;
        if (list === undefined) {
          list = [];
          out[f.name] = list;
        }
        if (wireType === f.wireType) {
          list.push(this.readValue(f, r, depth));
        } else if (wireType === LEN && f.packable) {
          const outer = r.enter();
          while (r.pos < r.limit) list.push(this.readValue(f, r, depth));
          r.limit = outer;
        } else {
          r.skip(wireType);
        }
      } else if (wireType !== f.wireType) {
        r.skip(wireType);
      } else if (f.mapValue !== undefined) {
        let map = out[f.name] as Record<string, unknown> | undefined;
        if (map === undefined) {
          map = {};
          out[f.name] = map;
        }
        this.readMapEntry(f, r, map, depth);
      } else if (f.oneof !== undefined) {
        if (oneofValues === undefined) oneofValues = new Array(msg.oneofMembers.length);
        oneofValues[f.oneofIndex] = this.readValue(f, r, depth);
      } else {
        out[f.name] = this.readValue(f, r, depth);
      }
    }
    for (const f of msg.freshDefaults) {
      if (out[f.name] === undefined) out[f.name] = this.defaultValue(f);
    }
    if (oneofValues !== undefined) {
      // protobufjs adds members by field number, each setting the oneof's name: the highest present one wins.
      for (const f of msg.oneofMembers) {
        const value = oneofValues[f.oneofIndex];
        if (value === undefined) continue;
        out[f.name] = value;
        out[f.oneof as string] = f.name;
      }
    }
    return out;
  }

  private readValue(f: Field, r: Reader, depth: number): unknown {
    switch (f.kind) {
      case DOUBLE:
        return r.double();
      case FLOAT:
        return r.float();
      case INT32:
        return r.varint32() | 0;
      case UINT32:
        return r.varint32();
      case SINT32: {
        const n = r.varint32();
        return ((n >>> 1) ^ -(n & 1)) | 0;
      }
      case FIXED32:
        return r.fixed32();
      case SFIXED32:
        return r.fixed32() | 0;
      case INT64:
        r.varint64();
        return signedDecimal(r.hi, r.lo);
      case UINT64:
        r.varint64();
        return unsignedDecimal(r.hi, r.lo);
      case SINT64: {
        r.varint64();
        const mask = -(r.lo & 1);
        return signedDecimal(((r.hi >>> 1) ^ mask) >>> 0, (((r.lo >>> 1) | (r.hi << 31)) ^ mask) >>> 0);
      }
      case FIXED64:
        r.fixed64();
        return unsignedDecimal(r.hi, r.lo);
      case SFIXED64:
        r.fixed64();
        return signedDecimal(r.hi, r.lo);
      case BOOL:
        return r.varint32() !== 0;
      case STRING:
        return r.string();
      case BYTES:
        return r.bytes();
      case ENUM: {
        const n = r.varint32() | 0;
        return (f.enumType as EnumType).byNumber.get(n) ?? n;
      }
      default: {
        const outer = r.enter();
        const value = this.readFields(this.messageOf(f), r, r.limit, depth + 1);
        r.limit = outer;
        return value;
      }
    }
  }

  private readMapEntry(f: Field, r: Reader, target: Record<string, unknown>, depth: number): void {
    const keyField = f.mapKey as Field;
    const valueField = f.mapValue as Field;
    const outer = r.enter();
    let key: unknown;
    let value: unknown;
    while (r.pos < r.limit) {
      const entryKey = r.key();
      const wireType = entryKey & 7;
      const number = entryKey >>> 3;
      if (number === 1 && wireType === keyField.wireType) key = this.readValue(keyField, r, depth);
      else if (number === 2 && wireType === valueField.wireType) value = this.readValue(valueField, r, depth);
      else r.skip(wireType);
    }
    r.limit = outer;
    const prop = String(key ?? this.defaultValue(keyField));
    if (value === undefined) {
      value =
        valueField.kind === MESSAGE
          ? this.readFields(this.messageOf(valueField), r, r.pos, depth + 1)
          : this.defaultValue(valueField);
    }
    // A plain object, like protobufjs; '__proto__' must become an own property, not the prototype.
    if (prop === '__proto__')
      Object.defineProperty(target, prop, { value, enumerable: true, writable: true, configurable: true });
    else target[prop] = value;
  }

  private defaultValue(f: Field): unknown {
    if (f.repeated) return [];
    if (f.mapValue !== undefined) return {};
    switch (f.kind) {
      case MESSAGE:
        return null;
      case ENUM:
        return (f.enumType as EnumType).defaultName;
      case BOOL:
        return false;
      case STRING:
        return '';
      case BYTES:
        return Buffer.alloc(0);
      default:
        return isLong(f.kind) ? '0' : 0;
    }
  }

  // -------------------------------------------------------------------------------------------------------------
  // Encoding: protobufjs fromObject's conversions, then its encoder's output.

  private writeFields(msg: Message, obj: object, w: Writer, depth: number): void {
    if (depth > RECURSION_LIMIT) throw new Error('maximum nesting depth exceeded');
    const values = obj as Record<string, unknown>;
    for (const f of msg.fields) {
      const value = values[f.name];
      // fromObject: repeated and map fields are skipped when falsy, other fields when null or undefined.
      if (f.repeated) {
        if (value) this.writeRepeated(msg, f, value, w, depth);
      } else if (f.mapValue !== undefined) {
        if (value) this.writeMap(msg, f, value, w, depth);
      } else if (value != null) {
        this.writeSingle(msg, f, value, w, depth, false);
      }
    }
  }

  /** Writes key and value; `inList`: an element of a repeated field (fromObject converts those differently). */
  private writeSingle(msg: Message, f: Field, value: unknown, w: Writer, depth: number, inList: boolean): void {
    switch (f.kind) {
      case MESSAGE:
        if (!isObject(value)) throw new TypeError(`${msg.name}.${f.name}: object expected`);
        w.varint32(f.tag);
        this.writeNested(this.messageOf(f), value, w, depth);
        return;
      case ENUM: {
        const n = enumNumber(f.enumType as EnumType, value, inList);
        if (n === undefined) return;
        w.varint32(f.tag);
        writeInt32(w, n);
        return;
      }
      case BYTES: {
        const bytes = toBytes(value);
        if (bytes === undefined) {
          if (inList) throw new TypeError(`${msg.name}.${f.name}: bytes expected`);
          return;
        }
        w.varint32(f.tag);
        w.bytes(bytes);
        return;
      }
      default:
        w.varint32(f.tag);
        writeScalar(w, f.kind, value);
    }
  }

  private writeNested(msg: Message, value: object, w: Writer, depth: number): void {
    const start = w.beginLength();
    this.writeFields(msg, value, w, depth + 1);
    w.endLength(start);
  }

  private writeRepeated(msg: Message, f: Field, value: unknown, w: Writer, depth: number): void {
    if (!Array.isArray(value)) throw new TypeError(`${msg.name}.${f.name}: array expected`);
    if (value.length === 0) return;
    if (!f.packed) {
      for (let i = 0; i < value.length; i++) this.writeSingle(msg, f, value[i], w, depth, true);
      return;
    }
    w.varint32(((f.number << 3) | LEN) >>> 0);
    const start = w.beginLength();
    for (let i = 0; i < value.length; i++) {
      if (f.kind === ENUM) writeInt32(w, enumNumber(f.enumType as EnumType, value[i], true) as number);
      else writeScalar(w, f.kind, value[i]);
    }
    w.endLength(start);
  }

  private writeMap(msg: Message, f: Field, value: unknown, w: Writer, depth: number): void {
    if (!isObject(value)) throw new TypeError(`${msg.name}.${f.name}: object expected`);
    const keyField = f.mapKey as Field;
    const valueField = f.mapValue as Field;
    const entries = value as Record<string, unknown>;
    for (const key of Object.keys(entries)) {
      const entryValue = entries[key];
      // fromObject drops entries whose value it cannot convert (unknown enum names, bytes without a length); it
      // does not null-check the others.
      if (valueField.kind === ENUM && enumNumber(valueField.enumType as EnumType, entryValue, false) === undefined) {
        continue;
      }
      if (valueField.kind === BYTES && toBytes(entryValue) === undefined) continue;
      w.varint32(f.tag);
      const start = w.beginLength();
      // The key is the property name, a string, that protobufjs hands to its writer unconverted.
      w.varint32(keyField.tag);
      writeScalar(w, keyField.kind, key);
      this.writeSingle(msg, valueField, entryValue, w, depth, false);
      w.endLength(start);
    }
  }
}

function isObject(value: unknown): value is object {
  return value !== null && typeof value === 'object';
}

/** fromObject's enum switch: a number passes as is; a known name maps; anything else is dropped, or in a
 * repeated field becomes the default. */
function enumNumber(e: EnumType, value: unknown, inList: boolean): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    const n = e.byName.get(value);
    if (n !== undefined) return n;
  }
  return inList ? e.defaultNumber : undefined;
}

/** fromObject's bytes conversion: a string is base64; anything with a length is taken as bytes. */
function toBytes(value: unknown): ArrayLike<number> | undefined {
  if (typeof value === 'string') return decodeBase64(value);
  return (value as { length: number }).length >= 0 ? (value as ArrayLike<number>) : undefined;
}

/** Writes a scalar (not bytes, enum or message) after fromObject's conversion of `value`. */
function writeScalar(w: Writer, kind: number, value: unknown): void {
  switch (kind) {
    case DOUBLE:
      w.double(Number(value));
      return;
    case FLOAT:
      w.float(Number(value));
      return;
    case INT32:
      writeInt32(w, value as number);
      return;
    case UINT32:
      w.varint32((value as number) >>> 0);
      return;
    case SINT32: {
      const n = (value as number) | 0;
      w.varint32(((n << 1) ^ (n >> 31)) >>> 0);
      return;
    }
    case FIXED32:
      w.fixed32((value as number) >>> 0);
      return;
    case SFIXED32:
      w.fixed32(((value as number) | 0) >>> 0);
      return;
    case BOOL:
      w.varint32(value ? 1 : 0);
      return;
    case STRING:
      w.string(String(value));
      return;
    case INT64:
      toLongBits(value, false);
      w.varint64(longLo, longHi);
      return;
    case UINT64:
      toLongBits(value, true);
      w.varint64(longLo, longHi);
      return;
    case SINT64: {
      toLongBits(value, false);
      const mask = longHi >> 31;
      w.varint64(((longLo << 1) ^ mask) >>> 0, (((longHi << 1) | (longLo >>> 31)) ^ mask) >>> 0);
      return;
    }
    case FIXED64:
      toLongBits(value, true);
      w.fixed64(longLo, longHi);
      return;
    case SFIXED64:
      toLongBits(value, false);
      w.fixed64(longLo, longHi);
      return;
    default:
      throw new Error(`protobuf kind ${kind} is not a plain scalar`);
  }
}

/** protobufjs Writer#int32 (also used for enums): `value | 0`, negative values sign-extended to 10 bytes. */
function writeInt32(w: Writer, value: number): void {
  const n = value | 0;
  if (n < 0) w.varint64(n >>> 0, 0xffffffff);
  else w.varint32(n);
}

// ---------------------------------------------------------------------------------------------------------------
// 64-bit integers, as two unsigned 32-bit halves. The converters leave their result in longLo/longHi (no
// allocation on the hot path; the codec is synchronous).

const TWO_32 = 4294967296;
const TWO_63 = 2 ** 63;
const TWO_64 = 2 ** 64;

let longLo = 0;
let longHi = 0;

function setBits(lo: number, hi: number): void {
  longLo = lo >>> 0;
  longHi = hi >>> 0;
}

function negateBits(lo: number, hi: number): void {
  const negLo = (~lo + 1) >>> 0;
  setBits(negLo, ~hi + (negLo === 0 ? 1 : 0));
}

/** Long.fromValue(value, unsigned) as protobufjs fromObject calls it; the result's bits are what gets written. */
function toLongBits(value: unknown, unsigned: boolean): void {
  if (typeof value === 'string') {
    const small = smallDecimal(value);
    if (Number.isNaN(small)) bigintBits(longFromString(value));
    else numberBits(small);
  } else if (typeof value === 'number') {
    longFromNumber(value, unsigned);
  } else if (typeof value === 'bigint') {
    bigintBits(value);
  } else {
    // Long-like objects; anything else without these properties becomes 0 (null throws, as in Long.fromValue).
    const long = value as { low: number; high: number };
    setBits(long.low | 0, long.high | 0);
  }
}

/** A decimal string of at most 15 digits (exact as a number), else NaN. */
function smallDecimal(s: string): number {
  const negative = s.charCodeAt(0) === 45; // '-'
  const start = negative ? 1 : 0;
  if (s.length === start || s.length - start > 15) return Number.NaN;
  let n = 0;
  for (let i = start; i < s.length; i++) {
    const digit = s.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return Number.NaN;
    n = n * 10 + digit;
  }
  return negative ? -n : n;
}

/** Bits of an integer-valued number within ±2^53. */
function numberBits(n: number): void {
  if (n < 0) negateBits(-n >>> 0, (-n / TWO_32) >>> 0);
  else setBits(n >>> 0, (n / TWO_32) >>> 0);
}

function bigintBits(n: bigint): void {
  const bits = BigInt.asUintN(64, n);
  setBits(Number(bits & 0xffffffffn), Number(bits >> 32n));
}

/** Long.fromNumber: NaN → 0, saturates at the type's range, truncates fractions. */
function longFromNumber(v: number, unsigned: boolean): void {
  if (Number.isNaN(v) || (unsigned && v < 0)) setBits(0, 0);
  else if (unsigned && v >= TWO_64) setBits(0xffffffff, 0xffffffff);
  else if (!unsigned && v <= -TWO_63) setBits(0, 0x80000000);
  else if (!unsigned && v + 1 >= TWO_63) setBits(0xffffffff, 0x7fffffff);
  else if (v < 0) negateBits((-v % TWO_32) | 0, (-v / TWO_32) | 0);
  else setBits((v % TWO_32) | 0, (v / TWO_32) | 0);
}

/** Long.fromString (radix 10) for what the fast path leaves: values wrap modulo 2^64, like Long's arithmetic. */
function longFromString(s: string): bigint {
  if (s.length === 0) throw new Error('empty string');
  if (s === 'NaN' || s === 'Infinity' || s === '+Infinity' || s === '-Infinity') return 0n;
  const hyphen = s.indexOf('-');
  if (hyphen > 0) throw new Error('interior hyphen');
  if (hyphen === 0) return -longFromString(s.substring(1));
  // Long parses 8 characters at a time with parseInt: lenient in the same odd ways ('12ab' → 12).
  let result = 0n;
  for (let i = 0; i < s.length; i += 8) {
    const chunk = s.substring(i, i + 8);
    const n = Number.parseInt(chunk, 10);
    result = result * 10n ** BigInt(chunk.length) + (Number.isNaN(n) ? 0n : BigInt(n));
  }
  return result;
}

/**
 * hi·2^32 + lo in decimal. Above 2^53 (etcd member and cluster ids), without BigInt: split into 24-bit limbs
 * and add them up in base 10^7, as Closure's and protobuf-es' int64 code do.
 */
function unsignedDecimal(hi: number, lo: number): string {
  if (hi < 0x200000) return String(hi * TWO_32 + lo);
  const low = lo & 0xffffff;
  const mid = ((lo >>> 24) | (hi << 8)) & 0xffffff;
  const high = hi >>> 16;
  // 2^24 = 1|6777216 and 2^48 = 2|8147497|6710656 in base-10^7 digits.
  let a = low + mid * 6777216 + high * 6710656;
  let b = mid + high * 8147497;
  let c = high * 2;
  if (a >= 1e7) {
    b += Math.floor(a / 1e7);
    a %= 1e7;
  }
  if (b >= 1e7) {
    c += Math.floor(b / 1e7);
    b %= 1e7;
  }
  return `${c}${pad7(b)}${pad7(a)}`;
}

function pad7(n: number): string {
  const s = String(n);
  return '0000000'.slice(s.length) + s;
}

function signedDecimal(hi: number, lo: number): string {
  if (hi < 0x80000000) return unsignedDecimal(hi, lo);
  negateBits(lo, hi);
  return `-${unsignedDecimal(longHi, longLo)}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Base64, as protobufjs decodes it: standard alphabet only, stops at '=', throws on anything else.

const BASE64_VALUES = new Int8Array(128).fill(-1);
for (let i = 0; i < 64; i++) {
  BASE64_VALUES['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.charCodeAt(i)] = i;
}

function decodeBase64(s: string): Buffer {
  const out = Buffer.alloc(Math.ceil((s.length * 3) / 4));
  let n = 0;
  let phase = 0;
  let carry = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 61 && phase > 1) break; // '='
    const v = c < 128 ? (BASE64_VALUES[c] as number) : -1;
    if (v < 0) throw new Error('invalid encoding');
    if (phase === 1) out[n++] = (carry << 2) | ((v & 48) >> 4);
    else if (phase === 2) out[n++] = ((carry & 15) << 4) | ((v & 60) >> 2);
    else if (phase === 3) out[n++] = ((carry & 3) << 6) | v;
    carry = v;
    phase = (phase + 1) & 3;
  }
  if (phase === 1) throw new Error('invalid encoding');
  return out.subarray(0, n);
}

// ---------------------------------------------------------------------------------------------------------------
// Wire reader and writer.

function malformed(what: string, offset: number): Error {
  return new Error(`invalid protobuf: ${what} at offset ${offset}`);
}

class Reader {
  pos = 0;
  /** End of the innermost length-delimited section being read. */
  limit: number;
  /** Result of varint64() and fixed64(). */
  lo = 0;
  hi = 0;

  constructor(readonly buf: Buffer) {
    this.limit = buf.length;
  }

  /** A field key (number << 3 | wire type). */
  key(): number {
    const start = this.pos;
    const key = this.varint32();
    if (key >>> 3 === 0) throw malformed('field number 0', start);
    return key;
  }

  /** A varint's low 32 bits, unsigned. */
  varint32(): number {
    const buf = this.buf;
    let pos = this.pos;
    let value = 0;
    for (let shift = 0; shift < 70; shift += 7) {
      if (pos >= this.limit) throw malformed('truncated varint', this.pos);
      const b = buf[pos++] as number;
      if (shift < 32) value |= (b & 0x7f) << shift;
      if (b < 0x80) {
        this.pos = pos;
        return value >>> 0;
      }
    }
    throw malformed('varint longer than 10 bytes', this.pos);
  }

  varint64(): void {
    const buf = this.buf;
    let pos = this.pos;
    let lo = 0;
    let hi = 0;
    for (let shift = 0; shift < 70; shift += 7) {
      if (pos >= this.limit) throw malformed('truncated varint', this.pos);
      const b = buf[pos++] as number;
      if (shift < 28) {
        lo |= (b & 0x7f) << shift;
      } else if (shift === 28) {
        lo |= (b & 0x7f) << 28;
        hi = (b & 0x7f) >>> 4;
      } else {
        hi |= (b & 0x7f) << (shift - 32);
      }
      if (b < 0x80) {
        this.pos = pos;
        this.lo = lo >>> 0;
        this.hi = hi >>> 0;
        return;
      }
    }
    throw malformed('varint longer than 10 bytes', this.pos);
  }

  private need(n: number): number {
    const start = this.pos;
    if (n > this.limit - start) throw malformed('truncated message', start);
    this.pos = start + n;
    return start;
  }

  fixed32(): number {
    return this.buf.readUInt32LE(this.need(4));
  }

  fixed64(): void {
    const start = this.need(8);
    this.lo = this.buf.readUInt32LE(start);
    this.hi = this.buf.readUInt32LE(start + 4);
  }

  float(): number {
    return this.buf.readFloatLE(this.need(4));
  }

  double(): number {
    return this.buf.readDoubleLE(this.need(8));
  }

  /** Reads a length prefix and checks it against what is left. */
  private length(): number {
    const start = this.pos;
    const n = this.varint32();
    if (n > this.limit - this.pos) throw malformed(`length ${n} beyond the end`, start);
    return n;
  }

  string(): string {
    const start = this.need(this.length());
    return this.buf.toString('utf8', start, this.pos);
  }

  bytes(): Buffer {
    const start = this.need(this.length());
    return this.buf.subarray(start, this.pos);
  }

  /** Enters a length-delimited section: reads stop at its end. Returns the outer limit, to restore after. */
  enter(): number {
    const n = this.length();
    const outer = this.limit;
    this.limit = this.pos + n;
    return outer;
  }

  skip(wireType: number): void {
    switch (wireType) {
      case VARINT:
        this.varint32();
        return;
      case I64:
        this.need(8);
        return;
      case LEN:
        this.need(this.length());
        return;
      case I32:
        this.need(4);
        return;
      default:
        throw malformed(`invalid wire type ${wireType}`, this.pos);
    }
  }
}

class Writer {
  private buf = Buffer.allocUnsafe(256);
  private pos = 0;

  private ensure(n: number): Buffer {
    if (this.pos + n > this.buf.length) {
      let size = this.buf.length * 2;
      while (size < this.pos + n) size *= 2;
      const next = Buffer.allocUnsafe(size);
      this.buf.copy(next, 0, 0, this.pos);
      this.buf = next;
    }
    return this.buf;
  }

  varint32(value: number): void {
    const buf = this.ensure(5);
    let pos = this.pos;
    let v = value;
    while (v > 0x7f) {
      buf[pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[pos++] = v;
    this.pos = pos;
  }

  varint64(lo: number, hi: number): void {
    const buf = this.ensure(10);
    let pos = this.pos;
    let l = lo;
    let h = hi;
    while (h !== 0) {
      buf[pos++] = (l & 0x7f) | 0x80;
      l = ((l >>> 7) | (h << 25)) >>> 0;
      h >>>= 7;
    }
    while (l > 0x7f) {
      buf[pos++] = (l & 0x7f) | 0x80;
      l >>>= 7;
    }
    buf[pos++] = l;
    this.pos = pos;
  }

  fixed32(value: number): void {
    this.pos = this.ensure(4).writeUInt32LE(value, this.pos);
  }

  fixed64(lo: number, hi: number): void {
    const buf = this.ensure(8);
    buf.writeUInt32LE(lo, this.pos);
    this.pos = buf.writeUInt32LE(hi, this.pos + 4);
  }

  float(value: number): void {
    this.pos = this.ensure(4).writeFloatLE(value, this.pos);
  }

  double(value: number): void {
    this.pos = this.ensure(8).writeDoubleLE(value, this.pos);
  }

  bytes(value: ArrayLike<number>): void {
    const n = value.length >>> 0;
    this.varint32(n);
    this.ensure(n).set(value, this.pos);
    this.pos += n;
  }

  string(value: string): void {
    const n = Buffer.byteLength(value);
    this.varint32(n);
    this.pos += this.ensure(n).write(value, this.pos, n, 'utf8');
  }

  /** Reserves one byte for a length prefix; returns where the content starts. */
  beginLength(): number {
    this.ensure(1);
    return ++this.pos;
  }

  /** Writes the length of what followed beginLength(), moving the content if the prefix needs more bytes. */
  endLength(start: number): void {
    const n = this.pos - start;
    if (n < 0x80) {
      this.buf[start - 1] = n;
      return;
    }
    let extra = 0;
    for (let v = n >>> 7; v > 0x7f; v >>>= 7) extra++;
    extra++;
    const buf = this.ensure(extra);
    buf.copyWithin(start + extra, start, this.pos);
    const end = this.pos + extra;
    this.pos = start - 1;
    this.varint32(n);
    this.pos = end;
  }

  finish(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}
