import { z } from 'zod';
import { MANIFEST_SUFFIX } from '../backup/naming.js';

/**
 * `NAME.manifest.json` beside every database dump: where it came from, what it holds (per-table row counts and
 * checksums as dumped, views, triggers, routines, events), and the latest restore drill. Fields are added freely and
 * never renamed; unknown fields written by a newer version survive a rewrite.
 */

export const MYSQL_MANIFEST_FORMAT = 'lifeboat.mysql-dump.v1';
export const MYSQL_PREFIX = 'mysql/';

const tableSchema = z.looseObject({
  database: z.string(),
  table: z.string(),
  rows: z.number(),
  checksum: z.string(),
});

const serverSchema = z.looseObject({ flavor: z.enum(['mariadb', 'mysql']), version: z.string(), raw: z.string() });

const verificationSchema = z.looseObject({
  ok: z.boolean(),
  at: z.string(),
  seconds: z.number(),
  tables: z.number(),
  rows: z.number(),
  scratchVersion: z.string().nullable(),
  problems: z.array(z.string()),
  warnings: z.array(z.string()),
  toolVersion: z.string().optional(),
});

export const mysqlManifestSchema = z.looseObject({
  format: z.literal(MYSQL_MANIFEST_FORMAT),
  name: z.string(),
  location: z.string(),
  /** The configured name, or one derived from host and database. */
  source: z.string(),
  /** The URL without any secret. */
  url: z.string(),
  server: serverSchema,
  dumpTool: z.looseObject({ command: z.string(), version: z.string(), flavor: z.string() }),
  databases: z.array(z.string()),
  tables: z.array(tableSchema),
  views: z.array(z.string()),
  triggers: z.array(z.string()),
  routines: z.array(z.string()),
  events: z.array(z.string()),
  rows: z.number(),
  checksumAlgorithm: z.string(),
  /** How the counts relate to the data: taken from the dump stream itself (ADR 005). */
  consistency: z.string(),
  compression: z.literal('gzip'),
  /** Stored bytes (after gzip and, when configured, age). */
  size: z.number(),
  sha256: z.string(),
  /** The SQL text before compression. */
  plaintextSize: z.number(),
  encrypted: z.boolean(),
  recipients: z.array(z.string()).optional(),
  createdAt: z.string(),
  seconds: z.number(),
  toolVersion: z.string(),
  warnings: z.array(z.string()).optional(),
  verified: verificationSchema.nullable(),
});

export type MysqlManifest = z.infer<typeof mysqlManifestSchema>;
export type MysqlVerification = z.infer<typeof verificationSchema>;

export function parseMysqlManifest(text: string): { manifest: MysqlManifest } | { error: string } {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return { error: 'not valid JSON' };
  }
  const result = mysqlManifestSchema.safeParse(data);
  if (result.success) return { manifest: result.data };
  const issue = result.error.issues[0]!;
  return { error: `${issue.path.join('.') || '(top)'}: ${issue.message}` };
}

export function renderMysqlManifest(manifest: MysqlManifest): string {
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

/** A source name safe for an object key. */
export function safeSourceName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[-.]+|[-.]+$/g, '') || 'mysql';
}

/** What to call a source without a configured name: `shop` for a URL naming one database, else the host. */
export function defaultSourceName(host: string, database?: string): string {
  return safeSourceName(database ?? host);
}

/** `mysql/2026-11-27T150905.123Z-shop.sql.gz` (`.age` appended when encrypted): names sort by time. */
export function dumpName(createdAt: number, source: string, encrypted: boolean): string {
  const iso = new Date(createdAt).toISOString();
  const stamp = `${iso.slice(0, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 23)}Z`;
  return `${MYSQL_PREFIX}${stamp}-${safeSourceName(source)}.sql.gz${encrypted ? '.age' : ''}`;
}

const NAME = /^mysql\/(\d{4}-\d{2}-\d{2}T\d{6}\.\d{3}Z)-([A-Za-z0-9._-]+)\.sql\.gz(\.age)?$/;

export function parseDumpName(name: string): { stamp: string; source: string; encrypted: boolean } | undefined {
  const m = NAME.exec(name);
  return m ? { stamp: m[1]!, source: m[2]!, encrypted: m[3] !== undefined } : undefined;
}

/** The newest dump among object names (optionally of one source); names sort chronologically. */
export function newestDump(names: readonly string[], source?: string): string | undefined {
  const dumps = names.filter((n) => {
    const parsed = parseDumpName(n);
    return parsed !== undefined && (source === undefined || parsed.source === safeSourceName(source));
  });
  return dumps.sort((a, b) => (parseDumpName(a)!.stamp < parseDumpName(b)!.stamp ? -1 : 1)).at(-1);
}

export function mysqlManifestName(dump: string): string {
  return `${dump}${MANIFEST_SUFFIX}`;
}
