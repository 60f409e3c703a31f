import { readFileSync } from 'node:fs';
import { UserError } from '../../errors.js';
import { EtcdError, toEtcdError } from './errors.js';
import { type MethodDescriptor, services } from './generated/etcd-descriptors.js';
import { GrpcStatus } from './grpc-status.js';
import { GrpcCallError, H2Channel, type ReplyMode, type TlsMaterial } from './h2-channel.js';
import { decodeMessage, encodeMessage } from './wire.js';

export interface EtcdConnectionOptions {
  /** File paths (PEM), like etcdctl --cacert/--cert/--key. */
  tls?: { ca?: string; cert?: string; key?: string };
  user?: string;
  password?: string;
}

export type ServiceName = 'KV' | 'Lease' | 'Cluster' | 'Maintenance' | 'Auth';

function readPem(path: string, what: string, flag: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : String(code ?? err);
    throw new UserError(`cannot read TLS ${what} file ${path}: ${why}`, `check ${flag}`);
  }
}

/** `https://host:port` -> { target: 'host:port', secure: true }. No scheme: TLS when TLS files are given (etcdctl). */
export function parseEndpoint(endpoint: string, opts: EtcdConnectionOptions): { target: string; secure: boolean } {
  const m = /^([a-z][a-z0-9+.-]*):\/\/([^/]+)\/?$/i.exec(endpoint.trim());
  if (!m) {
    if (/^[^/:]+:\d+$/.test(endpoint.trim()) || /^\[[0-9a-f:]+\]:\d+$/i.test(endpoint.trim())) {
      return { target: endpoint.trim(), secure: Boolean(opts.tls?.ca || opts.tls?.cert) };
    }
    throw new UserError(`invalid etcd endpoint "${endpoint}"`, 'use http(s)://host:port');
  }
  const scheme = m[1]!.toLowerCase();
  if (scheme !== 'http' && scheme !== 'https') {
    throw new UserError(`unsupported etcd endpoint scheme in "${endpoint}"`, 'use http:// or https://');
  }
  return { target: m[2]!, secure: scheme === 'https' };
}

/** The PEM files of an https endpoint, read once per connection. */
export function tlsMaterial(opts: EtcdConnectionOptions): TlsMaterial {
  const tls = opts.tls ?? {};
  if (Boolean(tls.cert) !== Boolean(tls.key)) {
    throw new UserError('TLS client certificate and key go together', 'give both --cert and --key, or neither');
  }
  return {
    ca: tls.ca ? readPem(tls.ca, 'CA', '--cacert') : undefined,
    cert: tls.cert ? readPem(tls.cert, 'certificate', '--cert') : undefined,
    key: tls.key ? readPem(tls.key, 'key', '--key') : undefined,
  };
}

/**
 * Reads the TLS files now and throws UserError naming the first unreadable one. Commands call this before probing:
 * a typo in --cacert is bad input (exit 2), not an unreachable cluster.
 */
export function validateConnectionOptions(opts: EtcdConnectionOptions): void {
  tlsMaterial(opts);
}

/**
 * One HTTP/2 connection to one etcd endpoint, shared by every call, plus the auth token.
 * Exposes raw calls (proto-shaped objects, see proto.ts); EtcdEndpointClient turns them into domain values.
 * Fail fast, never hide a dead member: no retries (a retry could land nowhere else anyway, but would eat the
 * deadline), no proxy (an http(s)_proxy would answer for a dead member and hide which one is down).
 */
export class EtcdConnection {
  readonly target: string;
  private readonly channel: H2Channel;
  private token: Promise<string> | undefined;

  constructor(
    readonly endpoint: string,
    private readonly opts: EtcdConnectionOptions,
  ) {
    const { target, secure } = parseEndpoint(endpoint, opts);
    this.target = target;
    this.channel = new H2Channel(target, secure, secure ? tlsMaterial(opts) : {});
  }

  /** Ends the connection and any call still running. */
  close(): void {
    this.channel.close();
  }

  /** A unary call with a deadline; auth token attached; one re-authentication on "invalid auth token". */
  unary<T>(service: ServiceName, method: string, request: unknown, deadlineMs: number): Promise<T> {
    return this.call<T>(service, method, request, deadlineMs, 'unary');
  }

  /** A streaming call reduced to one request and its first reply (LeaseKeepAlive once); the stream is then cancelled. */
  firstReply<T>(service: ServiceName, method: string, request: unknown, deadlineMs: number): Promise<T> {
    return this.call<T>(service, method, request, deadlineMs, 'first');
  }

  private async call<T>(
    service: ServiceName,
    method: string,
    request: unknown,
    deadlineMs: number,
    mode: ReplyMode,
  ): Promise<T> {
    const deadline = Date.now() + deadlineMs;
    for (let attempt = 0; ; attempt++) {
      const { token, authError } = await this.authToken(deadline, deadlineMs);
      try {
        return await this.rawCall<T>(service, method, request, token, deadline, mode);
      } catch (err) {
        const mapped = toEtcdError(this.endpoint, err, deadlineMs);
        // We went without a token because Authenticate failed: the auth failure is the real story.
        if (authError && mapped.kind === 'auth') throw authError;
        if (attempt > 0 || !this.hasCredentials() || !mapped.problem.includes('invalid auth token')) throw mapped;
        this.token = undefined; // the server forgot our token (restart, token TTL): get a new one, once
      }
    }
  }

  /**
   * The auth token for a call. Authenticate goes through raft, so without quorum it cannot succeed; then we go on
   * WITHOUT a token, because Status and MemberList still answer and are exactly what a recovery needs.
   * A wrong password is different: that is thrown at once.
   */
  async authToken(deadline: number, deadlineMs: number): Promise<{ token?: string; authError?: EtcdError }> {
    if (!this.hasCredentials()) return {};
    // Half the budget at most: if Authenticate hangs for lack of quorum, the tokenless call still gets its turn.
    const authMs = Math.max(1, Math.min(deadline - Date.now(), Math.ceil(deadlineMs / 2)));
    try {
      return { token: await this.authenticate(Date.now() + authMs, authMs) };
    } catch (err) {
      const authError = toEtcdError(this.endpoint, err, deadlineMs);
      if (authError.kind === 'auth') throw authError;
      return { authError };
    }
  }

  private hasCredentials(): boolean {
    return this.opts.user !== undefined && this.opts.user !== '';
  }

  /** One Authenticate per connection, shared by concurrent callers; forgotten on failure so a later call retries. */
  private authenticate(deadline: number, deadlineMs: number): Promise<string> {
    if (!this.token) {
      const request = { name: this.opts.user, password: this.opts.password ?? '' };
      const pending: Promise<string> = this.rawCall<{ token: string }>(
        'Auth',
        'Authenticate',
        request,
        undefined,
        deadline,
        'unary',
      )
        .then((res) => res.token)
        .catch((err: unknown) => {
          if (this.token === pending) this.token = undefined;
          const mapped = toEtcdError(this.endpoint, err, deadlineMs);
          if (mapped.kind === 'auth') {
            throw new EtcdError(this.endpoint, 'auth', `${mapped.problem} (check --user/--password)`, mapped.detail);
          }
          // Authenticate goes through raft: without quorum it times out. Say so, the raw text would mislead.
          throw new EtcdError(this.endpoint, mapped.kind, `authentication failed: ${mapped.problem}`, mapped.detail);
        });
      this.token = pending;
    }
    return this.token;
  }

  private async rawCall<T>(
    service: ServiceName,
    method: string,
    request: unknown,
    token: string | undefined,
    deadline: number,
    mode: ReplyMode,
  ): Promise<T> {
    const m = (services as Record<string, Record<string, MethodDescriptor> | undefined>)[`etcdserverpb.${service}`]?.[
      method
    ];
    if (!m) throw new Error(`etcd ${service} has no method ${method}`);
    const body = encodeMessage(m.requestType, request ?? {});
    const reply = await this.channel.call(m.path, body, token ? { token } : {}, deadline, mode);
    try {
      return decodeMessage<T>(m.responseType, reply);
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      throw new GrpcCallError(GrpcStatus.INTERNAL, `cannot decode ${m.responseType}: ${why}`);
    }
  }
}
