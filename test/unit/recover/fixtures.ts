import type { ClusterState } from '../../../src/domain/quorum.js';
import type { RecoverInput, RecoverMember, SnapshotInfo } from '../../../src/domain/recover/types.js';

/** Members cp1..cpN on 10.0.0.1x; `over` tweaks each by name. */
export function members(n: number, over: Record<string, Partial<RecoverMember>> = {}): RecoverMember[] {
  return Array.from({ length: n }, (_, i) => {
    const name = `cp${i + 1}`;
    return {
      name,
      id: String(1000 + i),
      peerUrl: `https://10.0.0.1${i + 1}:2380`,
      clientUrl: `https://10.0.0.1${i + 1}:2379`,
      reachable: true,
      learner: false,
      raftIndex: 500,
      appliedIndex: 500,
      dbSize: 10 * 1024 * 1024,
      running: true,
      hasData: true,
      ...over[name],
    };
  });
}

export const down = (extra: Partial<RecoverMember> = {}): Partial<RecoverMember> => ({
  reachable: false,
  raftIndex: null,
  appliedIndex: null,
  dbSize: null,
  running: false,
  ...extra,
});

export function input(state: ClusterState, ms: RecoverMember[], extra: Partial<RecoverInput> = {}): RecoverInput {
  return {
    state,
    members: ms,
    force: false,
    newToken: 'lifeboat-restore-test',
    now: Date.parse('2026-11-27T12:00:00Z'),
    restoreTool: { tool: 'etcdctl', version: '3.4.23' },
    ...extra,
  };
}

export const SNAPSHOT: SnapshotInfo = {
  file: '/backups/etcd/2026-11-27T090000.000Z-home.db',
  revision: 4242,
  createdAt: '2026-11-27T09:00:00.000Z',
  keys: 3000,
  verified: true,
  size: 20 * 1024 * 1024,
};
