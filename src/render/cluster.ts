import type { Diagnosis, Finding, MemberView } from '../domain/diagnosis.js';
import { formatAge, formatDuration } from '../domain/duration.js';
import type { ClusterState } from '../domain/quorum.js';
import { stateHeadline } from '../domain/words.js';
import type { Colors } from './output.js';
import { formatBytes, renderTable } from './table.js';
import { terminalWidth, wrap } from './text.js';

export function renderMembers(members: Array<MemberView & { node?: string | null }>, c: Colors): string {
  // The NODE column appears only when a Kubernetes cluster told us where members run.
  const withNodes = members.some((m) => m.node);
  const rows = members.map((m) => [
    m.name,
    ...(withNodes ? [m.node ?? '-'] : []),
    m.endpoint,
    m.reachable ? c.green('yes') : c.red('NO'),
    m.leader ? c.bold('leader') : m.learner ? 'learner' : m.reachable ? 'follower' : '-',
    m.raftIndex === null ? '-' : String(m.raftIndex),
    m.dbSize === null ? '-' : formatBytes(m.dbSize),
    m.version ?? '-',
    m.error ? c.dim(withoutPrefix(m.error, `${m.endpoint}: `)) : '',
  ]);
  const headers = ['NAME', ...(withNodes ? ['NODE'] : []), 'ENDPOINT', 'REACHABLE', 'ROLE', 'RAFT INDEX', 'DB SIZE'];
  return renderTable([...headers, 'VERSION', 'ERROR'], rows);
}

/** The state's colour on a terminal: green, yellow, bold red. */
function stateColor(state: ClusterState, c: Colors): (text: string) => string {
  if (state === 'healthy') return c.green;
  if (state === 'degraded') return c.yellow;
  return (text) => c.red(c.bold(text));
}

function withoutPrefix(text: string, prefix: string): string {
  return text.startsWith(prefix) ? text.slice(prefix.length) : text;
}

/** The first line of `status` and `doctor`: the wording table's headline, the state word coloured. */
export function renderHeadline(d: Diagnosis, c: Colors): string {
  return stateHeadline(d, { label: stateColor(d.state, c) });
}

function severityLabel(f: Finding, c: Colors): string {
  if (f.severity === 'error') return c.red('ERROR  ');
  if (f.severity === 'warning') return c.yellow('WARNING');
  return c.cyan('INFO   ');
}

export function renderDiagnosis(d: Diagnosis, c: Colors): string {
  const width = terminalWidth();
  const parts = [renderHeadline(d, c), ''];
  for (const f of d.findings) {
    parts.push(`${severityLabel(f, c)} ${c.bold(f.code)}`);
    parts.push(`        ${wrap(f.message, width, 8)}`);
  }
  parts.push('', c.bold('Members'), renderMembers(d.members, c));
  if (d.plans.length) {
    parts.push('', c.bold('Recovery plans, safest first'));
    for (const [i, plan] of d.plans.entries()) {
      parts.push(`${i + 1}. ${c.bold(plan.name)}: ${plan.title}. Data loss: ${plan.dataLoss}`);
      parts.push(`   When: ${wrap(plan.when, width, 9)}`);
      for (const [j, step] of plan.steps.entries()) parts.push(`   ${j + 1}) ${wrap(step, width, 6)}`);
    }
    parts.push('', c.dim('Try the plans in this order; run `lifeboat doctor` again after each step.'));
  }
  return parts.join('\n');
}

/** What doctor's Backups table needs (src/app/doctor.ts fills it). */
export interface BackupsSummary {
  configured: boolean;
  maxAgeMs: number;
  newestVerifiedAgeMs: number | null;
  destinations: Array<{
    location: string;
    backups: number;
    offNode: boolean;
    error?: string;
    newestVerifiedAt: string | null;
  }>;
}

/** doctor's Backups section: each destination, its count, the newest verified backup, whether it is off-node. */
export function renderBackupsSummary(b: BackupsSummary, c: Colors): string {
  if (!b.configured) return `${c.bold('Backups')}: none configured (backups.to)`;
  const newest =
    b.newestVerifiedAgeMs === null ? c.red('none verified') : `newest verified ${formatAge(b.newestVerifiedAgeMs)} ago`;
  const rows = b.destinations.map((d) => [
    d.location,
    d.error ? c.red('unreadable') : String(d.backups),
    d.newestVerifiedAt ? d.newestVerifiedAt.slice(0, 16).replace('T', ' ') : '-',
    d.offNode ? 'yes' : c.yellow('no'),
  ]);
  return [
    `${c.bold('Backups')}: ${newest} (limit ${formatDuration(b.maxAgeMs)})`,
    renderTable(['DESTINATION', 'BACKUPS', 'NEWEST VERIFIED (UTC)', 'OFF-NODE'], rows),
  ].join('\n');
}
