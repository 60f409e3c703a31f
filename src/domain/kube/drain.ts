/**
 * Which pods a drain evicts, following `kubectl drain` (k8s.io/kubectl/pkg/drain/filters.go) with
 * --ignore-daemonsets always on (the agent reboots the node; its DaemonSet pods come back with it):
 *
 * - mirror pods (static pods such as etcd, kube-apiserver) are skipped: the API cannot evict them;
 * - DaemonSet pods are skipped: the DaemonSet controller would recreate them on the cordoned node anyway;
 * - pods with an emptyDir volume lose its data: refused unless `deleteEmptyDirData` (--delete-emptydir-data);
 * - pods without a controller are not recreated anywhere: refused unless `force` (--force);
 * - finished pods (Succeeded/Failed) may always go; pods already terminating are only waited for.
 */

export interface PodLike {
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    annotations?: Record<string, string>;
    labels?: Record<string, string>;
    ownerReferences?: { kind?: string; name?: string; controller?: boolean }[];
    deletionTimestamp?: unknown;
  };
  spec?: { nodeName?: string; volumes?: { name?: string; emptyDir?: unknown }[] };
  status?: { phase?: string };
}

export interface DrainFlags {
  /** --delete-emptydir-data */
  deleteEmptyDirData?: boolean;
  /** --force: evict pods that no controller will recreate. */
  force?: boolean;
}

export interface PodRef {
  namespace: string;
  name: string;
  uid: string;
}

export interface DrainPlan {
  evict: PodRef[];
  /** Already terminating: nothing to send, but the drain waits for them. */
  waitOnly: PodRef[];
  skipped: { pod: PodRef; why: 'mirror' | 'daemonset' }[];
  /** Pods the flags do not allow to evict; the drain must not start while any are listed. */
  refused: { pod: PodRef; why: string }[];
  /** kubectl-style warnings ("deleting Pods with local storage: web/cache"). */
  warnings: string[];
}

export const MIRROR_ANNOTATION = 'kubernetes.io/config.mirror';

export const REFUSAL = {
  localStorage: 'Pods with local storage (use --delete-emptydir-data to override)',
  unmanaged: 'cannot delete Pods that declare no controller (use --force to override)',
} as const;

export function podRef(pod: PodLike): PodRef {
  return {
    namespace: pod.metadata?.namespace ?? 'default',
    name: pod.metadata?.name ?? '',
    uid: pod.metadata?.uid ?? '',
  };
}

export const podKey = (p: { namespace: string; name: string }): string => `${p.namespace}/${p.name}`;

function controllerOf(pod: PodLike) {
  return pod.metadata?.ownerReferences?.find((o) => o.controller);
}

function finished(pod: PodLike): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

export function planDrain(pods: PodLike[], flags: DrainFlags = {}): DrainPlan {
  const plan: DrainPlan = { evict: [], waitOnly: [], skipped: [], refused: [], warnings: [] };
  const localStorage: string[] = [];
  const unmanaged: string[] = [];
  const daemonSets: string[] = [];
  for (const pod of pods) {
    const ref = podRef(pod);
    if (pod.metadata?.annotations?.[MIRROR_ANNOTATION] !== undefined) {
      plan.skipped.push({ pod: ref, why: 'mirror' });
      continue;
    }
    if (controllerOf(pod)?.kind === 'DaemonSet' && !finished(pod)) {
      plan.skipped.push({ pod: ref, why: 'daemonset' });
      daemonSets.push(podKey(ref));
      continue;
    }
    if (pod.metadata?.deletionTimestamp) {
      plan.waitOnly.push(ref);
      continue;
    }
    if (!finished(pod) && pod.spec?.volumes?.some((v) => v.emptyDir)) {
      if (!flags.deleteEmptyDirData) {
        plan.refused.push({ pod: ref, why: REFUSAL.localStorage });
        continue;
      }
      localStorage.push(podKey(ref));
    }
    if (!finished(pod) && !controllerOf(pod)) {
      if (!flags.force) {
        plan.refused.push({ pod: ref, why: REFUSAL.unmanaged });
        continue;
      }
      unmanaged.push(podKey(ref));
    }
    plan.evict.push(ref);
  }
  if (daemonSets.length) plan.warnings.push(`ignoring DaemonSet-managed Pods: ${daemonSets.join(', ')}`);
  if (localStorage.length) plan.warnings.push(`deleting Pods with local storage: ${localStorage.join(', ')}`);
  if (unmanaged.length) plan.warnings.push(`deleting Pods that declare no controller: ${unmanaged.join(', ')}`);
  return plan;
}

/** One line per refusal reason, like kubectl: "cannot delete Pods with local storage (...): web/cache, web/db". */
export function describeRefusals(plan: DrainPlan): string[] {
  const byWhy = new Map<string, string[]>();
  for (const r of plan.refused) byWhy.set(r.why, [...(byWhy.get(r.why) ?? []), podKey(r.pod)]);
  return [...byWhy].map(
    ([why, pods]) => `${why.startsWith('cannot') ? why : `cannot delete ${why}`}: ${pods.join(', ')}`,
  );
}

/** Delay before retrying an eviction a PDB refused: 0.5 s doubling to 5 s (kubectl waits a flat 5 s). */
export function evictionBackoffMs(attempt: number): number {
  return Math.min(5000, 500 * 2 ** Math.max(0, attempt));
}

/** Delay between checks that evicted pods are gone: 100 ms growing to 1 s. */
export function goneBackoffMs(attempt: number): number {
  return Math.min(1000, 100 * 1.5 ** Math.max(0, attempt));
}

/** A budget, as the blocked-eviction report describes it. */
export interface BudgetView {
  name: string;
  namespace: string;
  selector?: {
    matchLabels?: Record<string, string>;
    matchExpressions?: { key: string; operator: string; values?: string[] }[];
  };
  disruptionsAllowed?: number;
  currentHealthy?: number;
  desiredHealthy?: number;
}

/** label selector (matchLabels + matchExpressions) semantics, as for PDB and Deployment selectors. */
export function selectorMatches(selector: BudgetView['selector'], labels: Record<string, string> = {}): boolean {
  if (!selector) return false;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const inValues = has && (e.values ?? []).includes(labels[e.key]!);
    const ok =
      e.operator === 'In'
        ? inValues
        : e.operator === 'NotIn'
          ? !inValues
          : e.operator === 'Exists'
            ? has
            : e.operator === 'DoesNotExist'
              ? !has
              : false;
    if (!ok) return false;
  }
  return true;
}

/** Why an eviction is held, in words: the budget(s) covering the pod and their numbers. */
export function describeBlock(pod: PodLike, budgets: BudgetView[], serverMessage: string): string {
  const covering = budgets.filter((b) => selectorMatches(b.selector, pod.metadata?.labels));
  if (covering.length === 0) return serverMessage;
  return covering
    .map(
      (b) =>
        `PodDisruptionBudget ${b.namespace}/${b.name} allows ${b.disruptionsAllowed ?? 0} disruption(s) ` +
        `(${b.currentHealthy ?? '?'} healthy, ${b.desiredHealthy ?? '?'} required)`,
    )
    .join('; ');
}
