import { type ChildProcess, spawn } from 'node:child_process';
import { lifeboatCommand } from '../../package-root.js';
import { waitFor } from '../proc/wait.js';

/**
 * The drill's change-log follower: `lifeboat backup etcd --follow` as its own process, the way a user runs it, so a
 * drill measures the real RPO (what is durable in the store when the cluster is lost).
 */
export class DrillFollower {
  private child: ChildProcess | undefined;
  private output = '';

  constructor(
    private readonly endpoints: string[],
    private readonly store: string,
  ) {}

  /** Starts it and waits until its first chain began (the follower takes its own snapshot first). */
  async start(timeoutMs = 120_000): Promise<void> {
    const self = lifeboatCommand();
    const args = ['--endpoints', this.endpoints.join(','), '--json', 'backup', 'etcd', '--follow', '--to', this.store];
    const child = spawn(self.command, [...self.args, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d: Buffer) => (this.output = (this.output + d.toString('utf8')).slice(-65536)));
    child.stderr!.on('data', (d: Buffer) => (this.output = (this.output + d.toString('utf8')).slice(-65536)));
    this.child = child;
    await waitFor(
      'the follower to start its chain',
      async () => {
        if (child.exitCode !== null) throw new Error(`the follower exited: ${this.output.trim().split('\n').at(-1)}`);
        return this.output.includes('"watch-resumed"');
      },
      { timeoutMs },
    );
  }

  /** Lines it printed (JSON events), for the report. */
  get events(): string {
    return this.output;
  }

  /** SIGKILL: whatever it had not made durable is lost, as when its host dies with the cluster. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
}
