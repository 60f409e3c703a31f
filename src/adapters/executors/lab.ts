import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { ExecutorMember } from '../../domain/recover/members.js';
import type { ExecutablePlan, PlanStep } from '../../domain/recover/types.js';
import { errorMessage } from '../../errors.js';
import { writeFileAtomic } from '../host/atomic-file.js';
import { hasData, lastLogMessage, memberServes, runningPid, waitForMembers } from '../lab/members.js';
import {
  keptCopyPath,
  moveDataAside,
  restartLabMember,
  runningArgs,
  startLabMember,
  stopLabMember,
  swapDataDir,
} from '../lab/recover-support.js';
import { type LabMemberState, type LabState, writeLabState } from '../lab/state.js';
import { restoreSnapshot } from '../verify/restore.js';
import { ClusterOps, FatalStepError } from './cluster-ops.js';
import type { StepExecutor, StepOutcome } from './types.js';

export const LAB_JOURNAL = 'recover-journal.json';
const FORCE_FLAG = '--force-new-cluster';

/**
 * The lab executor: every step on local processes, fully automatic. Each step looks before it acts, so a step that
 * was running when a recovery was interrupted is finished (or found done) by the next run.
 */
export class LabExecutor implements StepExecutor {
  readonly kind = 'lab' as const;
  readonly journalPath: string;
  private readonly ops = new ClusterOps();

  constructor(
    readonly lab: LabState,
    private readonly opts: { force: boolean; graceMs?: number } = { force: false },
  ) {
    this.journalPath = join(lab.dir, LAB_JOURNAL);
  }

  members(): ExecutorMember[] {
    return this.lab.members.map((m) => {
      const pid = runningPid(m);
      return {
        name: m.name,
        peerUrl: m.peerUrl,
        clientUrl: m.clientUrl,
        running: pid !== undefined,
        ...(pid !== undefined ? { pid } : {}),
        hasData: hasData(m),
      };
    });
  }

  async run(step: PlanStep, plan: ExecutablePlan): Promise<StepOutcome> {
    const ran = (detail?: string): StepOutcome => ({ skipped: false, ...(detail ? { detail } : {}) });
    const skip = (detail: string): StepOutcome => ({ skipped: true, detail });
    switch (step.kind) {
      case 'ensure-stopped': {
        // A snapshot plan restores every member's new data dir before it stops anything: a snapshot etcd's restore
        // rejects then fails here, with every member still as it was.
        const staged = await this.stageRestores(plan);
        const stopped: string[] = [];
        for (const name of step.members) {
          const m = this.member(name);
          const pid = runningPid(m);
          if (pid === undefined && !(await memberServes(m.clientUrl))) continue;
          if (!this.opts.force) {
            throw new FatalStepError(
              `${name} is still running${pid ? ` (pid ${pid})` : ''}: stop it first (lifeboat lab stop ${name}) or pass --force`,
            );
          }
          await stopLabMember(m, this.grace);
          stopped.push(name);
        }
        this.save();
        const prepared = staged.length ? `restored ${staged.join(', ')} beside the old data; ` : '';
        return stopped.length || staged.length
          ? ran(`${prepared}${stopped.length ? `stopped ${stopped.join(', ')}` : 'none was running'}`)
          : skip('none was running');
      }
      case 'start': {
        const m = this.member(step.member);
        if (runningPid(m) !== undefined) return skip(`${m.name} already runs`);
        if (!hasData(m)) throw new FatalStepError(`${m.name}'s data dir is gone: use --plan replace or survivor`);
        this.startAndSave(m);
        return ran();
      }
      case 'wait-healthy':
        await this.waitHealthy(step.members);
        return ran();
      case 'wait-caught-up':
        return ran(`applied index ${await this.ops.waitCaughtUp(this.url(step.member), this.url(step.via))}`);
      case 'force-new-cluster': {
        const m = this.member(step.member);
        if (runningArgs(m)?.includes(FORCE_FLAG)) {
          await this.waitHealthy([m.name]);
          return skip(`${m.name} already runs with ${FORCE_FLAG}`);
        }
        // The copy is taken between the old process and the new one, as --force-new-cluster rewrites the data.
        const copy = keptCopyPath(m);
        await this.restart(m, { extraArgs: [FORCE_FLAG], copyDataTo: copy });
        await this.waitHealthy([m.name]);
        return ran(`copy of the old data: ${copy}`);
      }
      case 'wait-writable':
        return ran(`write accepted at revision ${await this.ops.waitWritable(this.url(step.member))}`);
      case 'restart-normal': {
        const m = this.member(step.member);
        const args = runningArgs(m);
        if (args && !args.includes(FORCE_FLAG)) return skip(`${m.name} already runs without ${FORCE_FLAG}`);
        await this.restart(m, {});
        await this.waitHealthy([m.name]);
        return ran();
      }
      case 'remove-member':
        return (await this.ops.removeMember(this.url(step.via), step.memberId)) ? ran() : skip('entry already gone');
      case 'add-member': {
        const res = await this.ops.addLearner(this.url(step.via), step.peerUrl, step.oldId);
        return res.added ? ran(`new member id ${res.id}`) : skip(`already added (id ${res.id})`);
      }
      case 'wipe': {
        const m = this.member(step.member);
        if (runningPid(m) !== undefined) throw new FatalStepError(`refusing to wipe ${m.name}: it is running`);
        const aside = moveDataAside(m);
        return aside ? ran(`old data moved to ${aside}`) : skip('no data dir');
      }
      case 'join': {
        const m = this.member(step.member);
        if (runningPid(m) !== undefined) return skip(`${m.name} already runs`);
        const initialCluster = await this.membership(step.via, step.initialCluster);
        this.startAndSave(m, { initialCluster, state: 'existing' });
        await waitForMembers(this.lab, [m.name], { until: 'listening', timeoutMs: 30_000 });
        return ran(`--initial-cluster=${initialCluster}`);
      }
      case 'promote':
        return (await this.ops.promote(this.url(step.via), step.peerUrl)) ? ran() : skip('already a voting member');
      case 'restore': {
        const m = this.member(step.member);
        if (runningPid(m) !== undefined) throw new FatalStepError(`refusing to restore over ${m.name}: it is running`);
        const marker = `${m.dataDir}.restored.json`;
        if (hasData(m) && existsSync(marker) && readMarker(marker) === step.token) return skip('already restored');
        const fresh = await this.stage(step);
        const aside = swapDataDir(m, fresh);
        writeFileAtomic(marker, `${JSON.stringify({ token: step.token, file: step.file })}\n`);
        return ran(aside ? `old data moved to ${aside}` : undefined);
      }
      case 'start-all': {
        this.lab.token = step.token;
        const started = step.members.map((n) => this.member(n)).filter((m) => runningPid(m) === undefined);
        for (const m of started) startLabMember(this.lab, m);
        this.save();
        return started.length ? ran(`started ${started.map((m) => m.name).join(', ')}`) : skip('all running');
      }
    }
  }

  /** Every restore step of the plan, each into DATA.restoring (nothing running is touched). */
  private async stageRestores(plan: ExecutablePlan): Promise<string[]> {
    const staged: string[] = [];
    for (const s of plan.steps) {
      if (s.kind !== 'restore') continue;
      const m = this.member(s.member);
      const marker = `${m.dataDir}.restored.json`;
      if (hasData(m) && existsSync(marker) && readMarker(marker) === s.token) continue;
      try {
        await this.stage(s);
      } catch (err) {
        throw new FatalStepError(`nothing was stopped: ${errorMessage(err)}`);
      }
      staged.push(m.name);
    }
    return staged;
  }

  /** DATA.restoring holding this step's restore (reused when a marker says it is this token's). */
  private async stage(step: Extract<PlanStep, { kind: 'restore' }>): Promise<string> {
    const m = this.member(step.member);
    const fresh = `${m.dataDir}.restoring`;
    const marker = `${fresh}.json`;
    if (existsSync(join(fresh, 'member')) && readMarker(marker) === step.token) return fresh;
    rmSync(fresh, { recursive: true, force: true }); // our own half-made restore, never etcd's live data
    rmSync(marker, { force: true });
    const { initialCluster, token, bumpRevision } = step;
    await restoreSnapshot(step.file, {
      dataDir: fresh,
      name: m.name,
      peerUrl: m.peerUrl,
      initialCluster,
      token,
      bumpRevision,
    });
    writeFileAtomic(marker, `${JSON.stringify({ token: step.token, file: step.file })}\n`);
    return fresh;
  }

  private get grace(): number {
    return this.opts.graceMs ?? 10_000;
  }

  private member(name: string): LabMemberState {
    const m = this.lab.members.find((x) => x.name === name);
    if (!m) throw new FatalStepError(`the lab has no member ${name}`);
    return m;
  }

  private url(name: string): string {
    return this.member(name).clientUrl;
  }

  private save(): void {
    writeLabState(this.lab);
  }

  /** Stop and start again, never leaving the member stopped if this process dies half-way (restartLabMember). */
  private async restart(m: LabMemberState, opts: Parameters<typeof restartLabMember>[2]): Promise<void> {
    try {
      await restartLabMember(this.lab, m, opts, this.grace);
    } finally {
      this.save();
    }
  }

  private startAndSave(m: LabMemberState, opts: Parameters<typeof startLabMember>[2] = {}): void {
    try {
      startLabMember(this.lab, m, opts);
    } finally {
      this.save();
    }
  }

  /** Healthy as the cluster sees it; a member process that exits meanwhile fails the step at once with its log. */
  private async waitHealthy(names: string[]): Promise<void> {
    const members = names.map((n) => this.member(n));
    await this.ops.retry(`${names.join(', ')} to be healthy`, 90_000, async () => {
      const gone = members.find((m) => runningPid(m) === undefined);
      if (gone) throw new FatalStepError(`${gone.name} exited: ${lastLogMessage(gone.logFile)} (log: ${gone.logFile})`);
      await this.ops.checkHealthy(members.map((m) => m.clientUrl));
    });
  }

  /** `name=peerURL,...` of the membership as the cluster lists it now (new members have no name until started). */
  private async membership(via: string, planned: string): Promise<string> {
    try {
      const list = await this.ops.members(this.url(via));
      const named = list.map((e) => {
        const peer = (e.peerURLs[0] ?? '').replace(/\/+$/, '');
        const lab = this.lab.members.find((m) => m.peerUrl === peer);
        return `${e.name || lab?.name || e.id}=${peer}`;
      });
      return named.join(',');
    } catch {
      return planned;
    }
  }
}

function readMarker(path: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(path, 'utf8')) as { token?: string }).token;
  } catch {
    return undefined;
  }
}
