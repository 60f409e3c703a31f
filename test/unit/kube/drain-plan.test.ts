import { describe, expect, it } from 'vitest';
import {
  describeBlock,
  describeRefusals,
  evictionBackoffMs,
  goneBackoffMs,
  type PodLike,
  planDrain,
  selectorMatches,
} from '../../../src/domain/kube/drain.js';

/** Which pods a drain evicts: kubectl drain's filters (k8s.io/kubectl/pkg/drain/filters.go). */

function pod(
  name: string,
  extra: { owner?: string; mirror?: boolean; emptyDir?: boolean; phase?: string; terminating?: boolean } = {},
): PodLike {
  return {
    metadata: {
      name,
      namespace: 'ns',
      uid: `uid-${name}`,
      labels: { app: name },
      ...(extra.mirror ? { annotations: { 'kubernetes.io/config.mirror': 'hash' } } : {}),
      ...(extra.owner ? { ownerReferences: [{ kind: extra.owner, name: 'x', controller: true }] } : {}),
      ...(extra.terminating ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}),
    },
    spec: { nodeName: 'n1', volumes: extra.emptyDir ? [{ name: 'cache', emptyDir: {} }] : [] },
    status: { phase: extra.phase ?? 'Running' },
  };
}

describe('planDrain', () => {
  const pods = [
    pod('etcd-n1', { mirror: true, owner: 'Node' }),
    pod('kube-proxy', { owner: 'DaemonSet' }),
    pod('web', { owner: 'ReplicaSet' }),
    pod('db-0', { owner: 'StatefulSet' }),
    pod('cache', { owner: 'ReplicaSet', emptyDir: true }),
    pod('bare'),
    pod('job-done', { phase: 'Succeeded' }),
    pod('ds-failed', { owner: 'DaemonSet', phase: 'Failed' }),
    pod('leaving', { owner: 'ReplicaSet', terminating: true }),
  ];

  it('refuses emptyDir and bare pods without the flags, naming each with kubectl words', () => {
    const plan = planDrain(pods);
    expect(plan.refused.map((r) => r.pod.name)).toEqual(['cache', 'bare']);
    expect(describeRefusals(plan)).toEqual([
      'cannot delete Pods with local storage (use --delete-emptydir-data to override): ns/cache',
      'cannot delete Pods that declare no controller (use --force to override): ns/bare',
    ]);
  });

  it('with --delete-emptydir-data --force: evicts all but mirror and running DaemonSet pods; waits on terminating ones', () => {
    const plan = planDrain(pods, { deleteEmptyDirData: true, force: true });
    expect(plan.refused).toEqual([]);
    expect(plan.evict.map((r) => r.name)).toEqual(['web', 'db-0', 'cache', 'bare', 'job-done', 'ds-failed']);
    expect(plan.skipped.map((s) => [s.pod.name, s.why])).toEqual([
      ['etcd-n1', 'mirror'],
      ['kube-proxy', 'daemonset'],
    ]);
    expect(plan.waitOnly.map((r) => r.name)).toEqual(['leaving']);
    expect(plan.warnings).toEqual([
      'ignoring DaemonSet-managed Pods: ns/kube-proxy',
      'deleting Pods with local storage: ns/cache',
      'deleting Pods that declare no controller: ns/bare',
    ]);
  });

  it('finished pods go regardless of emptyDir or controller (kubectl: "any finished pod can be removed")', () => {
    const plan = planDrain([pod('x', { phase: 'Failed', emptyDir: true })]);
    expect(plan.evict.map((r) => r.name)).toEqual(['x']);
  });
});

describe('eviction helpers', () => {
  it('backoff grows and is capped', () => {
    expect([0, 1, 2, 3, 4, 10].map(evictionBackoffMs)).toEqual([500, 1000, 2000, 4000, 5000, 5000]);
    expect(goneBackoffMs(0)).toBe(100);
    expect(goneBackoffMs(50)).toBe(1000);
  });

  it('selectors: matchLabels and every matchExpressions operator', () => {
    const labels = { app: 'web', tier: 'front' };
    expect(selectorMatches({ matchLabels: { app: 'web' } }, labels)).toBe(true);
    expect(selectorMatches({ matchLabels: { app: 'db' } }, labels)).toBe(false);
    expect(
      selectorMatches({ matchExpressions: [{ key: 'tier', operator: 'In', values: ['front', 'x'] }] }, labels),
    ).toBe(true);
    expect(selectorMatches({ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['front'] }] }, labels)).toBe(
      false,
    );
    expect(selectorMatches({ matchExpressions: [{ key: 'zone', operator: 'DoesNotExist' }] }, labels)).toBe(true);
    expect(selectorMatches({ matchExpressions: [{ key: 'zone', operator: 'Exists' }] }, labels)).toBe(false);
    expect(selectorMatches(undefined, labels)).toBe(false);
  });

  it('a block names the covering budget and its numbers, else the API message', () => {
    const budgets = [
      {
        name: 'web',
        namespace: 'ns',
        selector: { matchLabels: { app: 'web' } },
        disruptionsAllowed: 0,
        currentHealthy: 2,
        desiredHealthy: 2,
      },
      { name: 'other', namespace: 'ns', selector: { matchLabels: { app: 'other' } } },
    ];
    expect(describeBlock(pod('web'), budgets, 'server says no')).toBe(
      'PodDisruptionBudget ns/web allows 0 disruption(s) (2 healthy, 2 required)',
    );
    expect(describeBlock(pod('lonely'), budgets, 'server says no')).toBe('server says no');
  });
});
