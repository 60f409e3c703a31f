import { setTimeout as sleep } from 'node:timers/promises';
import type { Alert, WebhookFormat } from '../domain/alerts.js';
import { errorMessage } from '../errors.js';

/**
 * Webhook delivery. Each webhook has its own queue, delivered in order (a "resolved" never overtakes its "firing"),
 * each message retried a few times with backoff; a webhook that stays down loses messages rather than piling them
 * up (the page and /metrics still show the truth).
 */

export interface Webhook {
  url: string;
  format: WebhookFormat;
}

export interface AlertContext {
  cluster: string;
  /** Where the status page is, for links; undefined when serve listens on loopback only. */
  pageUrl?: string;
}

export function webhookBody(alert: Alert, format: WebhookFormat, ctx: AlertContext): unknown {
  const mark = alert.status === 'resolved' ? 'RESOLVED' : alert.severity === 'critical' ? 'CRITICAL' : 'WARNING';
  const head = `[${ctx.cluster}] ${mark}: ${alert.title}`;
  const link = ctx.pageUrl ? `\n${ctx.pageUrl}` : '';
  if (format === 'slack') return { text: `*${head}*\n${alert.detail}${link}` };
  if (format === 'discord') return { content: `**${head}**\n${alert.detail}${link}`.slice(0, 2000) };
  return {
    source: 'lifeboat',
    cluster: ctx.cluster,
    status: alert.status,
    key: alert.key,
    level: alert.level,
    severity: alert.severity,
    title: alert.title,
    detail: alert.detail,
    at: new Date(alert.at).toISOString(),
    ...(alert.since !== undefined ? { since: new Date(alert.since).toISOString() } : {}),
    ...(ctx.pageUrl ? { url: ctx.pageUrl } : {}),
  };
}

export interface Delivery {
  url: string;
  alert: Alert;
  ok: boolean;
  attempts: number;
  error?: string;
}

export class Notifier {
  private readonly queues = new Map<string, Promise<void>>();
  private readonly controller = new AbortController();
  private pending = 0;

  constructor(
    private readonly onDelivery: (d: Delivery) => void,
    private readonly opts: { attempts?: number; backoffMs?: number; timeoutMs?: number } = {},
  ) {}

  send(webhooks: Webhook[], alerts: Alert[], ctx: AlertContext): void {
    for (const hook of webhooks) {
      for (const alert of alerts) {
        const body = JSON.stringify(webhookBody(alert, hook.format, ctx));
        const previous = this.queues.get(hook.url) ?? Promise.resolve();
        this.pending++;
        const next = previous
          .then(() => this.deliver(hook.url, body))
          .then((r) => this.onDelivery({ url: hook.url, alert, ...r }))
          .finally(() => this.pending--);
        this.queues.set(hook.url, next);
      }
    }
  }

  private async deliver(url: string, body: string): Promise<{ ok: boolean; attempts: number; error?: string }> {
    const attempts = this.opts.attempts ?? 4;
    let error = '';
    for (let i = 1; i <= attempts; i++) {
      if (this.controller.signal.aborted) return { ok: false, attempts: i - 1, error: 'serve stopped' };
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'user-agent': 'lifeboat-serve' },
          body,
          signal: AbortSignal.any([this.controller.signal, AbortSignal.timeout(this.opts.timeoutMs ?? 10_000)]),
        });
        await res.arrayBuffer().catch(() => undefined);
        if (res.ok) return { ok: true, attempts: i };
        error = `HTTP ${res.status}`;
        if (res.status >= 400 && res.status < 500 && res.status !== 429) return { ok: false, attempts: i, error };
      } catch (err) {
        error = errorMessage(err);
      }
      if (i < attempts) {
        await sleep((this.opts.backoffMs ?? 1000) * 2 ** (i - 1), undefined, { signal: this.controller.signal }).catch(
          () => undefined,
        );
      }
    }
    return { ok: false, attempts, error };
  }

  /** Waits (up to `graceMs`) for queued messages, then gives up on the rest. */
  async stop(graceMs = 3000): Promise<void> {
    const all = Promise.allSettled([...this.queues.values()]);
    if (this.pending > 0) {
      const timer = new AbortController();
      await Promise.race([all, sleep(graceMs, undefined, { signal: timer.signal }).catch(() => undefined)]);
      timer.abort();
    }
    this.controller.abort();
    await all;
  }
}
