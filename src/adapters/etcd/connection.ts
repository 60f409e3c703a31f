import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { UserError } from '../../errors.js';
import { readInputFile } from '../host/input-file.js';
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

/** PEM files are a few KiB; a CA bundle a few hundred. Anything bigger is not one (a snapshot given by mistake). */
const PEM_MAX_BYTES = 1024 * 1024;

function readPem(path: string, what: string, flag: string): Buffer {
  const data = readInputFile(path, `TLS ${what} file`, { maxBytes: PEM_MAX_BYTES, hint: `check ${flag}` });
  if (data.length === 0) throw new UserError(`TLS ${what} file ${path}: the file is empty`, `check ${flag}`);
  return data;
}

/** The PEM blocks of one type in a file: `-----BEGIN <label>-----` ... `-----END <label>-----`. */
function pemBlocks(data: Buffer, label: RegExp): string[] {
  const text = data.toString('latin1');
  const blocks: string[] = [];
  for (const m of text.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g)) {
    if (label.test(m[1]!)) blocks.push(m[0]);
  }
  return blocks;
}

function parseCertificates(data: Buffer, path: string, what: string, flag: string): X509Certificate[] {
  const blocks = pemBlocks(data, /^CERTIFICATE$/);
  if (blocks.length === 0) {
    throw new UserError(
      `TLS ${what} file ${path}: no PEM certificate in it (no "BEGIN CERTIFICATE" line)`,
      `check ${flag}`,
    );
  }
  return blocks.map((pem, i) => {
    try {
      return new X509Certificate(pem);
    } catch {
      const which = blocks.length > 1 ? `certificate ${i + 1} of ${blocks.length}` : 'the certificate';
      throw new UserError(`TLS ${what} file ${path}: ${which} is damaged (not valid X.509)`, `check ${flag}`);
    }
  });
}

function parseKey(data: Buffer, path: string): KeyObject {
  if (pemBlocks(data, /PRIVATE KEY$/).length === 0) {
    throw new UserError(
      `TLS key file ${path}: no PEM private key in it (no "BEGIN ... PRIVATE KEY" line)`,
      'check --key',
    );
  }
  try {
    return createPrivateKey(data);
  } catch (err) {
    const text = String((err as Error).message);
    const why =
      /passphrase|encrypted/i.test(text) || pemBlocks(data, /^ENCRYPTED PRIVATE KEY$/).length > 0
        ? 'the key is encrypted (etcd client keys are not; decrypt it with openssl pkey)'
        : 'the private key is damaged';
    throw new UserError(`TLS key file ${path}: ${why}`, 'check --key');
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
  if (tls.cert && !tls.key) {
    throw new UserError(`TLS certificate ${tls.cert} is given without its key`, 'give --key too (both or neither)');
  }
  if (tls.key && !tls.cert) {
    throw new UserError(`TLS key ${tls.key} is given without its certificate`, 'give --cert too (both or neither)');
  }
  return {
    ca: tls.ca ? readPem(tls.ca, 'CA', '--cacert') : undefined,
    cert: tls.cert ? readPem(tls.cert, 'certificate', '--cert') : undefined,
    key: tls.key ? readPem(tls.key, 'key', '--key') : undefined,
  };
}

/**
 * Reads and parses the TLS files now and throws UserError naming the first bad one and what is wrong with it (missing,
 * a directory, empty, not PEM, damaged, an encrypted key, a key that is not the certificate's). Commands call this
 * before probing: a wrong --cacert is bad input (exit 2), not an unreachable cluster with OpenSSL's text per endpoint.
 */
export function validateConnectionOptions(opts: EtcdConnectionOptions): void {
  const tls = opts.tls ?? {};
  const material = tlsMaterial(opts);
  if (material.ca) parseCertificates(material.ca, tls.ca!, 'CA', '--cacert');
  if (material.cert && material.key) {
    const [cert] = parseCertificates(material.cert, tls.cert!, 'certificate', '--cert');
    const key = parseKey(material.key, tls.key!);
    if (!cert!.checkPrivateKey(key)) {
      throw new UserError(
        `TLS key file ${tls.key}: not the private key of certificate ${tls.cert}`,
        'give the key that belongs to --cert',
      );
    }
  }
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
        // We went without a token because Authenticate failed: the auth failure is the real story. etcd 3.5+ refuses
        // even Status and MemberList without a token ("user name is empty"), and Authenticate needs quorum: with a
        // password, a member of a cluster without quorum tells nothing. Say so, and what does work.
        if (authError && mapped.kind === 'auth') {
          throw new EtcdError(
            this.endpoint,
            authError.kind,
            `${authError.problem}; without a token this etcd answers nothing either (${mapped.problem}): Authenticate needs quorum, and etcd 3.5+ wants it even for status and members; client certificates reach a cluster without quorum`,
            authError.detail,
          );
        }
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
