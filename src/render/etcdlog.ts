import type { FollowEvent } from '../app/etcdlog/follow.js';
import type { ChainInfo, PointRestoreResult } from '../app/etcdlog/restore.js';
import type { LogPruneSummary } from '../app/prune.js';
import { formatDuration } from '../domain/duration.js';
import { formatBytes } from '../domain/units.js';
import { renderTable } from './table.js';

/** How the change log shows itself: follower events, chains and their windows, a point-in-time restore. */

export function followEventLine(e: FollowEvent): string {
  const at = new Date(e.at).toISOString().slice(11, 19);
  const tag = e.kind === 'gap' ? 'GAP' : e.kind;
  return `${at} ${tag}: ${e.message}`;
}

function stamp(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

/** One row per chain: the window a restore can reach, and why the chain began (a gap is said out loud). */
export function chainLines(chains: ChainInfo[]): string {
  if (chains.length === 0) return '';
  const rows = chains.map((c) => [
    c.chain.slice(0, 24),
    `${c.fromRevision}..${c.toRevision}`,
    `${stamp(c.fromTime).slice(5)} .. ${stamp(c.toTime).slice(11)}`,
    formatBytes(c.bytes),
    c.problem ? 'BROKEN' : c.reason === 'started' ? 'ok' : `after ${c.reason}`,
  ]);
  const gaps = chains
    .filter((c) => c.gap)
    .map((c) => `  gap before ${c.chain}: revisions ${c.gap!.lostFrom}.. were lost (${c.gap!.message})`);
  const broken = chains.filter((c) => c.problem).map((c) => `  ${c.chain}: ${c.problem}`);
  return [
    'Change log (restore etcd --at REVISION|TIME):',
    renderTable(['chain', 'revisions', 'window (UTC)', 'size', 'state'], rows),
    ...gaps,
    ...broken,
  ].join('\n');
}

export function restoreLine(r: PointRestoreResult): string {
  const rate = r.replaySeconds > 0 ? `, ${Math.round(r.replayedEvents / r.replaySeconds)} events/s` : '';
  return (
    `${r.file}: etcd at revision ${r.revision} (${formatBytes(r.size)}), from ${r.base} (revision ${r.baseRevision}) ` +
    `+ ${r.replayedRevisions} revisions replayed from chain ${r.chain}${rate}, ${r.seconds.toFixed(1)}s`
  );
}

/** What the change log's retention did (or would do), in a few lines; empty when it touched nothing. */
export function logPruneLines(log: LogPruneSummary, dryRun: boolean): string {
  const verb = dryRun ? 'would delete' : 'deleted';
  const lines = log.chains.map((c) =>
    c.deleteChain
      ? `  ${verb} chain ${c.chain} (${c.remove.length} log objects): no point of the window needs it`
      : `  ${verb} ${c.remove.length} log objects of chain ${c.chain} up to revision ${c.cutThrough} (it now replays from ${c.base})`,
  );
  for (const k of log.keepSnapshots) lines.push(`  kept ${k.name}: chain ${k.chain} replays from it`);
  if (lines.length === 0) return '';
  return [`change log (point-in-time window ${formatDuration(log.windowMs)}):`, ...lines].join('\n');
}
