import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A webhook receiver on a free loopback port: records every POST (path, parsed JSON body, arrival time). */
export interface Received {
  path: string;
  body: Record<string, unknown>;
  at: number;
}

export interface WebhookReceiver {
  url: string;
  received: Received[];
  /** Resolves with the messages once `predicate` holds for them; rejects after `timeoutMs`. */
  waitFor(predicate: (all: Received[]) => boolean, timeoutMs: number, what?: string): Promise<Received[]>;
  close(): Promise<void>;
}

export async function startWebhookReceiver(opts: { status?: () => number } = {}): Promise<WebhookReceiver> {
  const received: Received[] = [];
  const waiters = new Set<() => void>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(text) as Record<string, unknown>;
      } catch {
        body = { unparsed: text };
      }
      const status = opts.status?.() ?? 204;
      if (status < 300) received.push({ path: req.url ?? '/', body, at: Date.now() });
      res.writeHead(status).end();
      for (const w of waiters) w();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    waitFor(predicate, timeoutMs, what = 'webhook messages') {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!predicate(received)) return;
          cleanup();
          resolve(received);
        };
        const timer = setTimeout(() => {
          cleanup();
          const got = received.map((r) => `${r.path} ${JSON.stringify(r.body)}`).join('\n');
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; received:\n${got}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
