import type { RunReport } from '../app/backup/scheduled.js';
import type { CatalogEntry, Drilled, PrunePlan } from '../domain/backup/catalog.js';
import type { BackupManifest } from '../domain/backup/manifest.js';
import { manifestNameFor } from '../domain/backup/naming.js';
import { formatBytes } from '../domain/units.js';
import type { Output } from './output.js';
import { renderTable } from './table.js';

/** How backup, list, prune and verify show themselves. (Presentation only; nothing else renders backups.) */

/** `backup etcd --json`: docs/ARCHITECTURE.md's shape first, then the rest of the manifest. */
export function backupDocument(m: BackupManifest) {
  return {
    location: m.location,
    sha256: m.sha256,
    size: m.size,
    revision: m.revision,
    clusterId: m.clusterId,
    memberId: m.memberId,
    etcdVersion: m.etcdVersion,
    createdAt: m.createdAt,
    name: m.name,
    manifest: `${m.location}.manifest.json`,
    memberName: m.memberName,
    endpoint: m.endpoint,
    keys: m.keys,
    hashKV: m.hashKV,
    encrypted: m.encrypted,
    plaintextSha256: m.plaintextSha256,
    seconds: m.seconds,
  };
}

export function backupLine(m: BackupManifest): string {
  const enc = m.encrypted ? ', encrypted' : '';
  const from = m.memberName || m.endpoint;
  return `${m.location}: ${formatBytes(m.size)} at revision ${m.revision} (${m.keys} keys) from ${from}, sha256 checked${enc}, ${m.seconds}s`;
}

/** One scheduled run (`backup etcd --every`) as its log line: each step done, in order, then what failed. */
export function scheduledRunLine(r: RunReport): string {
  const parts: string[] = [];
  if (r.manifest) parts.push(`backup ok ${backupLine(r.manifest)}`);
  if (r.pruned) parts.push(`pruned ${r.pruned.length}`);
  if (r.verify) parts.push(r.verify.ok ? 'verified ok' : `verify FAILED: ${r.verify.problems.join('; ')}`);
  if (r.error) parts.push(`FAILED: ${r.error}`);
  return `${r.at} run ${r.run}: ${parts.join('; ')}`;
}

/** One scheduled run as a JSON line: the backup as `backup etcd --json` shows it. */
export function scheduledRunDocument(r: RunReport) {
  return {
    at: r.at,
    run: r.run,
    ok: r.ok,
    ...(r.manifest ? { backup: backupDocument(r.manifest) } : {}),
    ...(r.pruned ? { pruned: r.pruned } : {}),
    ...(r.verify ? { verify: r.verify } : {}),
    ...(r.error !== undefined ? { error: r.error } : {}),
  };
}

/** A byte counter rewritten in place on a terminal (stderr), at most every 100 ms; silent otherwise. */
export function progressMeter(
  out: Output,
  label: string,
): { update(bytes: number, total: number): void; done(): void } {
  const tty = Boolean(process.stderr.isTTY) && !out.json;
  let last = 0;
  let shown = false;
  return {
    update(bytes, total) {
      if (!tty || (Date.now() - last < 100 && bytes < total)) return;
      last = Date.now();
      const pct = total > 0 ? ` (${Math.min(100, Math.floor((bytes * 100) / total))}%)` : '';
      process.stderr.write(`\r${label}: ${formatBytes(bytes)} / ${formatBytes(total)}${pct}\u001b[K`);
      shown = true;
    },
    done() {
      if (shown) process.stderr.write('\r\u001b[K');
    },
  };
}

export function listDocument(store: { location: string; locate(name: string): string }, entries: CatalogEntry[]) {
  return {
    location: store.location,
    backups: entries.map((e) => ({
      name: e.name,
      location: store.locate(e.name),
      createdAt: new Date(e.createdAt).toISOString(),
      size: e.size,
      revision: e.manifest?.revision ?? null,
      keys: e.manifest?.keys ?? null,
      encrypted: e.encrypted,
      verified: e.verified,
      verifiedAt: e.manifest?.verified?.at ?? null,
      manifest: e.manifest ? 'ok' : e.manifestError ? 'unreadable' : 'missing',
    })),
  };
}

export function renderList(out: Output, location: string, entries: CatalogEntry[]): string {
  if (entries.length === 0) return `no etcd backups in ${location}`;
  const c = out.color;
  const verified = (e: CatalogEntry) =>
    e.verified === true ? c.green('yes') : e.verified === false ? c.red('FAILED') : c.yellow('never');
  const rows = entries.map((e) => [
    new Date(e.createdAt).toISOString().replace('T', ' ').slice(0, 19),
    formatBytes(e.size),
    e.manifest ? String(e.manifest.revision) : e.manifestError ? c.red('bad manifest') : c.yellow('no manifest'),
    verified(e),
    e.name + (e.encrypted ? ' (age)' : ''),
  ]);
  return `${entries.length} etcd backup(s) in ${location}\n${renderTable(['WHEN (UTC)', 'SIZE', 'REVISION', 'VERIFIED', 'NAME'], rows)}`;
}

/** `backup list --json`: Helm captures (no manifest and no restore drill: when, how big, encrypted). */
export function captureListDocument(store: { locate(name: string): string }, entries: CatalogEntry<Drilled>[]) {
  return entries.map((e) => ({
    name: e.name,
    location: store.locate(e.name),
    createdAt: new Date(e.createdAt).toISOString(),
    size: e.size,
    files: e.objects?.length ?? 0,
    encrypted: e.encrypted,
  }));
}

export function renderCaptureList(entries: CatalogEntry<Drilled>[]): string {
  const rows = entries.map((e) => [
    new Date(e.createdAt).toISOString().replace('T', ' ').slice(0, 19),
    formatBytes(e.size),
    String(e.objects?.length ?? 0),
    e.name + (e.encrypted ? ' (age)' : ''),
  ]);
  return `${entries.length} Helm capture(s)\n${renderTable(['WHEN (UTC)', 'SIZE', 'FILES', 'NAME'], rows)}`;
}

export function renderPrune(plan: PrunePlan, dryRun: boolean, noun = 'backup'): string {
  const verb = dryRun ? 'would delete' : 'deleted';
  if (plan.remove.length === 0 && plan.orphanManifests.length === 0) {
    return `nothing to prune: ${plan.keep.length} ${noun}(s) kept by the retention policy`;
  }
  const lines = plan.remove.map((r) => {
    const rest =
      r.objects.length === 2 && r.objects[1] === manifestNameFor(r.name)
        ? ' and its manifest'
        : r.objects.length > 1
          ? ` (${r.objects.length} files)`
          : '';
    return `  ${verb} ${r.name} (${new Date(r.createdAt).toISOString()}, ${formatBytes(r.size)})${rest}`;
  });
  for (const o of plan.orphanManifests) lines.push(`  ${verb} ${o} (manifest of a ${noun} that is gone)`);
  const head = `${dryRun ? 'dry run: ' : ''}${verb} ${plan.remove.length} ${noun}(s), kept ${plan.keep.length}`;
  return [head, ...lines].join('\n');
}
