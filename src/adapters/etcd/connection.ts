import { readFileSync } from 'node:fs';
import type * as Grpc from '@grpc/grpc-js';
import { UserError } from '../../errors.js';
import { EtcdError, toEtcdError } from './errors.js';
import { grpc } from './grpc-lazy.js';
import { etcdServices } from './proto.js';

export interface EtcdConnectionOptions {
  /** File paths (PEM), like etcdctl --cacert/--cert/--key. */
  tls?: { ca?: string; cert?: string; key?: string };
  user?: string;
  password?: string;
}

export type ServiceName = 'KV' | 'Lease' | 'Cluster' | 'Maintenance' | 'Auth';

/**
 * Fail fast, never hide a dead member: no retries (a retry could land nowhere else anyway, but would eat the
 * deadline), short reconnect backoff so a member that comes back is seen quickly, and a local subchannel pool so
 * this endpoint's connection is ours alone and closes with us.
 */
const CHANNEL_OPTIONS: Grpc.ChannelOptions = {
  'grpc.use_local_subchannel_pool': 1,
  'grpc.enable_retries': 0,
  // Members are addressed directly; an http(s)_proxy from the environment would answer for a dead member (an HTTP
  // error instead of "connection refused") and hide which member is down.
  'grpc.enable_http_proxy': 0,
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.min_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 1000,
  // etcd answers big ranges and member lists; the 4 MiB default would fail on a large keyspace listing.
  'grpc.max_receive_message_length': 256 * 1024 * 1024,
  // Detect a frozen/partitioned member on a long-lived channel; etcd's default enforcement minimum is 5 s.
  'grpc.keepalive_time_ms': 10_000,
  'grpc.keepalive_timeout_ms': 3_000,
  'grpc.keepalive_permit_without_calls': 0,
};

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

function credentialsFor(secure: boolean, opts: EtcdConnectionOptions): Grpc.ChannelCredentials {
  const tls = opts.tls ?? {};
  if (!secure) return grpc().credentials.createInsecure();
  if (Boolean(tls.cert) !== Boolean(tls.key)) {
    throw new UserError('TLS client certificate and key go together', 'give both --cert and --key, or neither');
  }
  const ca = tls.ca ? readPem(tls.ca, 'CA', '--cacert') : null;
  const cert = tls.cert ? readPem(tls.cert, 'certificate', '--cert') : null;
  const key = tls.key ? readPem(tls.key, 'key', '--key') : null;
  return grpc().credentials.createSsl(ca, key, cert);
}

/**
 * Reads the TLS files now and throws UserError naming the first unreadable one. Commands call this before probing:
 * a typo in --cacert is bad input (exit 2), not an unreachable cluster.
 */
export function validateConnectionOptions(opts: EtcdConnectionOptions): void {
  credentialsFor(true, opts);
}

type Callback<T> = (err: Grpc.ServiceError | null, value?: T) => void;
type UnaryMethod = (req: unknown, md: Grpc.Metadata, opts: Grpc.CallOptions, cb: Callback<unknown>) => void;

/**
 * One gRPC channel to one etcd endpoint, shared by every etcd service client, plus the auth token.
 * Exposes raw calls; EtcdEndpointClient turns them into domain values.
 */
export class EtcdConnection {
  readonly target: string;
  private readonly channel: Grpc.Channel;
  private readonly clients: Record<ServiceName, Grpc.Client>;
  private token: Promise<string> | undefined;

  constructor(
    readonly endpoint: string,
    private readonly opts: EtcdConnectionOptions,
  ) {
    const { target, secure } = parseEndpoint(endpoint, opts);
    this.target = target;
    const creds = credentialsFor(secure, opts);
    this.channel = new (grpc().Channel)(target, creds, CHANNEL_OPTIONS);
    const services = etcdServices();
    const make = (name: ServiceName) => new services[name](target, creds, { channelOverride: this.channel });
    this.clients = {
      KV: make('KV'),
      Lease: make('Lease'),
      Cluster: make('Cluster'),
      Maintenance: make('Maintenance'),
      Auth: make('Auth'),
    };
  }

  client(service: ServiceName): Grpc.Client {
    return this.clients[service];
  }

  /** Every service client rides on the one channel: closing it ends the connection and any call still running. */
  close(): void {
    this.channel.close();
  }

  /** A unary call with a deadline; auth token attached; one re-authentication on "invalid auth token". */
  async unary<T>(service: ServiceName, method: string, request: unknown, deadlineMs: number): Promise<T> {
    const deadline = Date.now() + deadlineMs;
    for (let attempt = 0; ; attempt++) {
      const { md, authError } = await this.authMetadata(deadline, deadlineMs);
      try {
        return await this.rawUnary<T>(service, method, request, md, deadline);
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
   * Metadata carrying the auth token. Authenticate goes through raft, so without quorum it cannot succeed; then we
   * go on WITHOUT a token, because Status and MemberList still answer and are exactly what a recovery needs.
   * A wrong password is different: that is thrown at once.
   */
  async authMetadata(deadline: number, deadlineMs: number): Promise<{ md: Grpc.Metadata; authError?: EtcdError }> {
    const md = new (grpc().Metadata)();
    if (!this.hasCredentials()) return { md };
    // Half the budget at most: if Authenticate hangs for lack of quorum, the tokenless call still gets its turn.
    const authMs = Math.max(1, Math.min(deadline - Date.now(), Math.ceil(deadlineMs / 2)));
    try {
      md.set('token', await this.authenticate(Date.now() + authMs, authMs));
      return { md };
    } catch (err) {
      const authError = toEtcdError(this.endpoint, err, deadlineMs);
      if (authError.kind === 'auth') throw authError;
      return { md, authError };
    }
  }

  private hasCredentials(): boolean {
    return this.opts.user !== undefined && this.opts.user !== '';
  }

  /** One Authenticate per connection, shared by concurrent callers; forgotten on failure so a later call retries. */
  private authenticate(deadline: number, deadlineMs: number): Promise<string> {
    if (!this.token) {
      const request = { name: this.opts.user, password: this.opts.password ?? '' };
      const pending: Promise<string> = this.rawUnary<{ token: string }>(
        'Auth',
        'Authenticate',
        request,
        new (grpc().Metadata)(),
        deadline,
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

  private rawUnary<T>(
    service: ServiceName,
    method: string,
    request: unknown,
    md: Grpc.Metadata,
    deadline: number,
  ): Promise<T> {
    const client = this.clients[service] as unknown as Record<string, UnaryMethod>;
    const fn = client[method];
    if (typeof fn !== 'function') return Promise.reject(new Error(`etcd ${service} has no method ${method}`));
    return new Promise<T>((resolve, reject) => {
      fn.call(client, request, md, { deadline }, (err, value) => (err ? reject(err) : resolve(value as T)));
    });
  }
}
