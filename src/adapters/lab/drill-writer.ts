import { appendFileSync, writeFileSync } from 'node:fs';
import { type Ack, drillKey } from '../../domain/recover/drill.js';
import { EtcdConnection } from '../etcd/connection.js';
import { delay } from '../proc/wait.js';

/**
 * The drill's writer: one put at a time through one member, for as long as the drill runs. Every acknowledged write
 * goes to its log (JSON lines: seq, key, revision, cluster id) before the next is tried, so the log, not the tool's
 * report, is the record of what a client was told was saved. Failed puts are counted, never logged as acknowledged.
 */
export class DrillWriter {
  readonly acks: Array<Ack & { at: number }> = [];
  failures = 0;
  /** Periods when puts failed: from the start of the first failed put to the next acknowledgement. */
  readonly outages: Array<{ from: number; to: number | null }> = [];
  private conn: EtcdConnection;
  private running = false;
  private loop: Promise<void> | undefined;
  private seq = 0;

  constructor(
    readonly endpoint: string,
    readonly logFile: string,
  ) {
    this.conn = new EtcdConnection(endpoint, {});
    writeFileSync(logFile, `${JSON.stringify({ event: 'start', endpoint, at: new Date().toISOString() })}\n`);
  }

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  /** A line in the log marking a moment of the drill (the failure, the end). */
  mark(event: string): void {
    appendFileSync(this.logFile, `${JSON.stringify({ event, at: new Date().toISOString() })}\n`);
  }

  /** Resolves once `count` more writes than now have been acknowledged (or rejects at the deadline). */
  async waitForAcks(count: number, timeoutMs: number): Promise<void> {
    const target = this.acks.length + count;
    const deadline = Date.now() + timeoutMs;
    while (this.acks.length < target) {
      if (Date.now() > deadline) {
        throw new Error(`the drill writer got ${this.acks.length} acks, wanted ${target} within ${timeoutMs} ms`);
      }
      await delay(20);
    }
  }

  /** Milliseconds puts were refused after `t` (epoch ms), outages still open counted up to now. */
  outageMsSince(t: number): number {
    return this.outages
      .filter((o) => (o.to ?? Date.now()) > t)
      .reduce((sum, o) => sum + (o.to ?? Date.now()) - Math.max(o.from, t), 0);
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    this.conn.close();
  }

  private async run(): Promise<void> {
    while (this.running) {
      const seq = ++this.seq;
      const key = drillKey(seq);
      const tried = Date.now();
      try {
        const res = await this.conn.unary<{ header: { revision: string; cluster_id: string } }>(
          'KV',
          'Put',
          { key: Buffer.from(key), value: Buffer.from(String(seq)) },
          1000,
        );
        const ack = { seq, key, revision: Number(res.header.revision), clusterId: String(res.header.cluster_id) };
        appendFileSync(this.logFile, `${JSON.stringify(ack)}\n`);
        this.acks.push({ ...ack, at: Date.now() });
        const open = this.outages.at(-1);
        if (open && open.to === null) open.to = Date.now();
      } catch {
        this.failures++;
        if (this.outages.at(-1)?.to !== null) this.outages.push({ from: tried, to: null });
        await delay(50);
      }
    }
  }
}

/** Acknowledged writes from a writer log (ack lines only; event lines skipped). */
export function readAcks(text: string): Ack[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('{"seq"'))
    .map((line) => JSON.parse(line) as Ack);
}
