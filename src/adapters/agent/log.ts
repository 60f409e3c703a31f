/**
 * The agent's log: one line per event, JSON lines with --json (ts, level, node, event, msg, fields), else
 * `TIME NODE event: msg`. systemd's journal takes either from stdout.
 */
export type Level = 'info' | 'warn' | 'error';

export interface AgentLog {
  log(level: Level, event: string, msg: string, fields?: Record<string, unknown>): void;
  info(event: string, msg: string, fields?: Record<string, unknown>): void;
  warn(event: string, msg: string, fields?: Record<string, unknown>): void;
  error(event: string, msg: string, fields?: Record<string, unknown>): void;
  /** Like log, but a line equal to the last one of the same key is repeated only every `repeatMs`. */
  changed(key: string, level: Level, event: string, msg: string, fields?: Record<string, unknown>): void;
  /** The next `changed` line (of this key, or of every key) is logged whatever it says: the situation ended. */
  forget(key?: string): void;
}

export function createAgentLog(opts: {
  node: string;
  json: boolean;
  write?: (line: string) => void;
  now?: () => number;
  repeatMs?: number;
}): AgentLog {
  const write = opts.write ?? ((line: string) => process.stdout.write(line));
  const now = opts.now ?? Date.now;
  const repeatMs = opts.repeatMs ?? 60_000;
  const last = new Map<string, { text: string; at: number }>();
  const log: AgentLog['log'] = (level, event, msg, fields = {}) => {
    const ts = new Date(now()).toISOString();
    if (opts.json) {
      write(`${JSON.stringify({ ts, level, node: opts.node, event, msg, ...fields })}\n`);
    } else {
      write(`${ts} ${opts.node} ${level === 'info' ? '' : `${level.toUpperCase()} `}${event}: ${msg}\n`);
    }
  };
  return {
    log,
    info: (e, m, f) => log('info', e, m, f),
    warn: (e, m, f) => log('warn', e, m, f),
    error: (e, m, f) => log('error', e, m, f),
    changed(key, level, event, msg, fields) {
      const prev = last.get(key);
      const t = now();
      if (prev && prev.text === msg && t - prev.at < repeatMs) return;
      last.set(key, { text: msg, at: t });
      log(level, event, msg, fields);
    },
    forget: (key) => (key === undefined ? last.clear() : void last.delete(key)),
  };
}
