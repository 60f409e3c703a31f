import * as v from 'valibot';
import type { RetentionPolicy } from '../retention.js';
import {
  everyText,
  issuePath,
  kubeDataKey,
  kubeName,
  kubeNamespace,
  nonEmptyString,
  retentionPolicy,
} from '../validation.js';
import { safeSourceName } from './manifest.js';
import { CONFIG_TLS_NAMES, SSL_MODES, tlsSettings } from './tls.js';
import { PROGRAMS, type ProgramKey } from './tools.js';
import { parseMysqlUrl, TLS_GIVEN_TWICE } from './url.js';

/**
 * `databases:` in lifeboat.yaml: the MySQL/MariaDB databases the scheduler dumps (and `lifeboat backup mysql NAME`
 * picks by name). Passwords are never in the file: a password file, a Kubernetes Secret, or MYSQL_PWD.
 *
 *   databases:
 *     - name: shop
 *       url: mysql://backup@10.0.0.20:3306/shop
 *       passwordSecret: { namespace: shop, name: shop-mysql, key: mysql-password }
 *       every: 6h
 *       retention: { keepLast: 4, daily: 14, monthly: 6 }     # without it, every dump is kept
 *       tls: { mode: VERIFY_IDENTITY, secret: { namespace: shop, name: shop-mysql-client-tls } }
 */

const mysqlUrl = v.pipe(
  v.string(),
  v.minLength(1),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const parsed = parseMysqlUrl(dataset.value);
    if ('error' in parsed) addIssue({ message: parsed.error });
  }),
);

/**
 * `tls:` of a database: MySQL's ssl-mode and PEM file paths, and/or a Secret holding the PEM files (ca.crt, tls.crt,
 * tls.key; a path given here wins over the Secret's file). Checked again with the Secret's files when it is read.
 */
const tlsSchema = v.pipe(
  v.strictObject({
    mode: v.optional(
      v.pipe(
        v.string(),
        v.transform((m) => m.toUpperCase()),
        v.picklist(SSL_MODES, `one of ${SSL_MODES.join(', ')}`),
      ),
    ),
    ca: v.optional(nonEmptyString),
    cert: v.optional(nonEmptyString),
    key: v.optional(nonEmptyString),
    secret: v.optional(v.strictObject({ namespace: kubeNamespace, name: kubeName })),
  }),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed || dataset.value.secret) return;
    const checked = tlsSettings(dataset.value, CONFIG_TLS_NAMES);
    if (checked && 'error' in checked) addIssue({ message: checked.error });
  }),
);

export type DatabaseTlsConfig = v.InferOutput<typeof tlsSchema>;

export const databaseSchema = v.pipe(
  v.strictObject({
    name: v.pipe(
      v.string(),
      v.regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, ".", "_" and "-" only (it names backup files)'),
    ),
    url: mysqlUrl,
    passwordFile: v.optional(nonEmptyString),
    passwordSecret: v.optional(v.strictObject({ namespace: kubeNamespace, name: kubeName, key: kubeDataKey })),
    every: v.optional(everyText),
    /** GFS retention of this database's dumps (`prune`, and serve after each dump). */
    retention: v.optional(retentionPolicy),
    tls: v.optional(tlsSchema),
  }),
  v.check((d) => !(d.passwordFile && d.passwordSecret), 'give passwordFile or passwordSecret, not both'),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed || !dataset.value.tls) return;
    const { secret: _, ...given } = dataset.value.tls;
    const parsed = parseMysqlUrl(dataset.value.url, { tls: given, names: CONFIG_TLS_NAMES });
    if ('error' in parsed && parsed.error === TLS_GIVEN_TWICE)
      addIssue({ message: parsed.error, path: issuePath(['tls']) });
  }),
);

export const databasesSchema = v.pipe(
  v.array(databaseSchema),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const seen = new Set<string>();
    dataset.value.forEach((d, i) => {
      if (seen.has(d.name)) addIssue({ message: `duplicate database name "${d.name}"`, path: issuePath([i, 'name']) });
      seen.add(d.name);
    });
  }),
);

export type DatabaseConfig = v.InferOutput<typeof databaseSchema>;

/**
 * `mysqlTools:` the MySQL/MariaDB programs to run, when they are not the ones on PATH (a MySQL client of the server's
 * version, a server for restore drills of another engine). Each may be a wrapper script. The environment variables
 * (LIFEBOAT_MYSQLDUMP, LIFEBOAT_MYSQLD, ...; src/domain/mysql/tools.ts) win over these.
 *
 *   mysqlTools:
 *     mysqldump: /opt/mysql-9.1/bin/mysqldump
 *     mysqld: /opt/mysql-9.1/bin/mysqld
 */
export const mysqlToolsSchema = v.strictObject(
  Object.fromEntries(Object.keys(PROGRAMS).map((k) => [k, v.optional(nonEmptyString)])) as Record<
    ProgramKey,
    v.OptionalSchema<typeof nonEmptyString, undefined>
  >,
);

/**
 * The retention of each source's dumps: a configured database's own, found by the source name its dumps carry; none
 * (keep everything) for a database without one and for dumps of sources not in the config.
 */
export function dumpRetention(databases: readonly DatabaseConfig[] = []): (source: string) => RetentionPolicy {
  const bySource = new Map(databases.map((d) => [safeSourceName(d.name), d.retention ?? {}]));
  return (source) => bySource.get(source) ?? {};
}

/** How often a configured database is dumped when `every` is not given. */
export const DEFAULT_DATABASE_EVERY = '24h';
