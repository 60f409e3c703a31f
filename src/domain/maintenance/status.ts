import { formatDuration } from '../duration.js';
import { type LockHolder, remainingMs } from './lock-view.js';
import type { AgentReport, NodeRecord, PauseRecord, RequestRecord } from './records.js';
import { DEFAULTS } from './settings.js';

/** `lifeboat maintain status`: the lock, pause, requests and every node's maintenance, as data and as text. Pure. */

export interface StatusInput {
  now: number;
  paused?: PauseRecord;
  locks: LockHolder[];
  requests: RequestRecord[];
  nodes: NodeRecord[];
  reports: AgentReport[];
  configNodes: Array<{ name: string; roles: string[] }>;
}

/**
 * An agent reports every poll (at most every 15 s when nothing changed): one silent for three polls and a minute more
 * is dead, stopped or cut off, whatever its last report said ("idle" from a dead agent misled the fault run).
 */
export function agentStale(report: AgentReport, now: number): boolean {
  const pollMs = Math.max(report.pollMs ?? DEFAULTS.pollMs, 15_000);
  return now - Date.parse(report.seenAt) > 3 * pollMs + 60_000;
}

export function statusDocument(input: StatusInput) {
  const names = [
    ...new Set([
      ...input.configNodes.map((n) => n.name),
      ...input.nodes.map((n) => n.node),
      ...input.reports.map((r) => r.node),
      ...input.requests.map((r) => r.node),
    ]),
  ];
  return {
    paused: input.paused ?? null,
    locks: input.locks
      .map((l) => ({ ...l, expiresInMs: remainingMs(l, input.now) }))
      .sort((a, b) => a.lock.localeCompare(b.lock)),
    requests: input.requests,
    nodes: names.map((name) => {
      const record = input.nodes.find((n) => n.node === name);
      const report = input.reports.find((r) => r.node === name);
      return {
        name,
        roles: input.configNodes.find((n) => n.name === name)?.roles ?? [],
        phase: record?.phase ?? 'idle',
        downAt: record?.downAt ?? null,
        lastCompletedAt: record?.lastCompletedAt ?? null,
        lastReasons: record?.lastReasons ?? [],
        reboots: record?.reboots ?? 0,
        requested: input.requests.some((r) => r.node === name),
        holdsLock: input.locks.some((l) => l.holder === name),
        agent: report
          ? {
              ...report,
              ageMs: Math.max(0, input.now - Date.parse(report.seenAt)),
              stale: agentStale(report, input.now),
            }
          : null,
      };
    }),
  };
}

export type StatusDocument = ReturnType<typeof statusDocument>;

export function renderStatus(doc: StatusDocument): string {
  const lines: string[] = [];
  if (doc.paused) {
    const why = doc.paused.reason ? `: ${doc.paused.reason}` : '';
    lines.push(`Maintenance is PAUSED by ${doc.paused.by} since ${doc.paused.at}${why} (lifeboat maintain resume).`);
  } else lines.push('Maintenance is active.');
  if (doc.locks.length === 0) lines.push('Lock: free.');
  for (const l of doc.locks) {
    lines.push(
      `Lock ${l.lock}: held by ${l.holder} (${l.phase}) for "${l.reason}", fencing token ${l.fencingToken}, ` +
        `since ${l.acquiredAt}, frees itself in ${formatDuration(l.expiresInMs)} unless renewed.`,
    );
  }
  for (const r of doc.requests) {
    lines.push(`Requested: ${r.node} by ${r.by} at ${r.at}${r.reason ? ` (${r.reason})` : ''}.`);
  }
  if (doc.nodes.length) {
    lines.push('');
    const rows = doc.nodes.map((n) => [
      n.name,
      n.phase === 'rebooting' ? `rebooting since ${n.downAt}` : n.phase,
      n.lastCompletedAt ? `${n.lastCompletedAt} (${n.lastReasons.join(', ') || 'unknown'})` : 'never',
      String(n.reboots),
      agentText(n.agent),
    ]);
    lines.push(table(['NODE', 'PHASE', 'LAST MAINTENANCE', 'REBOOTS', 'AGENT'], rows));
  }
  return lines.join('\n');
}

function agentText(agent: StatusDocument['nodes'][number]['agent']): string {
  if (!agent) return 'no agent report';
  const age = `${formatDuration(Math.round(agent.ageMs / 1000) * 1000)} ago`;
  if (agent.stale) return `NOT REPORTING since ${agent.seenAt} (last said ${agent.state}, ${age})`;
  const refused = agent.refusals.length ? `: ${agent.refusals.map((r) => r.message).join('; ')}` : '';
  return `${agent.state}${agent.dryRun ? ' (dry run)' : ''}${refused} (${age})`;
}

function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}
