import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDuration } from '../../domain/duration.js';
import type { Rebooter } from '../../domain/maintenance/ports.js';
import { runningPid, startMember, stopMember } from '../lab/members.js';
import { type LabState, readLabState, writeLabState } from '../lab/state.js';
import { portIsFree } from '../proc/ports.js';
import { delay, waitFor } from '../proc/wait.js';
import { kernelBootId, runCommand } from './local.js';

export class CommandRebooter implements Rebooter {
  constructor(
    readonly command: string,
    private readonly timeoutMs = 120_000,
  ) {}

  get description(): string {
    return `run \`${this.command}\``;
  }

  bootId(): string {
    return kernelBootId();
  }

  async reboot(): Promise<'pending'> {
    const { code, output } = await runCommand(this.command, this.timeoutMs);
    if (code !== 0) throw new Error(`reboot command \`${this.command}\` failed (exit ${code ?? 'none'}): ${output}`);
    return 'pending';
  }
}

export interface Downtime {
  minMs: number;
  maxMs: number;
}

export const DEFAULT_LAB_DOWNTIME: Downtime = { minMs: 2000, maxMs: 8000 };

/** "2s-8s" (or one duration) -> range; undefined when not understood. */
export function parseDowntime(text: string): Downtime | undefined {
  const [a, b] = text.split('-').map((s) => parseDuration(s));
  if (a === undefined) return undefined;
  const max = b ?? a;
  return max >= a ? { minMs: a, maxMs: max } : undefined;
}

/** A lab node's pretend reboot: down for a random while within `downtime`. */
abstract class LabRebooter implements Rebooter {
  constructor(
    protected readonly labDir: string,
    /** The member (etcd) or node (worker) it takes down. */
    protected readonly name: string,
    private readonly downtime: Downtime = DEFAULT_LAB_DOWNTIME,
    private readonly random: () => number = Math.random,
  ) {}

  abstract readonly description: string;
  abstract bootId(): string;
  abstract reboot(): Promise<'returned'>;

  protected get downFor(): string {
    return `${this.downtime.minMs / 1000}-${this.downtime.maxMs / 1000}s`;
  }

  /** Waits as long as this reboot keeps the node down. */
  protected down(): Promise<void> {
    const { minMs, maxMs } = this.downtime;
    return delay(Math.round(minMs + this.random() * (maxMs - minMs)));
  }
}

/** A lab member's "reboot": SIGTERM (etcd hands leadership over), a random pause, start again with its data. */
export class LabMemberRebooter extends LabRebooter {
  private get member(): string {
    return this.name;
  }

  get description(): string {
    return `stop lab member ${this.member} for ${this.downFor}`;
  }

  bootId(): string {
    const m = this.state().members.find((x) => x.name === this.member);
    return `lab-pid:${(m && runningPid(m)) ?? 'none'}`;
  }

  async reboot(): Promise<'returned'> {
    const state = this.state();
    const m = state.members.find((x) => x.name === this.member)!;
    await stopMember(m, 10_000);
    this.savePid(null);
    await this.down();
    for (const url of [m.clientUrl, m.peerUrl]) {
      await waitFor(`${url} to be free`, () => portIsFree(Number(new URL(url).port)), { timeoutMs: 15_000 });
    }
    startMember(state, m, 'existing');
    this.savePid(m.pid);
    return 'returned';
  }

  private state(): LabState {
    const state = readLabState(this.labDir);
    if (!state) throw new Error(`no lab in ${this.labDir}`);
    if (!state.members.some((m) => m.name === this.member)) throw new Error(`no member ${this.member} in the lab`);
    return state;
  }

  /** Other agents write lab.json too: re-read it and change only our member's pid. */
  private savePid(pid: number | null): void {
    const fresh = this.state();
    const m = fresh.members.find((x) => x.name === this.member)!;
    m.pid = pid;
    writeLabState(fresh);
  }
}

/** Where a lab worker's down-marker lives while it "reboots" (tests watch these files). */
export function labWorkerDownPath(labDir: string, node: string): string {
  return join(labDir, 'nodes', `${node}.down`);
}

/** A lab worker has no process: it is "down" while its marker exists; its boot id counts its reboots. */
export class LabWorkerRebooter extends LabRebooter {
  private get node(): string {
    return this.name;
  }

  get description(): string {
    return `mark lab worker ${this.node} down for ${this.downFor}`;
  }

  private get bootFile(): string {
    return join(this.labDir, 'nodes', `${this.node}.boot`);
  }

  bootId(): string {
    try {
      return `lab-boot:${readFileSync(this.bootFile, 'utf8').trim()}`;
    } catch {
      return 'lab-boot:0';
    }
  }

  async reboot(): Promise<'returned'> {
    const down = labWorkerDownPath(this.labDir, this.node);
    mkdirSync(join(this.labDir, 'nodes'), { recursive: true });
    writeFileSync(down, `${new Date().toISOString()}\n`);
    await this.down();
    const boots = Number(this.bootId().slice('lab-boot:'.length)) || 0;
    writeFileSync(this.bootFile, `${boots + 1}\n`);
    if (existsSync(down)) rmSync(down, { force: true });
    return 'returned';
  }
}
