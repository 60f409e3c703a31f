import http2 from 'node:http2';
import { type EtcdConnectionOptions, parseEndpoint, tlsMaterial } from './connection.js';
import { connectH2 } from './h2-channel.js';

/**
 * A long gRPC call on an HTTP/2 session of its own: the snapshot (snapshot-stream.ts) and the watch
 * (watch-stream.ts). A long stream never shares a connection with, or is cut by, short calls. This holds what both
 * readers need besides their own decoding: the session's error, the call's trailers (also a trailers-only error
 * response), an idle deadline that cancels the call, and the teardown.
 */

export interface RawStreamOptions {
  path: string;
  /** The call is cancelled when no data arrives for this long (`idle` is then true). */
  idleMs: number;
  /** Auth token (from Authenticate) when the cluster has auth enabled. */
  token?: string;
  /** More request metadata (`hasleader`). */
  headers?: http2.OutgoingHttpHeaders;
  /** HTTP/2 settings of the session (flow-control window per stream). */
  settings?: http2.Settings;
  /** The connection's flow-control window, set once connected. */
  sessionWindow?: number;
}

export class RawStream {
  readonly session: http2.ClientHttp2Session;
  readonly req: http2.ClientHttp2Stream;
  sessionError: Error | undefined;
  responseHeaders: http2.IncomingHttpHeaders | undefined;
  trailers: http2.IncomingHttpHeaders | undefined;
  /** The idle deadline passed and cancelled the call. */
  idle = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    endpoint: string,
    conn: EtcdConnectionOptions,
    private readonly opts: RawStreamOptions,
  ) {
    const { target, secure } = parseEndpoint(endpoint, conn);
    const session = connectH2(target, secure, secure ? tlsMaterial(conn) : {}, opts.settings);
    this.session = session;
    const window = opts.sessionWindow;
    if (window !== undefined) session.on('connect', () => session.setLocalWindowSize(window));
    session.on('error', (err) => {
      this.sessionError = err;
    });
    this.req = session.request({
      ':method': 'POST',
      ':path': opts.path,
      'content-type': 'application/grpc',
      te: 'trailers',
      ...opts.headers,
      ...(opts.token ? { token: opts.token } : {}),
    });
    this.req.on('response', (h) => {
      this.responseHeaders = h;
      if (h['grpc-status'] !== undefined) this.trailers = h; // trailers-only response: an immediate error
    });
    this.req.on('trailers', (t) => {
      this.trailers = t;
    });
  }

  /** (Re)starts the idle deadline: at the start and on every piece of data. */
  arm(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.idle = true;
      this.cancel();
    }, this.opts.idleMs);
  }

  cancel(): void {
    if (!this.req.closed) this.req.close(http2.constants.NGHTTP2_CANCEL);
  }

  /** The call's gRPC status; undefined when it broke off without one. */
  get status(): string | undefined {
    const status = this.trailers?.['grpc-status'];
    return status === undefined ? undefined : String(status);
  }

  /** The call's gRPC message (percent-decoded), else `fallback`. */
  message(fallback: string): string {
    const text = this.trailers?.['grpc-message'];
    if (text === undefined) return fallback;
    try {
      return decodeURIComponent(String(text));
    } catch {
      return String(text);
    }
  }

  /** Ends the call and the session (always, in a finally). */
  close(): void {
    clearTimeout(this.timer);
    this.cancel();
    this.session.close();
    this.session.destroy();
  }
}
