import { z } from 'zod';

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

const wantReason = z.enum(['sentinel', 'sentinel-command', 'schedule', 'request']);

const requestSchema = z.looseObject({
  node: z.string(),
  by: z.string(),
  at: z.string(),
  reason: z.string().optional(),
});
export type RequestRecord = z.infer<typeof requestSchema>;

const pauseSchema = z.looseObject({ by: z.string(), at: z.string(), reason: z.string().optional() });
export type PauseRecord = z.infer<typeof pauseSchema>;

/**
 * One node's maintenance history, and its unfinished maintenance: `phase: 'rebooting'` is written just before the
 * node goes down, so the agent that starts after the boot knows to wait for catch-up and finish (even when the lock
 * expired meanwhile).
 */
const nodeSchema = z.looseObject({
  node: z.string(),
  phase: z.enum(['idle', 'rebooting']),
  reasons: z.array(wantReason).optional(),
  /** When the node went down (ISO), the lock it held and the boot it went down from. */
  downAt: z.string().optional(),
  slot: z.string().optional(),
  fencingToken: z.number().optional(),
  bootId: z.string().optional(),
  lastCompletedAt: z.string().optional(),
  lastReasons: z.array(wantReason).optional(),
  reboots: z.number().default(0),
});
export type NodeRecord = z.infer<typeof nodeSchema>;

const refusalSchema = z.looseObject({ code: z.string(), message: z.string() });

/** What each agent last saw and decided: `maintain status` shows it. */
const agentSchema = z.looseObject({
  node: z.string(),
  seenAt: z.string(),
  state: z.string(),
  dryRun: z.boolean().optional(),
  wants: z.array(wantReason),
  refusals: z.array(refusalSchema),
  counters: z.record(z.string(), z.number()).optional(),
});
export type AgentReport = z.infer<typeof agentSchema>;

function parseWith<T>(schema: z.ZodType<T>, text: string | undefined): T | undefined {
  if (text === undefined) return undefined;
  try {
    const result = schema.safeParse(JSON.parse(text));
    return result.success ? result.data : undefined;
  } catch {
    return undefined;
  }
}

export const parseRequest = (text: string | undefined) => parseWith(requestSchema, text);
export const parsePause = (text: string | undefined) => parseWith(pauseSchema, text);
export const parseNodeRecord = (text: string | undefined) => parseWith(nodeSchema, text);
export const parseAgentReport = (text: string | undefined) => parseWith(agentSchema, text);

export function idleRecord(node: string): NodeRecord {
  return { node, phase: 'idle', reboots: 0 };
}
