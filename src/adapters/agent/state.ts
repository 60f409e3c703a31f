import {
  type AgentReport,
  idleRecord,
  KEYS,
  type NodeRecord,
  type PauseRecord,
  parseAgentReport,
  parseNodeRecord,
  parsePause,
  parseRequest,
  type RequestRecord,
} from '../../domain/maintenance/records.js';
import type { EtcdKv } from '../lock/etcd-kv.js';

/** The part of etcd the records need: an in-memory map stands in for it in tests. */
export type RecordsKv = Pick<EtcdKv, 'get' | 'range' | 'put' | 'delete'>;

/** The maintenance records in etcd (requests, pause, per-node history, agent reports). Reads need quorum. */
export class MaintenanceRecords {
  constructor(private readonly kv: RecordsKv) {}

  async request(node: string): Promise<RequestRecord | undefined> {
    return parseRequest((await this.kv.get(KEYS.request(node)))?.value);
  }

  async requests(): Promise<RequestRecord[]> {
    const entries = await this.kv.range(KEYS.requestPrefix, { prefix: true });
    return entries.flatMap((e) => parseRequest(e.value) ?? []);
  }

  async putRequest(record: RequestRecord): Promise<void> {
    await this.kv.put(KEYS.request(record.node), JSON.stringify(record));
  }

  /** Deletes the request; with `madeBefore`, only one made before that instant (a newer request stays). */
  async deleteRequest(node: string, madeBefore?: number): Promise<boolean> {
    if (madeBefore !== undefined) {
      const current = await this.request(node);
      if (!current || Date.parse(current.at) > madeBefore) return false;
    }
    return (await this.kv.delete(KEYS.request(node))) > 0;
  }

  async pause(): Promise<PauseRecord | undefined> {
    return parsePause((await this.kv.get(KEYS.pause))?.value);
  }

  async putPause(record: PauseRecord): Promise<void> {
    await this.kv.put(KEYS.pause, JSON.stringify(record));
  }

  async deletePause(): Promise<boolean> {
    return (await this.kv.delete(KEYS.pause)) > 0;
  }

  async node(node: string): Promise<NodeRecord> {
    return parseNodeRecord((await this.kv.get(KEYS.node(node)))?.value) ?? idleRecord(node);
  }

  async nodes(): Promise<NodeRecord[]> {
    const entries = await this.kv.range(KEYS.nodePrefix, { prefix: true });
    return entries.flatMap((e) => parseNodeRecord(e.value) ?? []);
  }

  async putNode(record: NodeRecord): Promise<void> {
    await this.kv.put(KEYS.node(record.node), JSON.stringify(record));
  }

  async putReport(report: AgentReport): Promise<void> {
    await this.kv.put(KEYS.agent(report.node), JSON.stringify(report));
  }

  async reports(): Promise<AgentReport[]> {
    const entries = await this.kv.range(KEYS.agentPrefix, { prefix: true });
    return entries.flatMap((e) => parseAgentReport(e.value) ?? []);
  }
}
