import * as v from 'valibot';
import type { BackupName } from '../backup/catalog.js';
import { MANIFEST_SUFFIX, parseStamp } from '../backup/naming.js';
import { parseJson } from '../validation.js';
import { flavorName, serverInfo } from './tools.js';

/**
 * `NAME.manifest.json` beside every database dump: where it came from, what it holds (per-table row counts and
 * checksums as dumped, views, triggers, routines, events), and the latest restore drill. Fields are added freely and
 * never renamed; unknown fields written by a newer version survive a rewrite.
 */

export const MYSQL_MANIFEST_FORMAT = 'lifeboat.mysql-dump.v1';
export const MYSQL_PREFIX = 'mysql/';

const tableSchema = v.looseObject({
  database: v.string(),
  table: v.string(),
  rows: v.number(),
  checksum: v.string(),
});

const serverSchema = v.looseObject({ flavor: v.picklist(['mariadb', 'mysql']), version: v.string(), raw: v.string() });

const verificationSchema = v.looseObject({
  ok: v.boolean(),
  at: v.string(),
  seconds: v.number(),
  tables: v.number(),
  rows: v.number(),
  scratchVersion: v.nullable(v.string()),
  problems: v.array(v.string()),
  warnings: v.array(v.string()),
  toolVersion: v.optional(v.string()),
});

export const mysqlManifestSchema = v.looseObject({
  format: v.literal(MYSQL_MANIFEST_FORMAT),
  name: v.string(),
  location: v.string(),
  /** The configured name, or one derived from host and database. */
  source: v.string(),
  /** The URL without any secret. */
  url: v.string(),
  server: serverSchema,
  dumpTool: v.looseObject({ command: v.string(), version: v.string(), flavor: v.string() }),
  databases: v.array(v.string()),
  tables: v.array(tableSchema),
  views: v.array(v.string()),
  triggers: v.array(v.string()),
  routines: v.array(v.string()),
  events: v.array(v.string()),
  rows: v.number(),
  checksumAlgorithm: v.string(),
  /** How the counts relate to the data: taken from the dump stream itself (ADR 005). */
  consistency: v.string(),
  compression: v.literal('gzip'),
  /** Stored bytes (after gzip and, when configured, age). */
  size: v.number(),
  sha256: v.string(),
  /** The SQL text before compression. */
  plaintextSize: v.number(),
  encrypted: v.boolean(),
  recipients: v.optional(v.array(v.string())),
  createdAt: v.string(),
  seconds: v.number(),
  toolVersion: v.string(),
  warnings: v.optional(v.array(v.string())),
  verified: v.nullable(verificationSchema),
  /** The latest drill could not run (no scratch server of the dump's engine and major version here): why. */
  unverified: v.optional(v.looseObject({ at: v.string(), reason: v.string() })),
});

export type MysqlManifest = v.InferOutput<typeof mysqlManifestSchema>;
export type MysqlVerification = v.InferOutput<typeof verificationSchema>;

export function parseMysqlManifest(text: string): { manifest: MysqlManifest } | { error: string } {
  const parsed = parseJson(mysqlManifestSchema, text);
  return 'error' in parsed ? parsed : { manifest: trustedVerification(parsed.value) };
}

/**
 * A passed drill counts only when it ran in the dump's own engine: earlier versions verified MySQL dumps in a scratch
 * MariaDB, which says nothing about a restore into MySQL (ERROR 3105 on generated columns, unknown 0900 collations).
 * Such a result reads as unverified, with the reason, everywhere (backup list, serve, metrics, retention).
 */
export function trustedVerification(m: MysqlManifest): MysqlManifest {
  const drill = m.verified;
  if (!drill?.ok) return m;
  const scratch = drill.scratchVersion ? serverInfo(drill.scratchVersion) : undefined;
  if (scratch && scratch.flavor === m.server.flavor) return m;
  const where = scratch ? `a scratch ${flavorName(scratch.flavor)}` : 'an unknown scratch server';
  return {
    ...m,
    verified: null,
    unverified: {
      at: drill.at,
      reason: `verified in ${where}, which does not prove a restore into ${flavorName(m.server.flavor)}: run verify mysql again`,
    },
  };
}

/** A drill's result as the manifest keeps it: a drill that could not run leaves an earlier real result alone. */
export function withDrill(
  m: MysqlManifest,
  drill: MysqlVerification & { status: 'verified' | 'failed' | 'unverified'; reason?: string },
): MysqlManifest {
  const { status, reason, ...verified } = drill;
  if (status === 'unverified') {
    if (m.verified) return m;
    return { ...m, unverified: { at: drill.at, reason: reason ?? 'no scratch server' } };
  }
  const { unverified: _gone, ...rest } = m;
  return { ...rest, verified };
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

/** A dump as the backup catalog sees it: retention applies to each source on its own. */
export function dumpBackupName(name: string): BackupName | undefined {
  const parsed = parseDumpName(name);
  const createdAt = parsed && parseStamp(parsed.stamp);
  return createdAt === undefined ? undefined : { createdAt, encrypted: parsed!.encrypted, group: parsed!.source };
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
