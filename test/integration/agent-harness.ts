import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import { labWorkerDownPath } from '../../src/adapters/agent/reboot.js';
import { EtcdEndpointClient } from '../../src/adapters/etcd/client.js';
import { findProcesses } from '../../src/adapters/proc/find.js';
import { isAlive, killProcess, signal } from '../../src/adapters/proc/process.js';
import { delay, waitFor } from '../../src/adapters/proc/wait.js';
import { type CliResult, json, runCli } from '../helpers/cli.js';

/** A lab with agents as separate processes, an independent monitor and a writer: what the agent tests drive. */

/**
 * Another test run on this machine may be rebuilding dist/ while we start a CLI: a half-written module fails to
 * load. That is not the product failing; start it again (only for these loader errors).
 */
const LOADER_ERROR = /SyntaxError|does not provide an export named|Unexpected end of input|Cannot find module/;

export async function lifeboat(args: string[]): Promise<CliResult> {
  let result = await runCli(args);
  for (let i = 0; i < 5 && result.code !== 0 && LOADER_ERROR.test(result.stderr); i++) {
    await delay(1000);
    result = await runCli(args);
  }
  return result;
}

const BIN = resolve(import.meta.dirname, '../../bin/lifeboat.js');

export interface AgentEvent {
  t: number;
  ts: string;
  level: string;
  node: string;
  event: string;
  msg: string;
  [field: string]: unknown;
}

export interface AgentProc {
  node: string;
  env: Record<string, string>;
  /** Extra arguments after `agent --node NODE`. */
  args: string[];
  child: ChildProcess;
  events: AgentEvent[];
  stderr: () => string;
  exited: Promise<number | null>;
}

export interface LabMember {
  name: string;
  clientUrl: string;
}

export class AgentLab {
  readonly agents = new Map<string, AgentProc>();
  members: LabMember[] = [];
  workers: string[] = [];

  constructor(readonly dir: string) {}

  get config(): string {
    return join(this.dir, 'lifeboat.yaml');
  }

  sentinel(node: string): string {
    return join(this.dir, 'sentinels', node);
  }

  async up(members: 3 | 5, workers: string[], maintenance: Record<string, unknown>): Promise<void> {
    const res = await lifeboat([
      '--json',
      'lab',
      'up',
      '--dir',
      this.dir,
      '--members',
      String(members),
      '--keys',
      '50',
    ]);
    if (res.code !== 0) throw new Error(`lab up failed: ${res.stderr}`);
    this.members = json<{ members: LabMember[] }>(res).members.map(({ name, clientUrl }) => ({ name, clientUrl }));
    this.workers = workers;
    mkdirSync(join(this.dir, 'sentinels'), { recursive: true });
    const doc = parse(readFileSync(this.config, 'utf8'));
    doc.nodes = [
      ...this.members.map((m) => ({
        name: m.name,
        roles: ['control-plane', 'etcd'],
        maintenance: { sentinel: this.sentinel(m.name) },
      })),
      ...workers.map((w) => ({ name: w, roles: ['worker'], maintenance: { sentinel: this.sentinel(w) } })),
    ];
    doc.maintenance = maintenance;
    writeFileSync(this.config, stringify(doc));
  }

  startAgent(node: string, env: Record<string, string> = {}, args: string[] = []): AgentProc {
    const child = spawn(process.execPath, [BIN, '-c', this.config, '--json', 'agent', '--node', node, ...args], {
      env: { ...process.env, NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const events: AgentEvent[] = [];
    let buffer = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => {
      buffer += d.toString('utf8');
      const lines = buffer.split('\n');
      buffer = lines.pop()!;
      for (const line of lines) {
        if (!line.trim()) continue;
        try {
          const e = JSON.parse(line) as AgentEvent;
          events.push({ ...e, t: Date.parse(e.ts) });
        } catch {
          err += `unparsed: ${line}\n`;
        }
      }
    });
    child.stderr!.on('data', (d: Buffer) => {
      err = (err + d.toString('utf8')).slice(-20_000);
    });
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
    const proc = { node, env, args, child, events, stderr: () => err, exited };
    this.agents.set(node, proc);
    return proc;
  }

  /** Waits until every named agent has logged its start; a dead one fails with what it printed. */
  async waitStarted(nodes: string[], timeoutMs = 90_000): Promise<void> {
    const restarts: Record<string, number> = {};
    await waitFor(
      'every agent to start',
      () => {
        for (const n of nodes) {
          const a = this.agents.get(n)!;
          if (a.child.exitCode === null) continue;
          restarts[n] = (restarts[n] ?? 0) + 1;
          if (!LOADER_ERROR.test(a.stderr()) || restarts[n] > 5) {
            throw new Error(`agent ${n} exited ${a.child.exitCode}: ${a.stderr()}`);
          }
          this.agents.delete(n);
          this.startAgent(n, a.env, a.args);
        }
        return nodes.every((n) => this.agents.get(n)!.events.some((e) => e.event === 'start'));
      },
      { timeoutMs },
    ).catch((err: Error) => {
      const silent = nodes.filter((n) => !this.agents.get(n)!.events.length);
      throw new Error(
        `${err.message}; silent: ${silent.map((n) => `${n}: ${this.agents.get(n)!.stderr()}`).join(' | ')}`,
      );
    });
  }

  events(): AgentEvent[] {
    return [...this.agents.values()].flatMap((a) => a.events).sort((a, b) => a.t - b.t);
  }

  /** Events across every run of every agent (restarted agents keep their predecessors' events here). */
  readonly history: AgentEvent[] = [];

  async stopAgent(node: string, sig: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const a = this.agents.get(node);
    if (!a) return;
    this.agents.delete(node);
    this.history.push(...a.events);
    if (a.child.exitCode === null && a.child.pid) {
      signal(a.child.pid, sig);
      const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 10_000).unref());
      if ((await Promise.race([a.exited, timeout])) === 'timeout') await killProcess(a.child.pid);
    }
  }

  allEvents(): AgentEvent[] {
    return [...this.history, ...this.events()].sort((a, b) => a.t - b.t);
  }

  async waitEvent(what: string, match: (e: AgentEvent) => boolean, timeoutMs: number, since = 0): Promise<AgentEvent> {
    return waitFor(what, () => this.allEvents().find((e) => e.t >= since && match(e)), { timeoutMs, intervalMs: 50 });
  }

  touchSentinels(nodes: string[]): number {
    const at = Date.now();
    for (const n of nodes) writeFileSync(this.sentinel(n), 'lifeboat test\n');
    return at;
  }

  async destroy(): Promise<void> {
    for (const node of [...this.agents.keys()]) await this.stopAgent(node, 'SIGKILL');
    try {
      await lifeboat(['lab', 'down', '--purge', '--dir', this.dir]);
    } finally {
      for (const pid of findProcesses((arg) => arg.startsWith(`--data-dir=${this.dir}/`))) await killProcess(pid);
      rmSync(this.dir, { recursive: true, force: true });
    }
  }

  /** No etcd process serves this member's data dir (faster and surer than asking it over HTTP). */
  memberProcessGone(name: string): boolean {
    return findProcesses((arg) => arg === `--data-dir=${join(this.dir, 'data', name)}`).length === 0;
  }

  workerDown(node: string): boolean {
    return existsSync(labWorkerDownPath(this.dir, node));
  }
}

/**
 * Probes every member's /version (and each lab worker's down marker) every 200 ms; records who is down. A member
 * that does not serve /version within 3 s counts as down (generous: a loaded machine is slow, not down).
 */
export class Monitor {
  samples: Array<{ t: number; members: string[]; workers: string[] }> = [];
  maxMembersDown = 0;
  maxWorkersDown = 0;
  private running = false;
  private loop: Promise<void> | undefined;

  constructor(private readonly lab: AgentLab) {}

  start(): void {
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        const started = Date.now();
        const up = await Promise.all(this.lab.members.map((m) => serves(m.clientUrl)));
        const members = this.lab.members.filter((_, i) => !up[i]).map((m) => m.name);
        const workers = this.lab.workers.filter((w) => this.lab.workerDown(w));
        this.samples.push({ t: started, members, workers });
        this.maxMembersDown = Math.max(this.maxMembersDown, members.length);
        this.maxWorkersDown = Math.max(this.maxWorkersDown, workers.length);
        await delay(Math.max(0, 200 - (Date.now() - started)));
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  /** Names seen down at least once. */
  seenDown(): Set<string> {
    return new Set(this.samples.flatMap((s) => [...s.members, ...s.workers]));
  }
}

async function serves(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/version`, { signal: AbortSignal.timeout(3000) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

/**
 * A client that writes every 10 ms with a 1 s budget per write, moving to the next endpoint when one fails or takes
 * over 400 ms (like an etcd client with an endpoint list). Availability = writes done within their second / writes.
 */
/**
 * The most failed writes that started within any one second. An outage (a member taken down while it leads, quorum
 * lost) fails every write of its window (the writer starts one every 10 ms); a machine so loaded that the writer and
 * etcd are starved fails a few scattered ones, which is not what the agent tests are about.
 */
export function worstSecond(failures: ReadonlyArray<{ t: number }>): number {
  const ts = failures.map((f) => f.t).sort((a, b) => a - b);
  let worst = 0;
  for (let i = 0, j = 0; i < ts.length; i++) {
    while (ts[i]! - ts[j]! >= 1000) j++;
    worst = Math.max(worst, i - j + 1);
  }
  return worst;
}

export class Writer {
  ok = 0;
  failed = 0;
  /** When each failed write started and the last error it saw. */
  readonly failures: Array<{ t: number; error: string }> = [];
  private readonly clients: EtcdEndpointClient[];
  private current = 0;
  private timer: NodeJS.Timeout | undefined;
  private seq = 0;
  private inflight = new Set<Promise<void>>();

  constructor(endpoints: string[]) {
    this.clients = endpoints.map((e) => new EtcdEndpointClient(e));
  }

  start(): void {
    this.timer = setInterval(() => {
      const p = this.writeOnce().finally(() => this.inflight.delete(p));
      this.inflight.add(p);
    }, 10);
  }

  /** Connected and writing before the measurement starts (a client like kube-apiserver already is). */
  async warmUp(): Promise<void> {
    await waitFor('the writer to be writing', () => this.ok >= 20, { timeoutMs: 30_000, intervalMs: 20 });
    this.ok = 0;
    this.failed = 0;
    this.failures.length = 0;
  }

  private async writeOnce(): Promise<void> {
    const started = Date.now();
    const deadline = started + 1000;
    const seq = this.seq++;
    let error = 'no time left';
    for (let attempt = 0; attempt < this.clients.length; attempt++) {
      const i = (this.current + attempt) % this.clients.length;
      const left = deadline - Date.now();
      if (left <= 0) break;
      try {
        // A member being stopped can hold a request until it exits: give each endpoint part of the second.
        await this.clients[i]!.put('/lifeboat-test/writer', String(seq), { deadlineMs: Math.min(left, 400) });
        this.current = i;
        this.ok++;
        return;
      } catch (err) {
        error = err instanceof Error ? err.message : String(err);
      }
    }
    this.failed++;
    this.failures.push({ t: started, error });
  }

  async stop(): Promise<number> {
    clearInterval(this.timer);
    await Promise.all([...this.inflight]);
    for (const c of this.clients) c.close();
    return this.availability();
  }

  availability(): number {
    return this.ok / Math.max(1, this.ok + this.failed);
  }
}

export function alive(pid: number | undefined): boolean {
  return pid !== undefined && isAlive(pid);
}
