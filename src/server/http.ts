import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { errorMessage } from '../errors.js';
import { PAGE_ASSETS } from '../render/page/index.js';

/**
 * The HTTP face of serve: the status page and its two assets, /api/status, /metrics, /healthz. Nothing else; no
 * external resources (the page works offline and on a phone), and a Content-Security-Policy that allows only this
 * origin's own script and style.
 */

export interface Routes {
  status(): unknown;
  metrics(): Promise<{ contentType: string; body: string }>;
  health(): { ok: boolean; [key: string]: unknown };
}

const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

export async function startHttp(host: string, port: number, routes: Routes): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    handle(req, res, routes).catch((err) =>
      send(res, 500, 'text/plain; charset=utf-8', `error: ${errorMessage(err)}\n`),
    );
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return { server, url: `http://${shownHost}:${address.port}` };
}

async function handle(req: IncomingMessage, res: ServerResponse, routes: Routes): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    return send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
  }
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  const asset = PAGE_ASSETS[path];
  if (asset)
    return send(res, 200, asset.contentType, asset.body, { 'cache-control': 'no-cache', etag: asset.etag }, req);
  switch (path) {
    case '/api/status':
      return send(res, 200, 'application/json; charset=utf-8', JSON.stringify(routes.status()), {
        'cache-control': 'no-store',
      });
    case '/metrics': {
      const m = await routes.metrics();
      return send(res, 200, m.contentType, m.body, { 'cache-control': 'no-store' });
    }
    case '/healthz': {
      const h = routes.health();
      return send(res, h.ok ? 200 : 503, 'application/json; charset=utf-8', `${JSON.stringify(h)}\n`, {
        'cache-control': 'no-store',
      });
    }
    default:
      return send(res, 404, 'text/plain; charset=utf-8', 'not found: try /, /api/status, /metrics, /healthz\n');
  }
}

function send(
  res: ServerResponse,
  status: number,
  contentType: string,
  body: string,
  headers: Record<string, string> = {},
  req?: IncomingMessage,
): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  if (req && headers.etag && req.headers['if-none-match'] === headers.etag) {
    res.writeHead(304, { ...SECURITY_HEADERS, ...headers });
    res.end();
    return;
  }
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'content-type': contentType,
    'content-length': Buffer.byteLength(body),
    ...headers,
  });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
