import {
  type BudgetView,
  type DrainFlags,
  type DrainPlan,
  describeBlock,
  describeRefusals,
  evictionBackoffMs,
  goneBackoffMs,
  type PodLike,
  type PodRef,
  planDrain,
  podKey,
} from '../../domain/kube/drain.js';
import { type KubeApi, KubeApiError } from './api.js';

/**
 * Cordon and drain a node the way `kubectl drain --ignore-daemonsets` does, through the Eviction API so
 * PodDisruptionBudgets are respected: a 429 means "not now", retried with backoff until the deadline, and what holds
 * the drain is reported (events while it waits, the error when time runs out). Pods are evicted in parallel, then
 * the drain waits until each one is gone (or replaced by a pod with another UID).
 */

export interface DrainOptions extends DrainFlags {
  /** Overall deadline for evictions and for the pods to be gone (default 5 minutes). */
  timeoutMs?: number;
  signal?: AbortSignal;
  onEvent?: (event: DrainEvent) => void;
}

export type DrainEvent =
  | { type: 'cordoned'; node: string }
  | { type: 'evicting'; pods: string[] }
  | { type: 'evicted'; pod: string }
  | { type: 'blocked'; pod: string; reason: string; attempt: number }
  | { type: 'gone'; pod: string };

export interface DrainReport {
  node: string;
  /** false when the node was already cordoned. */
  cordoned: boolean;
  evicted: string[];
  skipped: { pod: string; why: string }[];
  warnings: string[];
  /** Every pod that was held at some point, with the last reason given. */
  blocked: { pod: string; reason: string }[];
  seconds: number;
}

export class DrainError extends Error {
  constructor(
    message: string,
    readonly kind: 'refused' | 'timeout' | 'failed',
    /** What still holds the drain (pod -> reason). */
    readonly blockers: { pod: string; reason: string }[] = [],
  ) {
    super(message);
    this.name = 'DrainError';
  }
}

/** Mark the node unschedulable (merge patch). Returns false when it already was. */
export async function cordonNode(api: KubeApi, node: string): Promise<boolean> {
  const current = await api.getNode(node);
  if (current.spec?.unschedulable) return false;
  await api.mergePatchNode(node, { spec: { unschedulable: true } });
  return true;
}

export async function drainNode(api: KubeApi, node: string, opts: DrainOptions = {}): Promise<DrainReport> {
  const started = performance.now();
  const deadline = started + (opts.timeoutMs ?? 300_000);
  const emit = opts.onEvent ?? (() => {});
  const cordoned = await cordonNode(api, node);
  if (cordoned) emit({ type: 'cordoned', node });
  const pods = (await api.listPodsOnNode(node)) as PodLike[];
  const plan = planDrain(pods, opts);
  if (plan.refused.length) {
    throw new DrainError(`cannot drain ${node}: ${describeRefusals(plan).join('; ')}`, 'refused');
  }
  const byKey = new Map(
    pods.map((p) => [podKey({ namespace: p.metadata?.namespace ?? 'default', name: p.metadata?.name ?? '' }), p]),
  );
  const blocked = new Map<string, string>();
  if (plan.evict.length) emit({ type: 'evicting', pods: plan.evict.map(podKey) });
  const ctx: EvictContext = { api, deadline, signal: opts.signal, emit, blocked, byKey };
  const results = await Promise.allSettled(plan.evict.map((ref) => evictUntilAccepted(ctx, ref)));
  const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) throw summarize(failure.reason, node, blocked, plan, results);
  await waitUntilGone(ctx, [...plan.evict, ...plan.waitOnly]);
  return {
    node,
    cordoned,
    evicted: plan.evict.map(podKey),
    skipped: plan.skipped.map((s) => ({ pod: podKey(s.pod), why: s.why })),
    warnings: plan.warnings,
    blocked: [...blocked].map(([pod, reason]) => ({ pod, reason })),
    seconds: (performance.now() - started) / 1000,
  };
}

interface EvictContext {
  api: KubeApi;
  deadline: number;
  signal?: AbortSignal;
  emit: (e: DrainEvent) => void;
  blocked: Map<string, string>;
  byKey: Map<string, PodLike>;
}

class StillBlocked extends Error {}

async function evictUntilAccepted(ctx: EvictContext, ref: PodRef): Promise<void> {
  const key = podKey(ref);
  for (let attempt = 0; ; attempt++) {
    ctx.signal?.throwIfAborted();
    try {
      await ctx.api.evictPod(ref.namespace, ref.name);
      ctx.emit({ type: 'evicted', pod: key });
      return;
    } catch (err) {
      if (!(err instanceof KubeApiError)) throw err;
      if (err.status === 404) return; // gone already
      if (err.status !== 429) throw err;
      const reason = await blockReason(ctx, ref, err);
      if (ctx.blocked.get(key) !== reason || attempt === 0) ctx.emit({ type: 'blocked', pod: key, reason, attempt });
      ctx.blocked.set(key, reason);
      const wait = evictionBackoffMs(attempt);
      if (performance.now() + wait > ctx.deadline) throw new StillBlocked(reason);
      await sleep(wait, ctx.signal);
    }
  }
}

/** The budget(s) covering the pod, with their numbers; the API's own words when budgets cannot be read. */
async function blockReason(ctx: EvictContext, ref: PodRef, err: KubeApiError): Promise<string> {
  const server =
    err.causes
      .map((c) => c.message)
      .filter(Boolean)
      .join('; ') || err.message;
  try {
    const budgets: BudgetView[] = (await ctx.api.listPodDisruptionBudgets(ref.namespace)).map((b) => ({
      name: b.metadata?.name ?? '',
      namespace: b.metadata?.namespace ?? ref.namespace,
      selector: b.spec?.selector as BudgetView['selector'],
      disruptionsAllowed: b.status?.disruptionsAllowed,
      currentHealthy: b.status?.currentHealthy,
      desiredHealthy: b.status?.desiredHealthy,
    }));
    return describeBlock(ctx.byKey.get(podKey(ref)) ?? {}, budgets, server);
  } catch {
    return server;
  }
}

async function waitUntilGone(ctx: EvictContext, refs: PodRef[]): Promise<void> {
  let pending = refs;
  for (let attempt = 0; pending.length; attempt++) {
    ctx.signal?.throwIfAborted();
    const still: PodRef[] = [];
    for (const ref of pending) {
      const pod = await ctx.api.getPod(ref.namespace, ref.name);
      if (pod && (!ref.uid || pod.metadata?.uid === ref.uid)) still.push(ref);
      else ctx.emit({ type: 'gone', pod: podKey(ref) });
    }
    pending = still;
    if (!pending.length) return;
    const wait = goneBackoffMs(attempt);
    if (performance.now() + wait > ctx.deadline) {
      const names = pending.map(podKey);
      throw new DrainError(
        `timed out waiting for ${names.join(', ')} to terminate`,
        'timeout',
        names.map((pod) => ({ pod, reason: 'still terminating' })),
      );
    }
    await sleep(wait, ctx.signal);
  }
}

function summarize(
  reason: unknown,
  node: string,
  blocked: Map<string, string>,
  plan: DrainPlan,
  results: PromiseSettledResult<void>[],
): Error {
  const stuck = plan.evict
    .map((ref, i) => ({ ref, r: results[i]! }))
    .filter(({ r }) => r.status === 'rejected' && r.reason instanceof StillBlocked)
    .map(({ ref }) => ({ pod: podKey(ref), reason: blocked.get(podKey(ref)) ?? 'eviction refused' }));
  if (stuck.length && reason instanceof StillBlocked) {
    const list = stuck.map((s) => `${s.pod} (${s.reason})`).join('; ');
    return new DrainError(`timed out draining ${node}: eviction still refused for ${list}`, 'timeout', stuck);
  }
  const message = reason instanceof Error ? reason.message : String(reason);
  return new DrainError(`drain of ${node} failed: ${message}`, 'failed', stuck);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(done, ms);
    function done() {
      signal?.removeEventListener('abort', abort);
      resolve();
    }
    function abort() {
      clearTimeout(timer);
      reject(signal?.reason ?? new Error('aborted'));
    }
    if (signal?.aborted) abort();
    else signal?.addEventListener('abort', abort, { once: true });
  });
}
