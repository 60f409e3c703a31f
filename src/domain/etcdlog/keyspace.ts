import { createHash } from 'node:crypto';
import type { LogEvent, RevisionGroup } from './segment.js';

/**
 * An etcd keyspace at one revision, in memory: what the log says the cluster held. Used to know what a restore must
 * give (verify compares its digest with the restored etcd's) and, in tests, as the oracle of etcd's MVCC rules.
 */

export interface KeyState {
  key: Buffer;
  value: Buffer;
  createRevision: number;
  modRevision: number;
  version: number;
  lease: string;
}

/** A write as a client sends it (tests drive the model with these, as they drive etcd). */
export type Write = { type: 'put'; key: Buffer; value: Buffer; lease?: string } | { type: 'delete'; key: Buffer };

export class Keyspace {
  private readonly keys = new Map<string, KeyState>();

  constructor(public revision: number) {}

  static of(revision: number, states: KeyState[]): Keyspace {
    const k = new Keyspace(revision);
    for (const s of states) k.keys.set(s.key.toString('latin1'), { ...s });
    return k;
  }

  get size(): number {
    return this.keys.size;
  }

  get(key: Buffer): KeyState | undefined {
    return this.keys.get(key.toString('latin1'));
  }

  /**
   * etcd's rules for one transaction: a put of a live key keeps its create revision and bumps its version; of an
   * absent key starts at version 1 with create = mod = the new revision; a delete of an absent key is no event. No
   * event at all: no new revision. Returns the events, as etcd's watch would report them.
   */
  transact(writes: Write[]): RevisionGroup | undefined {
    const revision = this.revision + 1;
    const events: LogEvent[] = [];
    for (const w of writes) {
      const id = w.key.toString('latin1');
      const old = this.keys.get(id);
      if (w.type === 'delete') {
        if (!old) continue;
        this.keys.delete(id);
        events.push({ type: 'delete', key: w.key });
        continue;
      }
      const state: KeyState = {
        key: w.key,
        value: w.value,
        createRevision: old ? old.createRevision : revision,
        modRevision: revision,
        version: old ? old.version + 1 : 1,
        lease: w.lease ?? '0',
      };
      this.keys.set(id, state);
      events.push({
        type: 'put',
        key: w.key,
        value: w.value,
        createRevision: state.createRevision,
        version: state.version,
        lease: state.lease,
      });
    }
    if (events.length === 0) return undefined;
    this.revision = revision;
    return { revision, observedAt: 0, events };
  }

  /**
   * Applies a logged revision as recorded (create revision and version from the log). Returns one line when the
   * group cannot follow this keyspace: wrong revision, or a create revision/version etcd could not have written.
   */
  apply(group: RevisionGroup): string | undefined {
    if (group.revision !== this.revision + 1) {
      return `revision ${group.revision} cannot follow revision ${this.revision}`;
    }
    for (const e of group.events) {
      const id = e.key.toString('latin1');
      const old = this.keys.get(id);
      if (e.type === 'delete') {
        this.keys.delete(id);
        continue;
      }
      const create = old ? old.createRevision : group.revision;
      const version = old ? old.version + 1 : 1;
      if (e.createRevision !== create || e.version !== version) {
        return `revision ${group.revision}: key ${printable(e.key)} logged as create ${e.createRevision} version ${e.version}, expected ${create}/${version}`;
      }
      this.keys.set(id, {
        key: e.key,
        value: e.value,
        createRevision: e.createRevision,
        modRevision: group.revision,
        version: e.version,
        lease: e.lease,
      });
    }
    this.revision = group.revision;
    return undefined;
  }

  /** Every key, in etcd's order (bytewise). */
  entries(): KeyState[] {
    return [...this.keys.values()].sort((a, b) => Buffer.compare(a.key, b.key));
  }
}

/**
 * SHA-256 over every key's name, value, create/mod revision and version in bytewise key order: equal digests, equal
 * keyspaces. Leases are left out: a restore grants them anew (ADR 010), so their ids are kept but not their TTLs.
 */
export function keyspaceDigest(states: Iterable<KeyState>): string {
  const sorted = [...states].sort((a, b) => Buffer.compare(a.key, b.key));
  const h = createHash('sha256');
  const nums = Buffer.alloc(24);
  const len = Buffer.alloc(8);
  for (const s of sorted) {
    len.writeUInt32BE(s.key.length, 0);
    len.writeUInt32BE(s.value.length, 4);
    h.update(len).update(s.key).update(s.value);
    nums.writeDoubleBE(s.createRevision, 0);
    nums.writeDoubleBE(s.modRevision, 8);
    nums.writeDoubleBE(s.version, 16);
    h.update(nums);
  }
  return h.digest('hex');
}

export function printable(key: Buffer): string {
  const text = key.toString('utf8');
  return /^[\x20-\x7e]*$/.test(text) ? JSON.stringify(text) : `0x${key.toString('hex')}`;
}
