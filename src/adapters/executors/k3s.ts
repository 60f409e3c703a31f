import { parse } from 'yaml';
import type { ExecutablePlan, PlanStep } from '../../domain/recover/types.js';
import { UserError } from '../../errors.js';
import { FileRunbookExecutor } from './file-executor.js';
import { type Driver, genericLines } from './runbook.js';
import { q } from './shell.js';

/**
 * k3s with embedded etcd. k3s does membership itself: `k3s server --cluster-reset` is its --force-new-cluster (and,
 * with --cluster-reset-restore-path, its snapshot restore); a server whose db dir is empty rejoins through `server:`
 * and adds (then promotes) itself. So: reset one server, then wipe and start the others one at a time.
 */

export interface K3sConfig {
  dataDir: string;
  server: string | null;
  clusterInit: boolean;
  hasToken: boolean;
}

export function parseK3sConfig(text: string, path: string): K3sConfig {
  let doc: Record<string, unknown>;
  try {
    doc = (parse(text) ?? {}) as Record<string, unknown>;
  } catch (err) {
    throw new UserError(`${path} is not YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  return {
    dataDir: typeof doc['data-dir'] === 'string' ? doc['data-dir'] : '/var/lib/rancher/k3s',
    server: typeof doc.server === 'string' ? doc.server : null,
    clusterInit: doc['cluster-init'] === true,
    hasToken: typeof doc.token === 'string' || typeof doc['token-file'] === 'string',
  };
}

export function k3sDriver(path: string, cfg: K3sConfig): Driver {
  const tls = `${cfg.dataDir}/server/tls/etcd`;
  const local = 'https://127.0.0.1:2379';
  const start = [
    'systemctl unmask --runtime k3s >/dev/null; systemctl start k3s',
    `lb_wait 600 'k3s etcd to answer here' lb_answers ${local}`,
  ];
  // Servers rejoin one at a time: each waits until the reset server and every server before it are healthy.
  const rejoin = (urls: string[]) => [
    `lb_wait 3600 ${q('the servers before this one to be healthy')} lb_healthy ${q(urls.join(','))}`,
    'lb_check_server_url',
    'lb_stop_etcd',
    'lb_move_data_aside',
    ...start,
  ];
  const url = (plan: ExecutablePlan, name: string) => plan.members.find((m) => m.name === name)?.clientUrl ?? local;
  const before = (plan: ExecutablePlan, step: PlanStep, first: string) => {
    const joins = plan.steps.filter((s) => s.kind === 'join' || s.kind === 'start-all');
    const earlier = joins
      .slice(
        0,
        joins.findIndex((s) => s.id === step.id),
      )
      .map((s) => s.node);
    return [...new Set([first, ...earlier])].map((n) => url(plan, n));
  };
  return {
    kind: 'k3s',
    source: path,
    // The etcd data of k3s: server/db (etcd/ inside it); moving it aside makes the server join afresh.
    dataDir: `${cfg.dataDir}/server/db`,
    tls: { cacert: `${tls}/server-ca.crt`, cert: `${tls}/server-client.crt`, key: `${tls}/server-client.key` },
    localUrl: local,
    prelude: [
      `LB_K3S_CONFIG=${q(path)}`,
      'lb_stop_etcd() {',
      '  systemctl stop k3s || true; systemctl mask --runtime k3s >/dev/null',
      `  lb_wait 120 'k3s to stop' lb_silent ${local}`,
      '}',
      'lb_start_normal() { systemctl unmask --runtime k3s >/dev/null; systemctl start k3s; }',
      'lb_start_with() { echo "k3s has no flag edits: use the k3s-specific steps" >&2; exit 1; }',
      'lb_check_server_url() {',
      '  grep -Eq \'^server:\' "$LB_K3S_CONFIG" || { echo "$LB_K3S_CONFIG has no server: line; point it at the reset server (or the VIP) so this server rejoins" >&2; exit 1; }',
      '}',
    ],
    special(step: PlanStep, node: string, plan: ExecutablePlan): string[] | undefined {
      switch (step.kind) {
        case 'force-new-cluster':
          return ['lb_stop_etcd', 'lb_copy_data', 'k3s server --cluster-reset', ...start];
        case 'restart-normal':
        case 'remove-member':
        case 'add-member':
        case 'promote':
          return []; // the reset dropped the old members; joining servers add and promote themselves
        case 'wipe':
          return [];
        case 'join':
          return rejoin(before(plan, step, step.via));
        case 'restore': {
          const coordinator = plan.steps.find((s) => s.kind === 'start-all')?.node ?? node;
          if (step.member !== coordinator) return ['lb_stop_etcd'];
          return [
            'lb_stop_etcd',
            `[ -r ${q(step.file)} ] || { echo ${q(`copy the snapshot to ${step.file} first`)} >&2; exit 1; }`,
            'lb_copy_data',
            `k3s server --cluster-reset --cluster-reset-restore-path=${q(step.file)}`,
          ];
        }
        case 'start-all': {
          if (node === step.node) return start;
          const others = step.members.filter((n) => n !== step.node);
          return rejoin([step.node, ...others.slice(0, others.indexOf(node))].map((n) => url(plan, n)));
        }
        case 'wait-caught-up':
          return genericLines(step, node, plan, local);
        default:
          return undefined;
      }
    },
    header: (plan) => [
      'Every server must use the same token as the cluster had (token: in config.yaml, or',
      `${cfg.dataDir}/server/token on the reset server)${cfg.hasToken ? '' : ': this config sets none'}.`,
      ...(plan.name === 'snapshot' ? ['k3s restores the snapshot on one server; the others rejoin it empty.'] : []),
    ],
  };
}

export class K3sExecutor extends FileRunbookExecutor {
  constructor(source: string, nodes: Array<{ node: string; member: string }>) {
    super('k3s', source, nodes, 'pass the k3s config with --k3s-config FILE', (text) =>
      k3sDriver(source, parseK3sConfig(text, source)),
    );
  }
}
