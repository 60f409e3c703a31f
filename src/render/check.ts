import { formatDuration } from '../domain/duration.js';
import type { CheckResult } from '../domain/schedule/check.js';
import { formatLocal, isoInstant } from '../domain/schedule/describe.js';
import type { CheckFinding } from '../domain/schedule/findings.js';
import type { SuggestResult } from '../domain/schedule/suggest.js';
import { DAY } from '../domain/schedule/types.js';

/**
 * `lifeboat check` output: the human report (worst finding first, in plain words) and the stable JSON document
 * (docs/ARCHITECTURE.md: { ok, horizon: { from, to }, findings: [{ severity, code, nodes, first: { start, end }, occurrences,
 * message }] }, plus description, timezone, sources and suggestion fields). Pure text; colours come in as functions.
 */
export interface Paint {
  red(s: string): string;
  yellow(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
  green(s: string): string;
}

const MAX_SOURCES = 6;

export function renderReport(result: CheckResult, paint: Paint, suggestion?: SuggestResult): string {
  const out: string[] = [];
  for (const f of result.findings) {
    const label =
      f.severity === 'error'
        ? paint.red(paint.bold('ERROR'))
        : f.severity === 'warning'
          ? paint.yellow('WARNING')
          : paint.dim('NOTE');
    out.push(`${label} ${paint.bold(f.code)}: ${f.message}`);
    if (f.first && f.timezone) {
      const utc = f.timezone === 'UTC' ? '' : paint.dim(` (${isoInstant(f.first.start)})`);
      out.push(`  first: ${formatLocal(f.first.start, f.timezone)}${utc}`);
    }
    const sources = f.sources.slice(0, MAX_SOURCES);
    sources.forEach((s, i) => {
      out.push(`  ${i === 0 ? 'from: ' : '      '} ${s.node}  ${paint.dim(s.origin)}  ${s.text}`);
    });
    if (f.sources.length > MAX_SOURCES) out.push(`        ... and ${f.sources.length - MAX_SOURCES} more`);
    const fix = FIXES[f.code];
    if (fix && !suggestion) out.push(`  fix:  ${fix}`);
    out.push('');
  }
  const counts = (sev: CheckFinding['severity']) => result.findings.filter((f) => f.severity === sev).length;
  const errors = counts('error');
  const warnings = counts('warning');
  const days = Math.round((result.to - result.from) / DAY);
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  const members = result.voting.length ? `: ${result.voting.join(', ')}` : '';
  const verdict = errors > 0 ? paint.red('quorum at risk') : paint.green('no error');
  out.push(
    `${verdict} — ${plural(errors, 'error')}, ${plural(warnings, 'warning')}; checked ` +
      `${plural(result.voting.length, 'etcd member')}${members} and ${plural(result.workers.length, 'worker')} ` +
      `from ${formatLocal(result.from, 'UTC')} for ${days} days.`,
  );
  if (suggestion) out.push('', ...renderSuggestion(suggestion, paint));
  return out.join('\n');
}

const FIXES: Record<string, string> = {
  'quorum-loss': 'give each etcd member its own slot: `lifeboat check --suggest` proposes cron lines that do.',
  'boot-loop': 'remove the @reboot line; reboot on a calendar schedule instead.',
  'same-window': '`lifeboat check --suggest` spreads the etcd members over separate slots.',
  'workers-all-down': 'stagger the workers so at least one is up at any time.',
  'even-members': 'remove or add one etcd member (etcdctl member remove / add).',
};

function renderSuggestion(s: SuggestResult, paint: Paint): string[] {
  if (s.suggestions.length === 0) return [paint.yellow(`No suggestion: ${s.reason ?? 'nothing to change'}.`)];
  const errors = s.check?.findings.filter((f) => f.severity === 'error').length ?? 0;
  const verdict = s.ok
    ? paint.green('passes check: no errors over the same horizon')
    : paint.yellow(`still ${errors} error${errors === 1 ? '' : 's'} from nodes it does not move`);
  const out = [paint.bold(`Suggested schedule (${verdict}; etcd members at least ${formatDuration(s.gapMs)} apart):`)];
  const width = Math.max(...s.suggestions.map((x) => x.node.length));
  for (const x of s.suggestions) {
    const note = x.changed ? paint.dim(`was ${x.was.join('; ')}`) : paint.dim('unchanged');
    for (const line of x.cron) out.push(`  ${x.node.padEnd(width)}  ${line.padEnd(16)} ${x.timezone}  ${note}`);
  }
  out.push('', paint.dim('As lifeboat.yaml reboot entries:'));
  for (const x of s.suggestions) {
    out.push(`  - name: ${x.node}`, '    reboot:');
    for (const line of x.cron) {
      out.push(`      - { cron: "${line}", timezone: ${x.timezone}, downtime: ${formatDuration(x.downtimeMs)} }`);
    }
  }
  return out;
}

export function reportJson(result: CheckResult, suggestion?: SuggestResult): unknown {
  const doc: Record<string, unknown> = {
    ok: result.ok,
    horizon: {
      from: isoInstant(result.from),
      to: isoInstant(result.to),
      days: Math.round(((result.to - result.from) / DAY) * 100) / 100,
    },
    etcdMembers: result.voting,
    workers: result.workers.length,
    findings: result.findings.map((f) => findingJson(f)),
  };
  if (suggestion) {
    doc.suggestion = {
      ok: suggestion.ok,
      gap: formatDuration(suggestion.gapMs),
      reason: suggestion.reason,
      nodes: suggestion.suggestions.map((x) => ({
        node: x.node,
        cron: x.cron,
        timezone: x.timezone,
        downtime: formatDuration(x.downtimeMs),
        changed: x.changed,
        replaces: x.replaces,
        was: x.was,
      })),
      findings: suggestion.check?.findings.map((f) => findingJson(f)) ?? [],
    };
  }
  return doc;
}

function findingJson(f: CheckFinding) {
  const zone = f.timezone ?? 'UTC';
  return {
    severity: f.severity,
    code: f.code,
    nodes: f.nodes,
    first: f.first ? { start: isoInstant(f.first.start, zone), end: isoInstant(f.first.end, zone) } : null,
    occurrences: f.occurrences,
    message: f.message,
    description: f.description,
    timezone: f.timezone,
    sources: f.sources,
  };
}
