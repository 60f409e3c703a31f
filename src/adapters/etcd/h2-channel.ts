import http2 from 'node:http2';
import { isIP } from 'node:net';
import { GrpcStatus } from './grpc-status.js';

/**
 * gRPC calls to one etcd endpoint over one node:http2 session, without a gRPC library.
 *
 * Why: etcd's API is plain protobuf over HTTP/2, and every call Lifeboat makes is "send one message, read one (or the
 * first) message". Loading @grpc/grpc-js and @grpc/proto-loader and compiling the proto cost ~140 ms per process,
 * more than a whole `lifeboat status` needs otherwise. The message codec is wire.ts; this file is framing, deadlines
 * and errors. Errors carry grpc-js's shape (code + details, with grpc-js's wording for connection failures) so that
 * errors.ts reads them the same way.
 */

export interface TlsMaterial {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

/** A failed call: a gRPC status code and its message, as grpc-js reports them. */
export class GrpcCallError extends Error {
  constructor(
    readonly code: number,
    readonly details: string,
  ) {
    super(`${code} ${STATUS_NAMES[code] ?? 'UNKNOWN'}: ${details}`);
    this.name = 'GrpcCallError';
  }
}

const STATUS_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(GrpcStatus).map(([name, code]) => [code, name]),
);

/** What the call expects back: exactly one message (unary), or the first of a stream (then it cancels the rest). */
export type ReplyMode = 'unary' | 'first';

/** How long a call whose stream broke waits for its session to say why. */
const SESSION_VERDICT_MS = 100;
/** How long a silent session may take to answer a PING after a deadline before it is presumed dead. */
const PING_TIMEOUT_MS = 1000;

export class H2Channel {
  private session: http2.ClientHttp2Session | undefined;
  private active = 0;
  private closed = false;

  constructor(
    readonly target: string,
    private readonly secure: boolean,
    private readonly tls: TlsMaterial = {},
  ) {}

  /** Ends the connection; calls still running fail (UNAVAILABLE), later ones with CANCELLED. */
  close(): void {
    this.closed = true;
    this.session?.destroy();
    this.session = undefined;
  }

  call(path: string, body: Buffer, metadata: Record<string, string>, deadline: number, mode: ReplyMode = 'unary') {
    return new Promise<Buffer>((resolve, reject) => {
      if (this.closed) {
        reject(new GrpcCallError(GrpcStatus.CANCELLED, 'Channel has been shut down'));
        return;
      }
      const timeoutMs = Math.max(0, deadline - Date.now());
      const headers = {
        ':method': 'POST',
        ':path': path,
        'content-type': 'application/grpc',
        te: 'trailers',
        // The server gives up at the same moment we do (etcd's handler context carries the deadline).
        'grpc-timeout': `${Math.max(1, Math.ceil(timeoutMs))}m`,
        ...metadata,
      };
      let { session, state } = this.connect();
      let req: http2.ClientHttp2Stream;
      try {
        req = session.request(headers);
      } catch {
        // The session is going away (a GOAWAY arrived, etcd is stopping): this call takes a fresh connection.
        this.drop(session);
        ({ session, state } = this.connect());
        try {
          req = session.request(headers);
        } catch (err) {
          reject(new GrpcCallError(GrpcStatus.UNAVAILABLE, `No connection established. Last error: ${errorText(err)}`));
          return;
        }
      }
      this.hold(session);
      const reply = new ReplyReader();
      let status: http2.IncomingHttpHeaders | undefined;
      let done = false;
      const finish = (err: Error | undefined, value?: Buffer) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.release(session);
        if (!req.closed) req.close(http2.constants.NGHTTP2_CANCEL);
        if (err) reject(err);
        else resolve(value!);
      };
      const timer = setTimeout(() => {
        finish(new GrpcCallError(GrpcStatus.DEADLINE_EXCEEDED, 'Deadline exceeded'));
        this.checkAlive(session);
      }, timeoutMs);
      req.on('response', (headers) => {
        const code = Number(headers[':status']);
        if (code !== 200) {
          finish(new GrpcCallError(httpStatusToGrpc(code), `Received HTTP status code ${code}`));
        } else if (headers['grpc-status'] !== undefined) status = headers; // trailers-only: an immediate error
      });
      req.on('trailers', (trailers) => {
        status = trailers;
      });
      req.on('data', (data: Buffer) => {
        try {
          reply.push(data);
        } catch (err) {
          finish(new GrpcCallError(GrpcStatus.INTERNAL, (err as Error).message));
          return;
        }
        if (mode === 'first' && reply.messages.length > 0) finish(undefined, reply.messages[0]);
      });
      req.on('error', (err: Error & { cause?: unknown; code?: string }) => {
        // A stream hears of its connection's failure before the session's own 'error' event: either as the cause of a
        // cancel (ECONNREFUSED, TLS handshake) or as the socket error itself (a TLS alert after the handshake, such as
        // "certificate required"). Keep it for the report below; HTTP/2-level stream errors say nothing more.
        const cause = err.cause instanceof Error ? err.cause : err.code?.startsWith('ERR_HTTP2_') ? undefined : err;
        if (cause) state.error ??= cause;
      });
      req.on('close', () => {
        if (done) return;
        if (!status) {
          const report = () => finish(new GrpcCallError(GrpcStatus.UNAVAILABLE, connectionProblem(state, req.rstCode)));
          // A session that fails (a TLS alert after the handshake, a reset) closes its streams before it says why:
          // wait for its own error, briefly, so the report names the cause rather than "stream reset".
          if (state.error || state.closed) report();
          else {
            session.once('close', report);
            setTimeout(report, SESSION_VERDICT_MS).unref();
          }
          return;
        }
        const code = Number(status['grpc-status']);
        if (code !== GrpcStatus.OK) {
          finish(new GrpcCallError(code, grpcMessage(status['grpc-message'])));
          return;
        }
        if (!reply.atBoundary || reply.messages.length === 0 || (mode === 'unary' && reply.messages.length > 1)) {
          const why = reply.messages.length > 1 ? 'several messages' : 'no complete message';
          finish(new GrpcCallError(GrpcStatus.INTERNAL, `unary call answered with ${why}`));
          return;
        }
        finish(undefined, reply.messages[0]);
      });
      req.end(frame(body));
    });
  }

  private connect(): { session: http2.ClientHttp2Session; state: SessionState } {
    const existing = this.session;
    if (existing && !existing.closed && !existing.destroyed) return { session: existing, state: stateOf(existing) };
    const session = connectH2(this.target, this.secure, this.tls);
    const state: SessionState = { connected: false };
    states.set(session, state);
    // Connected means the server spoke HTTP/2 (its SETTINGS arrived), not merely that TCP or TLS came up: plain
    // http:// against a TLS port gets a TCP connection and nothing more.
    session.on('remoteSettings', () => {
      state.connected = true;
    });
    session.on('error', (err) => {
      state.error ??= err;
    });
    session.on('close', () => {
      state.closed = true;
      this.drop(session);
    });
    // A member that is stopping says so: running calls finish, new ones go to a new connection.
    session.on('goaway', () => this.drop(session));
    // A session with no call running must not keep the process alive (grpc-js channels behave the same way).
    session.unref();
    this.session = session;
    return { session, state };
  }

  /** Retire a session: no new calls on it; it closes once the calls it carries are done. */
  private drop(session: http2.ClientHttp2Session): void {
    if (this.session === session) this.session = undefined;
    if (!session.closed && !session.destroyed) session.close();
  }

  private hold(session: http2.ClientHttp2Session): void {
    if (this.active++ === 0) session.ref();
  }

  private release(session: http2.ClientHttp2Session): void {
    if (--this.active === 0 && !session.destroyed) session.unref();
  }

  /**
   * A call ran out of time. The member may just be slow (no quorum for a linearizable read), or the connection may
   * be dead without a FIN (frozen process, vanished host): a PING tells which. A dead session is dropped, so the
   * next call connects afresh instead of waiting on it again.
   */
  private checkAlive(session: http2.ClientHttp2Session): void {
    if (session.destroyed || session.closed) return;
    const timer = setTimeout(() => session.destroy(), PING_TIMEOUT_MS);
    timer.unref();
    try {
      session.ping((err) => {
        clearTimeout(timer);
        if (err) session.destroy();
      });
    } catch {
      clearTimeout(timer);
      session.destroy();
    }
  }
}

interface SessionState {
  connected: boolean;
  closed?: boolean;
  error?: Error;
}

const states = new WeakMap<http2.ClientHttp2Session, SessionState>();

function stateOf(session: http2.ClientHttp2Session): SessionState {
  return states.get(session) ?? { connected: true };
}

/** grpc-js's words for a call that ended without a status, so errors.ts reads both alike. */
function connectionProblem(state: SessionState, rstCode: number | undefined): string {
  const err = state.error as (Error & { syscall?: string; code?: string }) | undefined;
  if (state.connected) {
    if (err) return `Connection dropped: ${err.message}`;
    return rstCode ? `Stream reset by the server (HTTP/2 error code ${rstCode})` : 'Connection dropped';
  }
  // A socket error (refused, unreachable) or a TLS failure names itself; anything else means the peer took the
  // connection but never spoke HTTP/2, which grpc-js calls "Failed to connect".
  const named = err && (err.syscall !== undefined || /SSL|TLS|CERT|certificate/i.test(`${err.code} ${err.message}`));
  const why = named ? err.message : `Failed to connect (${err?.message ?? 'connection closed'})`;
  return `No connection established. Last error: ${why}`;
}

/** An HTTP/2 session to an etcd endpoint (`host:port`), with TLS when `secure`. Shared with the snapshot reader. */
export function connectH2(
  target: string,
  secure: boolean,
  tls: TlsMaterial,
  settings?: http2.Settings,
): http2.ClientHttp2Session {
  const host = target.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  return http2.connect(`${secure ? 'https' : 'http'}://${target}`, {
    ...(secure
      ? {
          ca: tls.ca,
          cert: tls.cert,
          key: tls.key,
          // SNI carries names only; an IP address is checked against the certificate's IP SANs without it.
          servername: isIP(host) ? '' : host,
        }
      : {}),
    ...(settings ? { settings } : {}),
  });
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The gRPC spec's mapping of HTTP statuses for responses that are not gRPC. */
function httpStatusToGrpc(code: number): number {
  if (code === 400) return GrpcStatus.INTERNAL;
  if (code === 401) return GrpcStatus.UNAUTHENTICATED;
  if (code === 403) return GrpcStatus.PERMISSION_DENIED;
  if (code === 404) return GrpcStatus.UNIMPLEMENTED;
  if (code === 429 || code === 502 || code === 503 || code === 504) return GrpcStatus.UNAVAILABLE;
  return GrpcStatus.UNKNOWN;
}

function grpcMessage(value: string | string[] | undefined): string {
  const text = Array.isArray(value) ? value.join(', ') : (value ?? '');
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** One uncompressed gRPC message: flag byte 0, 4-byte big-endian length, the protobuf bytes. */
export function frame(body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(5 + body.length);
  out[0] = 0;
  out.writeUInt32BE(body.length, 1);
  body.copy(out, 5);
  return out;
}

/** Reassembles length-prefixed gRPC messages from DATA chunks (a message is copied at most once, when complete). */
export class ReplyReader {
  readonly messages: Buffer[] = [];
  private parts: Buffer[] = [];
  private bytes = 0;
  /** Frame length (prefix included) of the message being read; 0 until its prefix has arrived. */
  private need = 0;

  get atBoundary(): boolean {
    return this.bytes === 0;
  }

  push(data: Buffer): void {
    this.parts.push(data);
    this.bytes += data.length;
    for (;;) {
      if (this.need === 0) {
        if (this.bytes < 5) return;
        const head = this.parts[0]!.length >= 5 ? this.parts[0]! : this.joined();
        if (head[0] !== 0) throw new Error('compressed gRPC messages are not supported');
        this.need = 5 + head.readUInt32BE(1);
      }
      if (this.bytes < this.need) return;
      const all = this.joined();
      this.messages.push(all.subarray(5, this.need));
      const rest = all.subarray(this.need);
      this.parts = rest.length > 0 ? [rest] : [];
      this.bytes = rest.length;
      this.need = 0;
    }
  }

  private joined(): Buffer {
    if (this.parts.length > 1) this.parts = [Buffer.concat(this.parts, this.bytes)];
    return this.parts[0]!;
  }
}
