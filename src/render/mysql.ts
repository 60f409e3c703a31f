import type { MysqlRestoreOutcome } from '../app/restore/mysql.js';
import type { MysqlDrillOutcome } from '../app/verify-mysql.js';
import type { CatalogEntry } from '../domain/backup/catalog.js';
import { type Engine, GUIDE_INTRO, GUIDE_ORDER, type GuidePath, guideFor, type Have } from '../domain/mysql/guide.js';
import type { MysqlManifest } from '../domain/mysql/manifest.js';
import { formatBytes } from '../domain/units.js';
import type { Output } from './output.js';
import { renderTable } from './table.js';
import { terminalWidth, wrap } from './text.js';

/** How database backups, drills, restores and the guide show themselves. Presentation only. */

/** `backup mysql --json`. */
export function mysqlBackupDocument(m: MysqlManifest) {
  return {
    location: m.location,
    manifest: `${m.location}.manifest.json`,
    name: m.name,
    source: m.source,
    url: m.url,
    sha256: m.sha256,
    size: m.size,
    plaintextSize: m.plaintextSize,
    serverVersion: m.server.raw,
    databases: m.databases,
    tables: m.tables,
    rows: m.rows,
    views: m.views.length,
    triggers: m.triggers.length,
    routines: m.routines.length,
    events: m.events.length,
    encrypted: m.encrypted,
    createdAt: m.createdAt,
    seconds: m.seconds,
    warnings: m.warnings ?? [],
  };
}

/** `backup list --json`: the MySQL dumps beside the etcd snapshots. */
export function dumpListDocument(store: { locate(name: string): string }, entries: CatalogEntry<MysqlManifest>[]) {
  return entries.map((e) => ({
    name: e.name,
    location: store.locate(e.name),
    source: e.group,
    createdAt: new Date(e.createdAt).toISOString(),
    size: e.size,
    databases: e.manifest?.databases ?? null,
    rows: e.manifest?.rows ?? null,
    encrypted: e.encrypted,
    verified: e.verified,
    verifiedAt: e.manifest?.verified?.at ?? null,
    unverifiedReason: e.verified === null ? (e.manifest?.unverified?.reason ?? null) : null,
    manifest: e.manifest ? 'ok' : e.manifestError ? 'unreadable' : 'missing',
  }));
}

export function renderDumpList(out: Output, entries: CatalogEntry<MysqlManifest>[]): string {
  const c = out.color;
  const rows = entries.map((e) => [
    new Date(e.createdAt).toISOString().replace('T', ' ').slice(0, 19),
    formatBytes(e.size),
    e.group,
    e.manifest ? String(e.manifest.rows) : e.manifestError ? c.red('bad manifest') : c.yellow('no manifest'),
    e.verified === true ? c.green('yes') : e.verified === false ? c.red('FAILED') : c.yellow('unverified'),
    e.name + (e.encrypted ? ' (age)' : ''),
  ]);
  return `${entries.length} MySQL dump(s)\n${renderTable(['WHEN (UTC)', 'SIZE', 'SOURCE', 'ROWS', 'VERIFIED', 'NAME'], rows)}`;
}

export function mysqlBackupLine(m: MysqlManifest): string {
  const objects = [
    [m.views.length, 'view'],
    [m.triggers.length, 'trigger'],
    [m.routines.length, 'routine'],
    [m.events.length, 'event'],
  ]
    .filter(([n]) => Number(n) > 0)
    .map(([n, w]) => plural(Number(n), String(w)));
  const extra = objects.length ? `, ${objects.join(', ')}` : '';
  const enc = m.encrypted ? ', encrypted' : '';
  return `${m.location}: ${formatBytes(m.size)} (${formatBytes(m.plaintextSize)} SQL) of ${m.databases.join(', ')} from ${m.server.raw}: ${plural(m.tables.length, 'table')}, ${plural(m.rows, 'row')}${extra}${enc}, ${m.seconds}s`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export function drillLine(o: MysqlDrillOutcome): string {
  if (o.status === 'unverified') return `verify could not run for ${o.location}; it stays unverified: ${o.reason}`;
  if (!o.ok) return `verify FAILED for ${o.location} (${o.seconds.toFixed(1)}s):`;
  return `verify ok: ${o.location} loaded into a scratch ${o.scratchVersion ?? 'server'}; ${o.tables} tables, ${o.rows} rows, counts and checksums match (${o.seconds.toFixed(1)}s)`;
}

export function restoreLine(o: MysqlRestoreOutcome): string {
  if (!o.ok) return `restore of ${o.location} into ${o.target} finished with problems (${o.seconds.toFixed(1)}s):`;
  return `restored ${o.location} into ${o.target} (${o.databases.join(', ')}): ${o.tables} tables, ${o.rows} rows, counts match the dump (${o.seconds.toFixed(1)}s)`;
}

/** A line rewritten in place on a terminal (stderr), at most every 100 ms; silent with --json or without a TTY. */
export function statusMeter(out: Output): { update(text: string): void; done(): void } {
  const tty = Boolean(process.stderr.isTTY) && !out.json;
  let last = 0;
  let shown = false;
  return {
    update(text) {
      if (!tty || Date.now() - last < 100) return;
      last = Date.now();
      process.stderr.write(`\r${text.slice(0, (process.stderr.columns || 100) - 1)}\u001b[K`);
      shown = true;
    },
    done() {
      if (shown) process.stderr.write('\r\u001b[K');
    },
  };
}

export function dumpProgressText(source: string, p: { bytes: number; rows: number; table?: string }): string {
  return `dumping ${source}${p.table ? ` (${p.table})` : ''}: ${formatBytes(p.bytes)} SQL, ${p.rows.toLocaleString('en-US')} rows`;
}

export function loadProgressText(verb: string, bytes: number, total: number | undefined, rows: number): string {
  const pct = total ? ` / ${formatBytes(total)} (${Math.min(100, Math.floor((bytes * 100) / total))}%)` : '';
  return `${verb}: ${formatBytes(bytes)}${pct}, ${rows.toLocaleString('en-US')} rows`;
}

export function guideDocument(have?: Have, engine?: Engine) {
  const guide = guideFor(engine);
  const paths = have ? [guide[have]] : Object.values(guide);
  return { topic: 'mysql', engine: engine ?? null, intro: GUIDE_INTRO, order: GUIDE_ORDER, paths };
}

export function renderGuide(out: Output, have?: Have, engine?: Engine): string {
  const GUIDE = guideFor(engine);
  const c = out.color;
  const width = terminalWidth();
  const item = (prefix: string, text: string) => `   ${prefix}${wrap(text, width, 3 + stripped(prefix).length)}`;
  const section = (p: GuidePath, n?: number) =>
    [
      c.bold(`${n ? `${n}. ` : ''}${p.title}  (--have ${p.have})`),
      item('', p.when),
      ...p.steps.map((s, i) => item(`${i + 1}) `, s)),
      ...p.never.map((s) => item(`${c.red('never:')} `, s)),
    ].join('\n');
  if (have) return section(GUIDE[have]);
  const all = Object.values(GUIDE).map((p, i) => section(p, i + 1));
  return [wrap(GUIDE_INTRO, width), wrap(GUIDE_ORDER, width), '', all.join('\n\n')].join('\n');
}

function stripped(text: string): string {
  return text.replace(/\u001b\[[0-9;]*m/g, '');
}

const PASSWORD_HELP = `Passwords: MYSQL_PWD (as the stock clients read it), --password-file or --password-secret; never argv.
TLS: ?ssl-mode=REQUIRED|VERIFY_CA|VERIFY_IDENTITY&ssl-ca=FILE&ssl-cert=FILE&ssl-key=FILE in the URL, and/or
--tls-secret NS/NAME (a Secret's ca.crt, tls.crt, tls.key); configured databases take tls: in lifeboat.yaml.`;

/** `--help` texts of the database commands. */
export const HELP = {
  backup: `
Runs the server engine's own dump tool (MySQL: mysqldump; MariaDB: mariadb-dump) with --single-transaction --quick
--routines --triggers --events --hex-blob, streams it through gzip (and age) into the store, and commits only when
the dump exited 0, wrote its end marker and holds every table, view, trigger, routine and event information_schema
lists. A backup user lacking a privilege that hides objects (SHOW_ROUTINE, SHOW VIEW, TRIGGER, EVENT) is refused
before dumping. A MySQL server with only mariadb-dump here is refused (MySQL cannot load what it writes) unless
--allow-other-dump-tool. Programs: $LIFEBOAT_MYSQLDUMP / mysqlTools.mysqldump etc. (ADR 014). Per-table row counts
and checksums are read from the dump stream itself (ADR 005) into NAME.manifest.json.
${PASSWORD_HELP}

Examples:
  MYSQL_PWD=... lifeboat backup mysql --url mysql://backup@10.0.0.20:3306/shop --to /mnt/nfs/lifeboat
  lifeboat -c lifeboat.yaml backup mysql shop
  lifeboat backup mysql --url 'mysql://backup@mysql.shop:3306/shop?ssl-mode=VERIFY_IDENTITY' \\
    --tls-secret shop/mysql-tls --password-secret shop/mysql-auth/backup-password

Exit codes: 0 stored, 1 failed (nothing stored), 2 bad input or credentials.`,
  verify: `
Starts a scratch server of the dump's engine and major version (mysqld or mariadbd, found like the dump tools:
$LIFEBOAT_MYSQLD, $LIFEBOAT_MARIADBD, mysqlTools, PATH) on a fresh temp datadir (unix socket and a free 127.0.0.1
port, real grant tables), loads the dump, dumps the restored databases again and compares row counts and checksums
per table (JSON values compared as values), views, triggers, routines and events with the manifest. Without such a
server the dump stays unverified, with the reason, never "ok" (exit 1). A different minor version is a warning. The
server and its directory are removed afterwards, also on failure or Ctrl-C. The result is recorded in the manifest.

Examples:
  lifeboat -c lifeboat.yaml verify mysql --latest
  lifeboat verify mysql /mnt/nfs/lifeboat/mysql/2026-11-27T150905.123Z-shop.sql.gz --json

Exit codes: 0 the drill passed, 1 it failed or could not run (unverified), 2 bad input, 130 interrupted.`,
  restore: `
Without a database in --url every database of the dump is restored under its own name; with one, a single-database
dump is loaded under that name. Afterwards each table's row count is compared with the dump.
${PASSWORD_HELP}

Examples:
  MYSQL_PWD=... lifeboat restore mysql ./shop.sql.gz --url mysql://root@10.0.0.21:3306
  lifeboat -c lifeboat.yaml restore mysql --latest --source shop --url mysql://root@db-new/shop_restored

Exit codes: 0 restored and counts match, 1 failed, 2 bad input, credentials, or a non-empty target.`,
};
