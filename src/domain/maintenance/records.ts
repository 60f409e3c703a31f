import * as v from 'valibot';
import { parseJson } from '../validation.js';

/**
 * What the agents and `lifeboat maintain` keep in etcd under /lifeboat/maintenance/, as JSON. Fields are added freely
 * and never renamed; unknown fields survive (loose objects), and a record that does not parse reads as absent
 * rather than crashing an agent.
 */

export const MAINTENANCE_PREFIX = '/lifeboat/maintenance/';
export const KEYS = {
  lockPrefix: `${MAINTENANCE_PREFIX}lock/`,
  lock: (slot: string) => `${MAINTENANCE_PREFIX}lock/${slot}`,
  pause: `${MAINTENANCE_PREFIX}pause`,
  requestPrefix: `${MAINTENANCE_PREFIX}requests/`,
  request: (node: string) => `${MAINTENANCE_PREFIX}requests/${node}`,
  nodePrefix: `${MAINTENANCE_PREFIX}nodes/`,
  node: (node: string) => `${MAINTENANCE_PREFIX}nodes/${node}`,
  agentPrefix: `${MAINTENANCE_PREFIX}agents/`,
  agent: (node: string) => `${MAINTENANCE_PREFIX}agents/${node}`,
};

const wantReason = v.picklist(['sentinel', 'sentinel-command', 'schedule', 'request']);

const requestSchema = v.looseObject({
  node: v.string(),
  by: v.string(),
  at: v.string(),
  reason: v.optional(v.string()),
});
export type RequestRecord = v.InferOutput<typeof requestSchema>;

const pauseSchema = v.looseObject({ by: v.string(), at: v.string(), reason: v.optional(v.string()) });
export type PauseRecord = v.InferOutput<typeof pauseSchema>;

/**
 * One node's maintenance history, and its unfinished maintenance: `phase: 'rebooting'` is written just before the
 * node goes down, so the agent that starts after the boot knows to wait for catch-up and finish (even when the lock
 * expired meanwhile).
 */
const nodeSchema = v.looseObject({
  node: v.string(),
  phase: v.picklist(['idle', 'rebooting']),
  reasons: v.optional(v.array(wantReason)),
  /** When the node went down (ISO), the lock it held and the boot it went down from. */
  downAt: v.optional(v.string()),
  slot: v.optional(v.string()),
  fencingToken: v.optional(v.number()),
  bootId: v.optional(v.string()),
  lastCompletedAt: v.optional(v.string()),
  lastReasons: v.optional(v.array(wantReason)),
  reboots: v.optional(v.number(), 0),
});
export type NodeRecord = v.InferOutput<typeof nodeSchema>;

const refusalSchema = v.looseObject({ code: v.string(), message: v.string() });

/** What each agent last saw and decided: `maintain status` shows it. */
const agentSchema = v.looseObject({
  node: v.string(),
  seenAt: v.string(),
  state: v.string(),
  dryRun: v.optional(v.boolean()),
  wants: v.array(wantReason),
  refusals: v.array(refusalSchema),
  counters: v.optional(v.record(v.string(), v.number())),
  /** How often the agent looks (and so reports): `maintain status` calls it stale past a few of these. */
  pollMs: v.optional(v.number()),
});
export type AgentReport = v.InferOutput<typeof agentSchema>;

function parseWith<S extends v.GenericSchema>(schema: S, text: string | undefined): v.InferOutput<S> | undefined {
  if (text === undefined) return undefined;
  const parsed = parseJson(schema, text);
  return 'value' in parsed ? parsed.value : undefined;
}

export const parseRequest = (text: string | undefined) => parseWith(requestSchema, text);
export const parsePause = (text: string | undefined) => parseWith(pauseSchema, text);
export const parseNodeRecord = (text: string | undefined) => parseWith(nodeSchema, text);
export const parseAgentReport = (text: string | undefined) => parseWith(agentSchema, text);

export function idleRecord(node: string): NodeRecord {
  return { node, phase: 'idle', reboots: 0 };
}
