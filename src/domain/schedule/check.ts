import { toleranceOf } from '../quorum.js';
import { commonZone } from './describe.js';
import { type CheckFinding, groupConditions, type SourceRef, sortFindings } from './findings.js';
import { planDowntime, planTimezone, type RebootPlan, unionOfSorted } from './occurrences.js';
import { type Condition, commonDowntime, quorumSweep } from './sweep.js';
import { bootLoopFinding, sameWindowFinding, structureFindings } from './topology.js';
import { DAY, type Interval } from './types.js';

/**
 * `lifeboat check` as a pure function: nodes with roles, their reboot rules, a horizon -> findings.
 * Voting etcd members are nodes with the `etcd` role; workers are nodes with the `worker` role.
 */
export interface CheckNode {
  name: string;
  roles: readonly string[];
}

export interface RebootSource extends SourceRef {
  plan: RebootPlan;
}

export interface CheckInput {
  nodes: CheckNode[];
  sources: RebootSource[];
  from: number;
  to: number;
  /** Findings produced while reading inputs (unrecognised crontab lines...), merged into the result. */
  notes?: CheckFinding[];
}

export interface CheckResult {
  ok: boolean;
  from: number;
  to: number;
  findings: CheckFinding[];
  voting: string[];
  workers: string[];
  /** Raw maximal intervals of each condition, before grouping. */
  conditions: Condition[];
}

interface Rule {
  ref: SourceRef;
  plan: RebootPlan;
  zone: string;
  down?: Interval[];
}

interface NodeRules {
  rules: Rule[];
  down?: Interval[];
}

/**
 * A reboot rule of an etcd member that never fires in the horizon (`0 4 30 2 *`: February 30th) is a mistake that
 * would otherwise vanish from the report: the node is believed to reboot, the check says nothing. Members only:
 * their downtime is expanded anyway; a worker's would cost the 5,000-worker check its laziness.
 */
function neverFires(
  voting: string[],
  perNode: Map<string, NodeRules>,
  ruleDown: (rule: Rule) => Interval[],
  days: number,
): CheckFinding[] {
  return voting.flatMap((name) =>
    perNode
      .get(name)!
      .rules.filter((rule) => !(rule.plan.kind === 'cron' && rule.plan.cron.atReboot) && ruleDown(rule).length === 0)
      .map(
        (rule): CheckFinding => ({
          severity: 'warning',
          code: 'never-fires',
          nodes: [name],
          first: null,
          occurrences: 0,
          sources: [rule.ref],
          message: `${rule.ref.origin}: this reboot rule of ${name} never fires in the ${days} days checked (a date that does not exist?)`,
        }),
      ),
  );
}

function* lazyMap<T, U>(items: T[], fn: (item: T) => U): Generator<U> {
  for (const item of items) yield fn(item);
}

export function runCheck(input: CheckInput): CheckResult {
  const { from, to } = input;
  const voting = input.nodes.filter((n) => n.roles.includes('etcd')).map((n) => n.name);
  const workers = input.nodes.filter((n) => n.roles.includes('worker')).map((n) => n.name);
  // Downtime is expanded lazily: voting members always, workers only while "all workers down" is still possible.
  const perNode = new Map<string, NodeRules>();
  for (const n of input.nodes) perNode.set(n.name, { rules: [] });
  for (const s of input.sources) {
    const node = perNode.get(s.node);
    if (!node) throw new Error(`reboot source ${s.origin} names unknown node "${s.node}"`);
    node.rules.push({
      ref: { node: s.node, origin: s.origin, text: s.text },
      plan: s.plan,
      zone: planTimezone(s.plan),
    });
  }
  const ruleDown = (rule: Rule) => {
    rule.down ??= planDowntime(rule.plan, from, to);
    return rule.down;
  };
  const nodeDown = (name: string) => {
    const node = perNode.get(name)!;
    node.down ??= unionOfSorted(node.rules.map(ruleDown));
    return node.down;
  };
  const votingNodes = voting.map((name) => ({ name, down: nodeDown(name) }));
  // Workers that never reboot first: then nothing else needs expanding.
  const workerOrder = [...workers].sort(
    (a, b) => Number(perNode.get(a)!.rules.length > 0) - Number(perNode.get(b)!.rules.length > 0),
  );
  // Worker downtime is not kept (5,000 workers' intervals would only load the garbage collector).
  const transientDown = (name: string) => {
    const node = perNode.get(name)!;
    return node.down ?? unionOfSorted(node.rules.map((r) => r.down ?? planDowntime(r.plan, from, to)));
  };
  const allWorkersDown = workers.length === 0 ? [] : commonDowntime(lazyMap(workerOrder, transientDown), from, to);
  const conditions: Condition[] = [
    ...quorumSweep(votingNodes, from, to),
    ...allWorkersDown.map((iv) => ({ code: 'workers-all-down' as const, ...iv, nodes: workers })),
  ].sort((a, b) => a.start - b.start || a.code.localeCompare(b.code));
  const days = Math.round(((to - from) / DAY) * 10) / 10;
  const timed = groupConditions(conditions, {
    voting,
    workers,
    days,
    zonesOf: (node) => perNode.get(node)?.rules.map((r) => r.zone) ?? [],
    sourcesOf: (node) => perNode.get(node)?.rules.map((r) => ({ ref: r.ref, down: ruleDown(r) })) ?? [],
  });

  const findings: CheckFinding[] = [...timed];
  const rebootingVoting = voting.filter((v) => perNode.get(v)!.rules.length > 0);
  findings.push(...structureFindings(voting, rebootingVoting));
  for (const s of input.sources) {
    if (s.plan.kind !== 'cron' || !s.plan.cron.atReboot) continue;
    findings.push(bootLoopFinding({ node: s.node, origin: s.origin, text: s.text }, voting.includes(s.node)));
  }
  const zone = commonZone(voting.flatMap((v) => perNode.get(v)!.rules.map((r) => r.zone)));
  const sameWindow = sameWindowFinding(
    votingNodes.map((n) => ({ name: n.name, down: n.down, sources: perNode.get(n.name)!.rules.map((r) => r.ref) })),
    toleranceOf(voting.length),
    zone,
    from,
    to,
    timed.filter((f) => f.code === 'quorum-loss').map((f) => f.nodes),
  );
  if (sameWindow) findings.push(sameWindow);
  findings.push(...neverFires(voting, perNode, ruleDown, days));
  if (input.sources.length === 0) {
    findings.push({
      severity: 'info',
      code: 'no-reboots',
      nodes: [],
      first: null,
      occurrences: 0,
      sources: [],
      message: 'no reboot schedules found: add reboot entries to lifeboat.yaml nodes, or pass --crontab / --timer.',
    });
  }
  findings.push(...(input.notes ?? []));
  const sorted = sortFindings(findings);
  return {
    ok: !sorted.some((f) => f.severity === 'error'),
    from,
    to,
    findings: sorted,
    voting,
    workers,
    conditions,
  };
}
