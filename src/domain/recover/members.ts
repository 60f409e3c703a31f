import type { MemberEntry, MemberView } from '../probe.js';
import type { RecoverMember } from './types.js';

/** What an executor can tell about a member on its machine (the lab: everything; runbooks: only the topology). */
export interface ExecutorMember {
  name: string;
  peerUrl: string;
  clientUrl: string;
  running: boolean | null;
  pid?: number;
  hasData: boolean | null;
}

const trim = (url: string) => url.replace(/\/+$/, '');

/**
 * One list of members from three sources: the diagnosis (reachable, raft indexes), the member list (ids, peer
 * URLs) and the executor (process, disk). The cluster's member list wins for who is a member; members only the
 * executor knows (no member answers at all) come from the executor. Matched by peer URL, then by name.
 */
export function mergeMembers(
  views: MemberView[],
  entries: MemberEntry[],
  executor: ExecutorMember[] | undefined,
  /**
   * Also the executor's members the cluster does not list: when the members that answer are an empty cluster that
   * bootstrapped itself (data lost), their list is not the real membership; the node's manifest is.
   */
  unlistedToo = false,
): RecoverMember[] {
  const byId = new Map<string, MemberEntry>();
  for (const e of entries) if (!byId.has(e.id)) byId.set(e.id, e);
  const out: RecoverMember[] = [];
  const used = new Set<ExecutorMember>();
  for (const entry of byId.values()) {
    const view = views.find((v) => v.id === entry.id);
    const peerUrl = trim(entry.peerURLs[0] ?? '');
    const ex =
      executor?.find((x) => trim(x.peerUrl) === peerUrl) ??
      executor?.find((x) => entry.name !== '' && x.name === entry.name);
    if (ex) used.add(ex);
    out.push({
      name: entry.name || ex?.name || `(unstarted ${peerUrl})`,
      id: entry.id,
      peerUrl,
      clientUrl: trim(entry.clientURLs[0] ?? ex?.clientUrl ?? view?.endpoint ?? ''),
      reachable: view?.reachable ?? false,
      learner: entry.isLearner,
      raftIndex: view?.raftIndex ?? null,
      appliedIndex: view?.raftAppliedIndex ?? null,
      dbSize: view?.dbSize ?? null,
      running: ex ? ex.running : null,
      ...(ex?.pid ? { pid: ex.pid } : {}),
      hasData: ex ? ex.hasData : null,
    });
  }
  if (out.length === 0 || unlistedToo) {
    for (const ex of executor ?? []) {
      if (used.has(ex)) continue;
      used.add(ex);
      out.push({
        name: ex.name,
        id: '',
        peerUrl: trim(ex.peerUrl),
        clientUrl: trim(ex.clientUrl),
        reachable: false,
        learner: false,
        raftIndex: null,
        appliedIndex: null,
        dbSize: null,
        running: ex.running,
        ...(ex.pid ? { pid: ex.pid } : {}),
        hasData: ex.hasData,
      });
    }
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}
