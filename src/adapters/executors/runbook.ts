import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hexId } from '../../domain/recover/steps.js';
import type { ExecutablePlan, MemberRef, PlanStep } from '../../domain/recover/types.js';
import { VERSION } from '../../version.js';
import { commonPrelude, q } from './shell.js';
import type { ExecutorKind, RunbookScript } from './types.js';

/**
 * Per-node shell scripts from a plan. Each node's script holds the steps that node acts on, in plan order; cluster API
 * steps run on the coordinator. Scripts synchronise by polling the cluster (a joining node waits until the coordinator
 * has added it; the coordinator waits until it has caught up), so all of them can be started at once. Every step is
 * checked before the next, and a done marker makes a re-run skip what is finished.
 */

export interface Driver {
  kind: ExecutorKind;
  source: string;
  dataDir: string;
  tls: { cacert?: string; cert?: string; key?: string };
  /** Client URL of etcd on the node running the script. */
  localUrl: string;
  /** Bash functions lb_stop_etcd, lb_start_normal, lb_start_with NAME=VALUE... (and anything they need). */
  prelude: string[];
  /** Lines replacing the generic ones for this step on this node; undefined: the generic lines. */
  special?(step: PlanStep, node: string, plan: ExecutablePlan): string[] | undefined;
  /** Extra header lines (reminders). */
  header?(plan: ExecutablePlan): string[];
}

/**
 * A runbook's identity, which names its done-marker folder on every node: the steps, the members as they were (ids,
 * URLs) and when it was written. A second incident gets a new runbook and so new markers, even when its steps read
 * the same as the first one's (the old "every step of this script is done" while quorum was lost again).
 */
export function planId(plan: ExecutablePlan, writtenAt: Date): string {
  return createHash('sha256')
    .update(JSON.stringify({ steps: plan.steps, members: plan.members, writtenAt: writtenAt.toISOString() }))
    .digest('hex')
    .slice(0, 10);
}

/** The plan removes `member` and adds it back as a new member (its node's data is wiped and it joins again). */
function reAdded(plan: ExecutablePlan, member: string): boolean {
  return plan.steps.some((s) => s.kind === 'wipe' && s.member === member);
}

/** Which nodes act on a step: most steps have one; stopping and starting everyone fans out. */
function actors(step: PlanStep): string[] {
  if (step.kind === 'ensure-stopped') return [...step.members, step.node];
  if (step.kind === 'start-all') return step.members;
  return [step.node];
}

export function genericLines(step: PlanStep, node: string, plan: ExecutablePlan, local: string): string[] {
  const m = (name: string): MemberRef =>
    plan.members.find((x) => x.name === name) ?? { name, peerUrl: '', clientUrl: '', id: '' };
  const url = (name: string) => q(m(name).clientUrl);
  const oldId = (name: string) => q(m(name).id ? hexId(m(name).id) : 'none');
  // A member that came back healthy by itself (its node booted, it resynced) is not re-added: the coordinator
  // marks it, and the rest of its re-add is skipped.
  const unlessBack = (member: string, lines: string[]) => [
    `if lb_done ${q(`healthy-${member}`)}; then lb_say ${q(`${member} is a healthy member again: skipped`)}; else`,
    ...lines.map((l) => `  ${l}`),
    'fi',
  ];
  switch (step.kind) {
    case 'ensure-stopped':
      if (step.members.includes(node)) {
        // A snapshot restore still stops a healthy voter that holds less than the snapshot: that is the cluster an
        // empty member bootstrapped after a total loss (the plan was made for it), not quorum come back.
        const behind = plan.snapshot ? ` && ! lb_behind ${local} ${plan.snapshot.revision}` : '';
        // A member this plan re-adds may already run as its NEW member (its node booted before this script and the
        // kubelet started etcd, which joined once the coordinator had added it, and may be promoted by now):
        // stopping it would take a voter from the rebuilt cluster (the issue's lost-quorum-again deadlock).
        const rejoined = reAdded(plan, node)
          ? [
              `if lb_joined ${url(step.node)} ${q(m(node).peerUrl)} ${oldId(node)} ${local}; then`,
              `  lb_say ${q(`etcd here already runs as the re-added member ${node} of the recovering cluster: left running`)}`,
            ]
          : [];
        return [
          ...rejoined,
          `${rejoined.length ? 'elif' : 'if'} lb_voter_here ${url(step.node)} ${local}${behind}; then`,
          `  echo ${q(`etcd on ${node} is a healthy voting member again (quorum is back): not stopping it; this plan is no longer needed, run lifeboat doctor`)} >&2`,
          '  exit 3',
          'else',
          '  lb_stop_etcd',
          'fi',
        ];
      }
      return step.members.map(
        (n) => `lb_wait 3600 ${q(`etcd on ${n} to be stopped (run ${n}'s script)`)} lb_silent ${url(n)}`,
      );
    case 'start':
    case 'start-all':
      return ['lb_require_data', 'lb_start_normal', `lb_wait 300 'etcd to answer here' lb_answers ${local}`];
    case 'wait-healthy':
      return [
        `lb_wait 600 'every member to be healthy' lb_healthy ${q(step.members.map((n) => m(n).clientUrl).join(','))}`,
      ];
    case 'wait-caught-up':
      return unlessBack(step.member, [
        `lb_wait 3600 ${q(`${step.member} to catch up`)} lb_caught_up ${url(step.member)} ${url(step.via)}`,
      ]);
    case 'force-new-cluster':
      return [
        // A run cut off after the forced start finds a healthy one-member cluster here: that is its own work, not
        // quorum come back, and the flag must still come off (a later restart with it would drop re-added members).
        "if lb_done forcing; then lb_say 'etcd here was started with --force-new-cluster by this runbook before it was cut off: going on'; else",
        // Re-checked right before the destructive step: if quorum came back meanwhile, forcing would throw it away.
        `  if lb_healthy ${local} >/dev/null 2>&1; then echo 'etcd here is healthy again (quorum is back): not forcing a new cluster; run lifeboat doctor' >&2; exit 3; fi`,
        '  lb_stop_etcd',
        '  lb_copy_data',
        '  lb_mark forcing',
        'fi',
        'lb_start_with force-new-cluster=true',
        `lb_wait 300 'the one-member cluster to be healthy' lb_healthy ${local}`,
      ];
    case 'wait-writable':
      return [
        `lb_wait 120 'a write to succeed' lb_etcdctl --endpoints=${local} put /lifeboat/recover/writable "$(date -u +%FT%TZ)"`,
      ];
    case 'restart-normal':
      return ['lb_stop_etcd', 'lb_start_normal', `lb_wait 300 'etcd to be healthy here' lb_healthy ${local}`];
    case 'remove-member': {
      const id = q(hexId(step.memberId));
      const member = url(step.member);
      return [
        `if lb_has_id ${url(step.via)} ${id}; then`,
        // Re-checked: a member that came back healthy with its data is part of the quorum, not a stale entry.
        `  if lb_healthy ${member} >/dev/null 2>&1 && [ "$(lb_local_id ${member})" = ${id} ]; then`,
        `    lb_say ${q(`${step.member} answers healthy as member ${hexId(step.memberId)} again: not removing it, its re-add is not needed`)}`,
        `    lb_mark ${q(`healthy-${step.member}`)}`,
        '  else',
        `    lb_member ${url(step.via)} remove ${id}`,
        `    if lb_has_id ${url(step.via)} ${id}; then echo ${q(`member ${hexId(step.memberId)} is still listed after its removal`)} >&2; exit 1; fi`,
        '  fi',
        'fi',
        `lb_say ${q(`${step.member}'s old member entry is removed: ${step.member} can be powered on now`)}`,
      ];
    }
    case 'add-member':
      return unlessBack(step.member, [
        `lb_new_id ${url(step.via)} ${q(step.peerUrl)} ${oldId(step.member)} >/dev/null || lb_member ${url(step.via)} add ${q(step.member)} --learner --peer-urls=${q(step.peerUrl)}`,
        `lb_wait 60 ${q(`${step.member}'s new member entry`)} lb_new_id ${url(step.via)} ${q(step.peerUrl)} ${oldId(step.member)}`,
        `lb_say ${q(`${step.member} added: its script continues by itself (run it on ${step.member} if not yet started)`)}`,
      ]);
    case 'wipe':
      return [
        // The exact new entry (not the old one with the same peer URL): joining under the old id crashes etcd.
        `lb_added() { lb_new_id ${url(step.via)} ${q(m(step.member).peerUrl)} ${oldId(step.member)} || lb_voter_here ${url(step.via)} ${local}; }`,
        `lb_wait 3600 ${q(`the coordinator to add ${step.member} as a new member (run ${step.via}'s script)`)} lb_added`,
        `if lb_voter_here ${url(step.via)} ${local} || lb_joined ${url(step.via)} ${q(m(step.member).peerUrl)} ${oldId(step.member)} ${local}; then`,
        `  lb_say 'etcd here already runs as a member of the recovering cluster: nothing to wipe'`,
        'else',
        '  lb_stop_etcd',
        '  lb_move_data_aside',
        'fi',
      ];
    case 'join':
      return [
        `if ! lb_voter_here ${url(step.via)} ${local} && ! lb_joined ${url(step.via)} ${q(m(step.member).peerUrl)} ${oldId(step.member)} ${local}; then`,
        `  lb_start_with initial-cluster=${q(step.initialCluster)} initial-cluster-state=existing`,
        `  lb_wait 300 'etcd to answer here' lb_answers ${local}`,
        'fi',
        // Once a voter, back to the node's own manifest (the join flags are ignored with data in place): the node
        // ends exactly as it was configured, and a later kubeadm upgrade edits the file it knows.
        `lb_wait 3600 ${q(`${step.member} to be promoted (by ${step.via}'s script)`)} lb_is_voter ${url(step.via)} ${q(m(step.member).peerUrl)}`,
        'lb_start_normal',
        `lb_wait 300 'etcd to be healthy here' lb_healthy ${local}`,
      ];
    case 'promote':
      return unlessBack(step.member, [
        `lb_wait 3600 ${q(`${step.member} to be promoted`)} lb_promote ${url(step.via)} ${q(step.peerUrl)}`,
      ]);
    case 'restore':
      return [
        // Everything the restore needs is checked before anything is stopped or moved.
        `[ -r ${q(step.file)} ] || { echo ${q(`copy the snapshot to ${step.file} on this node first`)} >&2; exit 1; }`,
        'lb_restore_tool >/dev/null',
        `lb_restore ${q(step.file)} ${q(step.member)} ${q(m(step.member).peerUrl)} ${q(step.initialCluster)} ${q(step.token)}${step.bumpRevision ? ` ${step.bumpRevision}` : ''}`,
        'lb_stop_etcd',
        'lb_swap_in',
      ];
  }
}

/**
 * The first block of a script whose node will be wiped and re-joined: etcd is taken out of the kubelet's (or
 * systemd's) hands before anything else, so a node that boots while the recovery runs cannot start its old member
 * by itself and join as the just-added learner, only to be wiped afterwards. A healthy voter is left alone.
 */
function takeOverLines(steps: PlanStep[], node: string, plan: ExecutablePlan, local: string): string[] {
  const wipe = steps.find((s): s is PlanStep & { kind: 'wipe' } => s.kind === 'wipe' && s.node === node);
  if (!wipe) return [];
  const via = q(plan.members.find((x) => x.name === wipe.via)?.clientUrl ?? '');
  const me = plan.members.find((x) => x.name === node);
  const oldId = q(me?.id ? hexId(me.id) : 'none');
  return [
    '',
    '# Before any step: etcd here must not start by itself while the cluster is rebuilt. Left running: a healthy',
    '# voter, and the re-added member itself (the node booted before this script and etcd joined by itself, as the',
    '# join step would have made it; stopping and wiping a member that has caught up crashes it when it restarts).',
    "if lb_done take-over; then lb_say 'etcd here already taken over'; else",
    `  if lb_voter_here ${via} ${local}; then lb_say 'etcd here is a healthy voting member: left running'`,
    `  elif lb_joined ${via} ${q(me?.peerUrl ?? '')} ${oldId} ${local}; then lb_say 'etcd here already runs as the re-added member: left running'`,
    '  else lb_stop_etcd; fi',
    '  lb_mark take-over',
    'fi',
  ];
}

export function buildRunbook(
  plan: ExecutablePlan,
  driver: Driver,
  nodeOf: (member: string) => string,
  writtenAt: Date = new Date(),
): RunbookScript[] {
  const id = planId(plan, writtenAt);
  const byNode = new Map<string, string[]>();
  const total = plan.steps.length;
  plan.steps.forEach((step, i) => {
    for (const node of [...new Set(actors(step))]) {
      const lines = driver.special?.(step, node, plan) ?? genericLines(step, node, plan, q(driver.localUrl));
      if (lines.length === 0) continue;
      const marker = `${step.id.replace(/[^A-Za-z0-9_.-]/g, '_')}`;
      const block = [
        '',
        `# Step ${i + 1}/${total}: ${step.title}`,
        `if lb_done ${q(marker)}; then lb_say ${q(`step ${i + 1}/${total} already done: ${step.name}`)}; else`,
        `  lb_say ${q(`step ${i + 1}/${total}: ${step.name}`)}`,
        ...lines.map((l) => `  ${l}`),
        `  lb_mark ${q(marker)}`,
        'fi',
      ];
      byNode.set(node, [...(byNode.get(node) ?? []), ...block]);
    }
  });
  const names = plan.members.map((m) => m.name).filter((n) => byNode.has(n));
  return names.map((member) => {
    const node = nodeOf(member);
    const header = [
      '#!/usr/bin/env bash',
      `# Lifeboat recovery runbook for ${node} (etcd member ${member}), executor ${driver.kind}.`,
      `# Plan ${plan.name}: ${plan.title}. Data loss: ${plan.dataLoss}.`,
      `# Generated by lifeboat ${VERSION}. Paths read from ${driver.source}; every node is assumed to use the same layout.`,
      `# Run as root on ${node}. Start every node's script at the same time (one terminal each): they wait for`,
      '# one another where the plan needs it. Each step is checked before the next; a re-run skips finished steps.',
      ...(driver.header?.(plan) ?? []).map((l) => `# ${l}`),
      ...plan.notes.map((n) => `# Note: ${n}.`),
    ];
    const body = [
      ...commonPrelude({ stateDir: `/var/lib/lifeboat/recover-${id}`, tls: driver.tls, dataDir: driver.dataDir }),
      ...driver.prelude,
      ...takeOverLines(plan.steps, member, plan, q(driver.localUrl)),
      ...byNode.get(member)!,
      '',
      `lb_say ${q(`${node}: every step of this script is done`)}`,
    ];
    return { node, file: `${node}.sh`, text: `${[...header, ...body].join('\n')}\n` };
  });
}

/** Writes the scripts (mode 0755) into `dir`; returns their paths. */
export function writeRunbook(dir: string, scripts: RunbookScript[]): string[] {
  mkdirSync(dir, { recursive: true });
  return scripts.map((s) => {
    const path = join(dir, s.file);
    writeFileSync(path, s.text, { mode: 0o755 });
    return path;
  });
}
