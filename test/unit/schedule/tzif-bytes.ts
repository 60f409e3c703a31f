/** Hand-built TZif files (RFC 8536) for parser tests: only what the tests need, no leap seconds, no indicators. */

export interface TzifSpec {
  /** 0 writes a version-1 file (32-bit data, no footer); 2..4 add the 64-bit block and the footer. */
  version: 0 | 2 | 3 | 4;
  /** Transition instants in seconds, ascending, each with the index of the local time type it switches to. */
  transitions: [seconds: number, type: number][];
  /** Local time types: UTC offset in seconds, abbreviation. */
  types: [utoff: number, abbreviation: string][];
  /** Footer TZ string; undefined leaves the footer out altogether (not even the newlines). */
  footer?: string;
  /** Transitions for the version-1 block of a version-2+ file, when they should differ from the 64-bit ones. */
  v1Transitions?: [seconds: number, type: number][];
}

export function tzifBytes(spec: TzifSpec): Uint8Array {
  const parts: number[][] = [];
  if (spec.version === 0) {
    parts.push(block(spec, spec.transitions, 0, 4));
  } else {
    parts.push(block(spec, spec.v1Transitions ?? spec.transitions, spec.version, 4));
    parts.push(block(spec, spec.transitions, spec.version, 8));
    if (spec.footer !== undefined) parts.push([...ascii(`\n${spec.footer}\n`)]);
  }
  return Uint8Array.from(parts.flat());
}

function block(spec: TzifSpec, transitions: [number, number][], version: number, timeSize: 4 | 8): number[] {
  const chars: number[] = [];
  const abbreviationIndex = spec.types.map(([, abbr]) => {
    const at = chars.length;
    chars.push(...ascii(abbr), 0);
    return at;
  });
  const out: number[] = [...ascii('TZif'), version === 0 ? 0 : 0x30 + version, ...new Array(15).fill(0)];
  for (const count of [0, 0, 0, transitions.length, spec.types.length, chars.length]) out.push(...int(count, 4));
  for (const [seconds] of transitions) out.push(...int(seconds, timeSize));
  for (const [, type] of transitions) out.push(type);
  spec.types.forEach(([utoff], i) => {
    out.push(...int(utoff, 4), 0, abbreviationIndex[i]!);
  });
  out.push(...chars);
  return out;
}

function int(value: number, size: 4 | 8): number[] {
  const view = new DataView(new ArrayBuffer(size));
  if (size === 8) view.setBigInt64(0, BigInt(value));
  else view.setInt32(0, value);
  return [...new Uint8Array(view.buffer)];
}

function ascii(text: string): number[] {
  return [...text].map((c) => c.charCodeAt(0));
}
