import type { ExecutorMember } from '../../domain/recover/members.js';
import type { ExecutablePlan } from '../../domain/recover/types.js';
import { readInputFile } from '../host/input-file.js';
import { nodeOf } from './kubeadm.js';
import { buildRunbook, type Driver } from './runbook.js';
import type { ExecutorKind, RunbookExecutor, RunbookScript } from './types.js';

/**
 * An executor that reads one file on this host (an etcd unit, a k3s config) and writes per-node runbooks from it.
 * It cannot see other hosts, so it knows no members: the plan comes from the probes.
 */
export class FileRunbookExecutor implements RunbookExecutor {
  constructor(
    readonly kind: ExecutorKind,
    readonly source: string,
    private readonly nodes: Array<{ node: string; member: string }>,
    /** What to do when the file cannot be read (which flag names another one). */
    private readonly unreadableHint: string,
    private readonly driverOf: (text: string, source: string) => Driver,
  ) {}

  members(): ExecutorMember[] | undefined {
    return undefined;
  }

  runbook(plan: ExecutablePlan, writtenAt = new Date()): RunbookScript[] {
    const text = readInputFile(this.source, 'file', { maxBytes: 1024 * 1024, hint: this.unreadableHint }).toString(
      'utf8',
    );
    return buildRunbook(plan, this.driverOf(text, this.source), (member) => nodeOf(this.nodes, member), writtenAt);
  }
}
