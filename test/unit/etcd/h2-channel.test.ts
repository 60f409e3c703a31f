import http2 from 'node:http2';
import net from 'node:net';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { GrpcStatus } from '../../../src/adapters/etcd/grpc-status.js';
import { GrpcCallError, H2Channel, ReplyReader } from '../../../src/adapters/etcd/h2-channel.js';

/** A gRPC length-prefixed, uncompressed message. */
function frame(body: Buffer): Buffer {
  const out = Buffer.alloc(5 + body.length);
  out.writeUInt32BE(body.length, 1);
  body.copy(out, 5);
  return out;
}

describe('ReplyReader', () => {
  it('reassembles messages however the bytes are cut', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 300 }), { minLength: 1, maxLength: 6 }),
        fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 20 }),
        (bodies, cuts) => {
          const wire = Buffer.concat(bodies.map((b) => frame(Buffer.from(b))));
          const reader = new ReplyReader();
          let pos = 0;
          for (let i = 0; pos < wire.length; i++) {
            const n = cuts[i % cuts.length]!;
            reader.push(wire.subarray(pos, pos + n));
            pos += n;
          }
          expect(reader.atBoundary).toBe(true);
          expect(reader.messages.map((m) => Buffer.from(m).toString('hex'))).toEqual(
            bodies.map((b) => Buffer.from(b).toString('hex')),
          );
        },
      ),
    );
  });

  it('is not at a boundary inside a message, and refuses compressed ones', () => {
    const reader = new ReplyReader();
    reader.push(frame(Buffer.from('hello')).subarray(0, 7));
    expect(reader.atBoundary).toBe(false);
    expect(reader.messages).toEqual([]);
    expect(() => new ReplyReader().push(Buffer.from([1, 0, 0, 0, 1, 9]))).toThrow(/compressed/);
  });
});

/** A real HTTP/2 server on loopback, answering each path the way a test needs. */
async function server(handler: (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => void) {
  const srv = http2.createServer();
  srv.on('stream', handler);
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as net.AddressInfo;
  return { target: `127.0.0.1:${port}`, close: () => new Promise<void>((r) => srv.close(() => r())), srv };
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function failure(p: Promise<unknown>): Promise<GrpcCallError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GrpcCallError);
  return err as GrpcCallError;
}

describe('H2Channel', () => {
  it('sends one framed message with the deadline and metadata, and returns the reply', async () => {
    let seen: { headers: http2.IncomingHttpHeaders; body: Buffer } | undefined;
    const s = await server((stream, headers) => {
      const parts: Buffer[] = [];
      stream.on('data', (d: Buffer) => parts.push(d));
      stream.on('end', () => {
        seen = { headers, body: Buffer.concat(parts) };
        stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
        stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
        stream.end(frame(Buffer.from('pong')));
      });
    });
    cleanups.push(s.close);
    const ch = new H2Channel(s.target, false);
    cleanups.push(() => ch.close());
    const reply = await ch.call('/svc/M', Buffer.from('ping'), { token: 't0k' }, Date.now() + 2000);
    expect(reply.toString()).toBe('pong');
    expect(seen!.body.equals(frame(Buffer.from('ping')))).toBe(true);
    expect(seen!.headers[':path']).toBe('/svc/M');
    expect(seen!.headers.token).toBe('t0k');
    expect(seen!.headers['grpc-timeout']).toMatch(/^\d+m$/);
    expect(Number(String(seen!.headers['grpc-timeout']).slice(0, -1))).toBeLessThanOrEqual(2000);
  });

  it('reports a gRPC error status with its message, and a non-gRPC HTTP answer as such', async () => {
    const s = await server((stream, headers) => {
      if (headers[':path'] === '/404') {
        stream.respond({ ':status': 404 });
        stream.end();
        return;
      }
      // Trailers-only response, as etcd sends for an error before any message.
      stream.respond({
        ':status': 200,
        'content-type': 'application/grpc',
        'grpc-status': '9',
        'grpc-message': encodeURIComponent('etcdserver: mvcc: required revision has been compacted'),
      });
      stream.end();
    });
    cleanups.push(s.close);
    const ch = new H2Channel(s.target, false);
    cleanups.push(() => ch.close());
    const err = await failure(ch.call('/x', Buffer.alloc(0), {}, Date.now() + 2000));
    expect(err.code).toBe(GrpcStatus.FAILED_PRECONDITION);
    expect(err.details).toBe('etcdserver: mvcc: required revision has been compacted');
    const http = await failure(ch.call('/404', Buffer.alloc(0), {}, Date.now() + 2000));
    expect(http.details).toBe('Received HTTP status code 404');
  });

  it('a closed port fails at once with the socket error, in grpc-js words', async () => {
    const free = net.createServer();
    await new Promise<void>((r) => free.listen(0, '127.0.0.1', r));
    const { port } = free.address() as net.AddressInfo;
    await new Promise<void>((r) => free.close(() => r()));
    const ch = new H2Channel(`127.0.0.1:${port}`, false);
    cleanups.push(() => ch.close());
    const started = Date.now();
    const err = await failure(ch.call('/x', Buffer.alloc(0), {}, Date.now() + 5000));
    expect(err.code).toBe(GrpcStatus.UNAVAILABLE);
    expect(err.details).toMatch(/^No connection established\. Last error: .*ECONNREFUSED/);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('a silent peer costs the deadline, is then dropped, and the next call connects afresh', async () => {
    // Accepts TCP and never speaks HTTP/2: a frozen (SIGSTOPped) member looks like this.
    const sockets: net.Socket[] = [];
    const silent = net.createServer((sock) => sockets.push(sock));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    cleanups.push(async () => {
      for (const sock of sockets) sock.destroy();
      await new Promise<void>((r) => silent.close(() => r()));
    });
    const { port } = silent.address() as net.AddressInfo;
    const ch = new H2Channel(`127.0.0.1:${port}`, false);
    cleanups.push(() => ch.close());
    const started = Date.now();
    const err = await failure(ch.call('/x', Buffer.alloc(0), {}, Date.now() + 300));
    expect(err.code).toBe(GrpcStatus.DEADLINE_EXCEEDED);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(Date.now() - started).toBeLessThan(1500);
    // The PING goes unanswered, so the session is dropped; a new call opens a second TCP connection.
    const deadline = Date.now() + 5000;
    for (;;) {
      await failure(ch.call('/x', Buffer.alloc(0), {}, Date.now() + 200));
      if (sockets.length >= 2 || Date.now() > deadline) break;
    }
    expect(sockets.length).toBeGreaterThanOrEqual(2);
  });

  it('first-reply mode returns the first message of a stream and cancels the rest', async () => {
    let cancelled = false;
    const s = await server((stream) => {
      stream.on('close', () => {
        cancelled = stream.rstCode === http2.constants.NGHTTP2_CANCEL;
      });
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
      stream.write(frame(Buffer.from('one')));
      // ...and keeps the stream open, as LeaseKeepAlive does.
    });
    cleanups.push(s.close);
    const ch = new H2Channel(s.target, false);
    cleanups.push(() => ch.close());
    const reply = await ch.call('/Lease/KeepAlive', Buffer.from('id'), {}, Date.now() + 2000, 'first');
    expect(reply.toString()).toBe('one');
    const until = Date.now() + 2000;
    while (!cancelled && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    expect(cancelled).toBe(true);
  });

  it('after the server says GOAWAY (etcd stopping), the next call takes a new connection', async () => {
    const sessions = new Set<http2.Http2Session>();
    const s = await server((stream) => {
      sessions.add(stream.session!);
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => {
        stream.sendTrailers({ 'grpc-status': '0' });
        stream.session!.goaway(); // graceful: this answer completes, no new stream on this connection
      });
      stream.end(frame(Buffer.from('ok')));
    });
    cleanups.push(s.close);
    // Node's test server keeps a connection open after its own GOAWAY (etcd's gRPC server closes it): end them here.
    cleanups.push(() => {
      for (const session of sessions) session.destroy();
    });
    const ch = new H2Channel(s.target, false);
    cleanups.push(() => ch.close());
    expect((await ch.call('/a', Buffer.alloc(0), {}, Date.now() + 2000)).toString()).toBe('ok');
    const until = Date.now() + 2000;
    // The GOAWAY may still be in flight: either way the second call must succeed, on a second connection.
    await new Promise((r) => setTimeout(r, 20));
    expect((await ch.call('/b', Buffer.alloc(0), {}, until)).toString()).toBe('ok');
    expect(sessions.size).toBe(2);
  });

  it('a closed channel refuses calls', async () => {
    const ch = new H2Channel('127.0.0.1:1', false);
    ch.close();
    const err = await failure(ch.call('/x', Buffer.alloc(0), {}, Date.now() + 1000));
    expect(err.code).toBe(GrpcStatus.CANCELLED);
  });
});
