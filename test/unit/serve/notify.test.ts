import { afterAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../../src/domain/alerts.js';
import { type Delivery, Notifier, webhookBody } from '../../../src/server/notify.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../helpers/webhook.js';

const alert = (status: Alert['status'], level: string): Alert => ({
  key: 'etcd-quorum',
  status,
  level,
  severity: level === 'quorum-lost' ? 'critical' : 'warning',
  title: status === 'resolved' ? 'etcd quorum margin restored' : `etcd ${level}`,
  detail: 'detail',
  at: Date.parse('2026-01-05T03:00:00Z'),
});

describe('webhookBody', () => {
  const ctx = { cluster: 'home' };
  it('generic is the alert as JSON; slack and discord are one message in their fields', () => {
    expect(webhookBody(alert('firing', 'quorum-lost'), 'generic', ctx)).toEqual({
      source: 'lifeboat',
      cluster: 'home',
      status: 'firing',
      key: 'etcd-quorum',
      level: 'quorum-lost',
      severity: 'critical',
      title: 'etcd quorum-lost',
      detail: 'detail',
      at: '2026-01-05T03:00:00.000Z',
    });
    expect(webhookBody(alert('firing', 'quorum-lost'), 'slack', ctx)).toEqual({
      text: '*[home] CRITICAL: etcd quorum-lost*\ndetail',
    });
    expect(webhookBody(alert('resolved', 'zero-margin'), 'discord', ctx)).toEqual({
      content: '**[home] RESOLVED: etcd quorum margin restored**\ndetail',
    });
  });
});

describe('Notifier', () => {
  let hook: WebhookReceiver;
  afterAll(() => hook?.close());

  it('retries a failing webhook with backoff and keeps the order of messages', async () => {
    let calls = 0;
    hook = await startWebhookReceiver({ status: () => (++calls <= 2 ? 500 : 204) });
    const deliveries: Delivery[] = [];
    const notifier = new Notifier((d) => deliveries.push(d), { backoffMs: 10 });
    const webhooks = [{ url: `${hook.url}/x`, format: 'generic' as const }];
    notifier.send(webhooks, [alert('firing', 'zero-margin')], { cluster: 'home' });
    notifier.send(webhooks, [alert('resolved', 'zero-margin')], { cluster: 'home' });
    await hook.waitFor((all) => all.length === 2, 5000);
    await notifier.stop();
    expect(hook.received.map((r) => r.body.status)).toEqual(['firing', 'resolved']);
    expect(deliveries.map((d) => [d.ok, d.attempts])).toEqual([
      [true, 3],
      [true, 1],
    ]);
  });

  it('gives up on a client error at once, and on a dead webhook after its attempts', async () => {
    const deliveries: Delivery[] = [];
    const notifier = new Notifier((d) => deliveries.push(d), { backoffMs: 1, attempts: 2 });
    const gone = await startWebhookReceiver({ status: () => 404 });
    notifier.send([{ url: `${gone.url}/x`, format: 'slack' }], [alert('firing', 'zero-margin')], { cluster: 'h' });
    notifier.send([{ url: 'http://127.0.0.1:9/', format: 'generic' }], [alert('firing', 'zero-margin')], {
      cluster: 'h',
    });
    await notifier.stop(5000);
    await gone.close();
    expect(deliveries.map((d) => [d.ok, d.attempts, d.error])).toEqual(
      expect.arrayContaining([
        [false, 1, 'HTTP 404'],
        [false, 2, expect.any(String)],
      ]),
    );
  });
});
