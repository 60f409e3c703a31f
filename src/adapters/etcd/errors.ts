import { oneLine } from '../../domain/text.js';
import { GrpcStatus } from './grpc-status.js';

export type EtcdErrorKind = 'unreachable' | 'tls' | 'timeout' | 'auth' | 'server';

/**
 * One endpoint's failure as ONE plain line: `<endpoint>: <problem>`. Commands print `message` as is, the domain
 * reads `kind`. `detail` keeps the raw gRPC text for --debug.
 */
export class EtcdError extends Error {
  constructor(
    readonly endpoint: string,
    readonly kind: EtcdErrorKind,
    readonly problem: string,
    readonly detail?: string,
  ) {
    super(`${endpoint}: ${problem}`);
    this.name = 'EtcdError';
  }
}

// etcd's own auth failures (server/etcdserver/api/v3rpc/rpctypes): wrong password, stale token, missing rights.
const AUTH_PATTERNS = [
  'authentication failed',
  'invalid auth token',
  'permission denied',
  'user name is empty',
  'user name not found',
  'auth: revision in header is old',
  'authentication is not enabled',
];

/** Node/OpenSSL texts for a server certificate our CA does not vouch for. */
const UNKNOWN_CA = [
  'self-signed certificate',
  'self signed certificate',
  'unable to get local issuer certificate',
  'unable to verify the first certificate',
  'unable to get issuer certificate',
];

/** The socket error is wrapped (grpc-js wording, kept by h2-channel.ts): "No connection established. Last error: <err>" */
function lastError(details: string): string {
  const m = /Last error: (.*?)(?:\. Resolution note:.*)?$/s.exec(details);
  // grpc-js appends the time of the failure, e.g. "Failed to connect (2026-01-01T00:00:00.000Z)": noise here.
  const raw = (m?.[1] ?? details).replace(/^Error: /, '').replace(/ \(\d{4}-\d\d-\d\dT[\d:.]+Z\)$/, '');
  return oneLine(raw);
}

function tlsProblem(raw: string): string | undefined {
  const t = raw.toLowerCase();
  if (UNKNOWN_CA.some((p) => t.includes(p))) {
    return `TLS handshake failed: certificate signed by unknown authority (check --cacert)`;
  }
  if (t.includes('does not match certificate') || t.includes('hostname/ip does not match')) {
    return `TLS handshake failed: server certificate is not valid for this address (check the certificate SANs)`;
  }
  if (t.includes('certificate has expired') || t.includes('certificate is not yet valid')) {
    return `TLS handshake failed: server certificate expired or not yet valid`;
  }
  if (
    t.includes('alert certificate required') ||
    t.includes('alert bad certificate') ||
    t.includes('alert unknown ca')
  ) {
    return `TLS handshake failed: server rejected our client certificate (check --cert/--key)`;
  }
  if (
    t.includes('wrong version number') ||
    t.includes('packet length too long') ||
    t.includes('record layer failure')
  ) {
    return `TLS handshake failed: the server does not speak TLS (try http://)`;
  }
  if (
    t.includes('before secure tls connection') ||
    t.includes('ssl') ||
    t.includes('tls') ||
    t.includes('certificate')
  ) {
    return `TLS handshake failed: ${raw}`;
  }
  return undefined;
}

function socketProblem(raw: string): string | undefined {
  const codes: Array<[string, string]> = [
    ['ECONNREFUSED', 'connection refused (is etcd running and listening there?)'],
    ['EHOSTUNREACH', 'host unreachable'],
    ['ENETUNREACH', 'network unreachable'],
    ['ETIMEDOUT', 'connect timed out'],
    ['ENOTFOUND', 'cannot resolve host name'],
    ['EAI_AGAIN', 'cannot resolve host name (DNS not answering)'],
    ['ECONNRESET', 'connection reset by peer'],
    ['EPIPE', 'connection closed by peer'],
  ];
  const hit = codes.find(([code]) => raw.includes(code));
  return hit?.[1];
}

/** Map anything a gRPC call can throw to an EtcdError naming the endpoint. */
export function toEtcdError(endpoint: string, err: unknown, deadlineMs?: number): EtcdError {
  if (err instanceof EtcdError) return err;
  const e = err as { code?: number; details?: string; message?: string };
  const details = oneLine(typeof e.details === 'string' ? e.details : String(e.message ?? err));
  const code = e.code;
  // The deadline travels to the server (grpc-timeout header); etcd's Go context may expire first and answer with
  // its own "context deadline exceeded" (status UNKNOWN). Same meaning: no answer in time.
  if (code === GrpcStatus.DEADLINE_EXCEEDED || details === 'context deadline exceeded') {
    const within = deadlineMs === undefined ? '' : ` within ${deadlineMs} ms`;
    return new EtcdError(endpoint, 'timeout', `no answer${within}`, details);
  }
  if (details.startsWith('etcdserver: ') || details.startsWith('auth: ')) {
    const isAuth = AUTH_PATTERNS.some((p) => details.includes(p));
    return new EtcdError(endpoint, isAuth ? 'auth' : 'server', details, details);
  }
  const http = /Received HTTP status code (\d+)/.exec(details);
  if (http) {
    // Something answered HTTP, but not etcd's gRPC (wrong port, a proxy or load balancer in the way).
    return new EtcdError(endpoint, 'unreachable', `not an etcd gRPC endpoint (got HTTP ${http[1]})`, details);
  }
  if (code === GrpcStatus.UNAUTHENTICATED || code === GrpcStatus.PERMISSION_DENIED) {
    return new EtcdError(endpoint, 'auth', details, details);
  }
  if (code === GrpcStatus.UNAVAILABLE || code === undefined) {
    const raw = lastError(details);
    const tls = tlsProblem(raw);
    if (tls) return new EtcdError(endpoint, 'tls', tls, details);
    if (raw.startsWith('Failed to connect')) {
      // TCP connected but the HTTP/2 handshake never completed: typically plain http:// against a TLS port.
      const hint = endpoint.startsWith('http://') ? ' (if etcd serves TLS there, use https://)' : '';
      return new EtcdError(endpoint, 'unreachable', `connection closed before the gRPC handshake${hint}`, details);
    }
    const socket = socketProblem(raw);
    if (socket) return new EtcdError(endpoint, 'unreachable', socket, details);
    // UNAVAILABLE without a recognisable cause is still "could not reach"; a plain Error is our own bug or data.
    if (code === undefined) return new EtcdError(endpoint, 'server', raw, details);
    return new EtcdError(endpoint, 'unreachable', `unreachable: ${raw}`, details);
  }
  return new EtcdError(endpoint, 'server', details, details);
}
