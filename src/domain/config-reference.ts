import type * as v from 'valibot';
import { configSchema } from './config.js';
import { CONFIG_DOCS, type KeyDoc } from './config-docs.js';
import { count, durationText } from './validation.js';

/**
 * docs/CONFIG.md, generated from the config schema itself (keys, types, what is required) and CONFIG_DOCS (words,
 * defaults, examples), so the reference cannot drift from what the code accepts: test/unit/config-reference.test.ts
 * fails when the committed file differs (`npm run build && npm run docs:config` rewrites it).
 */

export interface ConfigKey {
  /** `backups.to`, `nodes[].reboot[].cron` (`[]`: inside each item of a list). */
  path: string;
  type: string;
  required: boolean;
  /** The schema of the value, to check examples with. */
  schema: v.GenericSchema;
  /** For objects and lists of objects: keys below it exist. */
  hasChildren: boolean;
}

// valibot schemas are plain objects: their `type` says what they are (strict_object, optional, array, union...).
interface AnySchema {
  type: string;
  wrapped?: AnySchema;
  entries?: Record<string, AnySchema>;
  item?: AnySchema;
  options?: AnySchema[] | string[];
  pipe?: Array<{ type: string; requirement?: unknown }>;
}

/** Every key of the schema, depth first, in the schema's order. Keys shared by union members appear once. */
export function configKeys(schema: v.GenericSchema = configSchema): ConfigKey[] {
  const keys = new Map<string, ConfigKey>();
  const visitObject = (object: AnySchema, prefix: string) => {
    for (const [name, entry] of Object.entries(object.entries ?? {})) {
      const optional = entry.type === 'optional';
      const value = optional ? entry.wrapped! : entry;
      const path = prefix ? `${prefix}.${name}` : name;
      const below = objectsBelow(value);
      if (!keys.has(path)) {
        keys.set(path, {
          path,
          type: typeOf(value),
          required: !optional,
          schema: value as unknown as v.GenericSchema,
          hasChildren: below.length > 0,
        });
      }
      const childPrefix = value.type === 'array' ? `${path}[]` : path;
      for (const child of below) visitObject(child, childPrefix);
    }
  };
  visitObject(schema as unknown as AnySchema, '');
  return [...keys.values()];
}

/** The object schemas whose keys sit under a value: itself, its list items, the members of a union. */
function objectsBelow(value: AnySchema): AnySchema[] {
  if (value.type === 'strict_object' || value.type === 'object') return [value];
  if (value.type === 'array') return objectsBelow(value.item!);
  if (value.type === 'union') return (value.options as AnySchema[]).flatMap(objectsBelow);
  return [];
}

function typeOf(value: AnySchema): string {
  if ((value as unknown) === durationText) return 'duration (30s, 10m, 1h30m, 7d)';
  // A schema piped from another (a bounded duration, a name with a check more): the type of what it builds on.
  const base = value.pipe?.[0] as (AnySchema & { kind?: string }) | undefined;
  if (base?.pipe !== undefined && (base as unknown) !== value) return typeOf(base);
  if ((value as unknown) === count) return 'whole number ≥ 0';
  switch (value.type) {
    case 'strict_object':
    case 'object':
      return 'mapping';
    case 'array': {
      const min = value.pipe?.find((a) => a.type === 'min_length')?.requirement;
      const item = value.item!;
      const itemType = item.type === 'union' ? 'entries' : item.type.endsWith('object') ? 'mappings' : typeOf(item);
      return `list of ${plural(itemType)}${typeof min === 'number' && min > 0 ? ` (at least ${min})` : ''}`;
    }
    case 'union':
      return 'one of several mappings';
    case 'picklist':
      return `one of ${(value.options as string[]).map((o) => `\`${o}\``).join(', ')}`;
    case 'number': {
      const integer = value.pipe?.some((a) => a.type === 'integer');
      const min = value.pipe?.find((a) => a.type === 'min_value')?.requirement;
      return `${integer ? 'whole number' : 'number'}${min !== undefined ? ` ≥ ${min}` : ''}`;
    }
    case 'string': {
      const nonEmpty = value.pipe?.some((a) => a.type === 'min_length');
      return nonEmpty ? 'string (not empty)' : 'string';
    }
    default:
      return value.type;
  }
}

function plural(type: string): string {
  if (type === 'string (not empty)') return 'non-empty strings';
  if (type === 'string') return 'strings';
  if (type.startsWith('one of')) return `values, each ${type}`;
  return type;
}

/** The doc of a key: its full path, else the longest dotted tail of it that CONFIG_DOCS names. */
export function docOf(
  path: string,
  docs: Record<string, KeyDoc> = CONFIG_DOCS,
): { key: string; doc: KeyDoc } | undefined {
  const parts = path.split('.');
  for (let i = 0; i < parts.length; i++) {
    const key = parts.slice(i).join('.');
    if (docs[key]) return { key, doc: docs[key] };
  }
  return undefined;
}

/** A value as it would be written in lifeboat.yaml, on one line. */
export function yamlInline(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(yamlInline).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    return `{ ${Object.entries(value)
      .map(([k, item]) => `${k}: ${yamlInline(item)}`)
      .join(', ')} }`;
  }
  if (typeof value === 'string') {
    // Plain when YAML reads it back as the same string; quoted otherwise (`0 4 * * 1`, `true`, `10:00`...).
    const plain =
      /^[A-Za-z0-9/.][A-Za-z0-9_./@+-]*$/.test(value) &&
      !/^(true|false|yes|no|null|on|off|~)$/i.test(value) &&
      !/^[-+]?(\.?[0-9][0-9_]*\.?[0-9_]*([eE][-+]?[0-9]+)?|0x[0-9a-fA-F]+|0o[0-7]+|\.inf|\.nan)$/i.test(value) &&
      !/^\.\.?$/.test(value);
    return plain ? value : JSON.stringify(value);
  }
  return String(value);
}

const INTRO = `# lifeboat.yaml reference

<!-- Generated from src/domain/config.ts and src/domain/config-docs.ts by \`npm run docs:config\`. Do not edit:
     test/unit/config-reference.test.ts fails when this file differs from what the schema says. -->

Lifeboat reads \`./lifeboat.yaml\`, or the file given with \`-c FILE\`. Every key is optional unless marked
**required**; an unknown key is an error (with file, line and column), because it is a typo until proven otherwise.
\`lifeboat init\` writes a commented file for the host it runs on. \`[]\` in a key means "in each item of the list".

Flags and environment win over the file: \`--endpoints\`, \`--cacert\`, \`--cert\`, \`--key\`, \`--user\` and
\`ETCDCTL_ENDPOINTS\`, \`ETCDCTL_CACERT\`, \`ETCDCTL_CERT\`, \`ETCDCTL_KEY\`, \`ETCDCTL_USER\`, \`ETCDCTL_PASSWORD\`.
Secrets never go in the file: passwords come from the environment or a file it names, backups are encrypted to age
public keys.
`;

export function renderConfigReference(
  keys: ConfigKey[] = configKeys(),
  docs: Record<string, KeyDoc> = CONFIG_DOCS,
): string {
  const out: string[] = [INTRO];
  for (const key of keys) {
    const top = !key.path.includes('.') && !key.path.includes('[');
    if (top) out.push(`## \`${key.path}\`\n`);
    else out.push(`### \`${key.path}\`\n`);
    const found = docOf(key.path, docs);
    if (!found)
      throw new Error(`no documentation for lifeboat.yaml key ${key.path} (add it to src/domain/config-docs.ts)`);
    const { doc } = found;
    const facts = [`type: ${key.type}`];
    const parent = key.path.replace(/\.[^.]*$/, '');
    if (key.required) facts.push(parent === key.path ? '**required**' : `**required** in \`${parent}\``);
    if (doc.default !== undefined) facts.push(`default: ${doc.default}`);
    out.push(`${facts.join(' · ')}\n`);
    out.push(`${doc.text}\n`);
    if (doc.example !== undefined)
      out.push(`Example: \`${key.path.replace(/^.*\./, '')}: ${yamlInline(doc.example)}\`\n`);
  }
  return `${out.join('\n').trimEnd()}\n`;
}
