/**
 * What happened recently, newest last: member up/down, leader changes, backup and drill runs, alerts sent, config
 * reloads. Kept in memory (a bounded ring) for the page and written as one line each to the log.
 */
export type EventLevel = 'info' | 'warning' | 'error';

export interface ServeEvent {
  /** ISO-8601. */
  at: string;
  level: EventLevel;
  /** etcd | backup | verify | prune | check | alert | config | serve */
  topic: string;
  message: string;
}

export class EventLog {
  private readonly items: ServeEvent[] = [];

  constructor(
    private readonly now: () => number,
    private readonly sink: (event: ServeEvent) => void = () => {},
    private readonly limit = 200,
  ) {}

  add(level: EventLevel, topic: string, message: string): ServeEvent {
    const event = { at: new Date(this.now()).toISOString(), level, topic, message };
    this.items.push(event);
    if (this.items.length > this.limit) this.items.splice(0, this.items.length - this.limit);
    this.sink(event);
    return event;
  }

  /** Newest first. */
  recent(count = 50): ServeEvent[] {
    return this.items.slice(-count).reverse();
  }
}
