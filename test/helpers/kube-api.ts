import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  apiVersionOf,
  coreVersions,
  findResource,
  group,
  groupList,
  RESOURCES,
  resourceList,
  VERSION_INFO,
} from '../fixtures/kube-api/resources.js';
import {
  BadRequest,
  matchesLabels,
  mergePatch,
  type Obj,
  parseFieldSelector,
  parseLabelSelector,
  strategicMergePatch,
  toTable,
} from '../fixtures/kube-api/semantics.js';
import { createStore, Status } from '../fixtures/kube-api/store.js';

/**
 * A Kubernetes API server in one node:http process, with the semantics real clients rely on: discovery, list/get/
 * create/update/patch/delete, label and field selectors, resourceVersion preconditions (409), the Eviction
 * subresource (429 while a PDB allows no disruption), pods that linger terminating and then disappear, Tables for
 * `kubectl get`. Driven by the real kubectl in test/integration/kube-fixture.test.ts so it cannot drift from what
 * real clients send and expect. Plain http on 127.0.0.1.
 */

export interface RecordedRequest {
  method: string;
  path: string;
  /** RBAC verb: get, list, watch, create, update, patch, delete. */
  verb: string;
  /** RBAC group ('' for core) and resource ('pods/eviction' for subresources); undefined for discovery. */
  group?: string;
  resource?: string;
  namespace?: string;
  name?: string;
  status: number;
  contentType?: string;
  userAgent?: string;
  /** The request carried the fixture's bearer token. */
  authenticated: boolean;
}

export interface KubeApiOptions {
  /** How long an evicted or deleted pod stays Terminating before it disappears (default 0: at once). */
  podTerminationMs?: number;
  token?: string;
}

export interface KubeApiFixture {
  url: string;
  /** A kubeconfig file (context "fixture", plus "elsewhere" pointing at a closed port). */
  kubeconfig: string;
  token: string;
  requests: RecordedRequest[];
  /** Create any object (its apiVersion/kind say where it goes). Returns the stored copy. */
  create(obj: Obj): Obj;
  get(kind: string, namespace: string | undefined, name: string): Obj | undefined;
  list(kind: string, namespace?: string): Obj[];
  /** JSON merge patch, as a user's kubectl patch would do (bumps resourceVersion). */
  patch(kind: string, namespace: string | undefined, name: string, patch: Obj): Obj;
  close(): Promise<void>;
}

export async function startKubeApi(opts: KubeApiOptions = {}): Promise<KubeApiFixture> {
  const token = opts.token ?? `fixture-${randomUUID()}`;
  const requests: RecordedRequest[] = [];
  const db = createStore(opts);
  const { typeOfKind, key, all, view, insert, existing, conflict, replace, removePod, evict } = db;

  async function readBody(req: IncomingMessage): Promise<Obj | undefined> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    if (!text.trim()) return undefined;
    try {
      return JSON.parse(text);
    } catch {
      throw new Status(400, 'BadRequest', `the fixture only speaks JSON; body was not JSON`);
    }
  }

  async function handleResource(req: IncomingMessage, url: URL, rec: RecordedRequest): Promise<[number, Obj]> {
    const m = /^\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))\/(.+)$/.exec(url.pathname);
    if (!m) throw new Status(404, 'NotFound', 'the server could not find the requested resource');
    const groupName = m[2] ?? '';
    const version = m[1] ?? m[3]!;
    const segs = m[4]!.split('/').map(decodeURIComponent);
    let ns: string | undefined;
    if (segs[0] === 'namespaces' && segs.length >= 3) {
      ns = segs[1];
      segs.splice(0, 2);
    }
    const [resource, name, sub] = segs as [string, string | undefined, string | undefined];
    const t = findResource(groupName, version, resource);
    if (!t || (sub && !t.subresources?.includes(sub)) || segs.length > 3) {
      throw new Status(404, 'NotFound', 'the server could not find the requested resource');
    }
    Object.assign(rec, { group: t.group, resource: sub ? `${resource}/${sub}` : resource, namespace: ns, name });
    const method = req.method ?? 'GET';
    if (!name) {
      if (method === 'GET') {
        rec.verb = url.searchParams.get('watch') === 'true' ? 'watch' : 'list';
        if (rec.verb === 'watch') throw new Status(405, 'MethodNotAllowed', 'the fixture does not serve watches');
        const labels = parseLabelSelector(url.searchParams.get('labelSelector') ?? '');
        const fields = parseFieldSelector(url.searchParams.get('fieldSelector') ?? '', t.kind);
        const matching = all(t, ns).filter((o) => matchesLabels(o.metadata.labels, labels) && fields(o));
        // limit/continue paging (the token is an opaque offset here; real servers encode a key)
        const offset = Number(Buffer.from(url.searchParams.get('continue') ?? '', 'base64').toString() || 0);
        const limit = Number(url.searchParams.get('limit') || 0);
        const page = limit > 0 ? matching.slice(offset, offset + limit) : matching.slice(offset);
        const more = limit > 0 && offset + limit < matching.length;
        const metadata = {
          resourceVersion: String(db.rv),
          ...(more
            ? {
                continue: Buffer.from(String(offset + limit)).toString('base64'),
                remainingItemCount: matching.length - offset - limit,
              }
            : {}),
        };
        const items = page.map((o) => view(t, o));
        return [200, { kind: `${t.kind}List`, apiVersion: apiVersionOf(t), metadata, items }];
      }
      if (method === 'POST') {
        rec.verb = 'create';
        return [201, insert(t, (await readBody(req)) ?? {}, ns)];
      }
      throw new Status(405, 'MethodNotAllowed', `${method} is not supported on a collection by the fixture`);
    }
    if (sub === 'eviction') {
      rec.verb = 'create';
      if (method !== 'POST') throw new Status(405, 'MethodNotAllowed', 'eviction accepts POST only');
      const body = await readBody(req);
      if (body?.kind !== 'Eviction' || body?.metadata?.name !== name) {
        throw new Status(400, 'BadRequest', 'body must be an Eviction naming the pod');
      }
      return [201, evict(t, ns!, name)];
    }
    const current = existing(t, ns, name);
    switch (method) {
      case 'GET':
        rec.verb = 'get';
        return [200, view(t, current)];
      case 'PUT':
        rec.verb = 'update';
        return [200, replace(t, current, (await readBody(req)) ?? {}, sub)];
      case 'PATCH': {
        rec.verb = 'patch';
        const body = (await readBody(req)) ?? {};
        const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
        const patched =
          type === 'application/merge-patch+json'
            ? mergePatch(current, body)
            : type === 'application/strategic-merge-patch+json'
              ? strategicMergePatch(current, body)
              : undefined;
        if (!patched) throw new Status(415, 'UnsupportedMediaType', `the fixture does not accept ${type} patches`);
        const next = patched as Obj;
        // A resourceVersion in a merge patch is a precondition; absent, the patch applies to the latest version.
        if (!body.metadata?.resourceVersion) next.metadata.resourceVersion = current.metadata.resourceVersion;
        return [200, replace(t, current, next, sub)];
      }
      case 'DELETE': {
        rec.verb = 'delete';
        const body = await readBody(req);
        const pre = body?.preconditions;
        if (pre?.resourceVersion && pre.resourceVersion !== current.metadata.resourceVersion) throw conflict(t, name);
        if (pre?.uid && pre.uid !== current.metadata.uid) throw conflict(t, name);
        if (t.kind === 'Pod') removePod(t, current);
        else db.objects.delete(key(t, ns, name));
        return [200, view(t, current)];
      }
    }
    throw new Status(405, 'MethodNotAllowed', `${method} is not supported by the fixture`);
  }

  function discovery(path: string, host: string): Obj | undefined {
    if (path === '/api') return coreVersions(host);
    if (path === '/apis') return groupList();
    if (path === '/version') return VERSION_INFO;
    if (path === '/api/v1') return resourceList('', 'v1');
    const m = /^\/apis\/([^/]+)(?:\/([^/]+))?$/.exec(path);
    if (m) return m[2] ? resourceList(m[1]!, m[2]) : group(m[1]!);
    return undefined;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fixture');
    const rec: RecordedRequest = {
      method: req.method ?? 'GET',
      path: `${url.pathname}${url.search}`,
      verb: req.method === 'GET' ? 'get' : (req.method ?? '').toLowerCase(),
      status: 0,
      contentType: req.headers['content-type'],
      userAgent: req.headers['user-agent'],
      authenticated: req.headers.authorization === `Bearer ${token}`,
    };
    requests.push(rec);
    let code: number;
    let body: Obj;
    try {
      // kubectl (client-go) sends no credentials over plain http, so anonymous requests are served; a token, when
      // sent, must be right. Tests of Lifeboat's own client assert `authenticated` on its requests.
      if (req.headers.authorization !== undefined && req.headers.authorization !== `Bearer ${token}`) {
        throw new Status(401, 'Unauthorized', 'Unauthorized');
      }
      const doc = req.method === 'GET' ? discovery(url.pathname.replace(/\/$/, ''), req.headers.host ?? '') : undefined;
      if (doc) [code, body] = [200, doc];
      else [code, body] = await handleResource(req, url, rec);
      const accept = req.headers.accept ?? '';
      if (code === 200 && rec.resource && req.method === 'GET' && /as=Table/.test(accept)) {
        const t = RESOURCES.find((r) => r.resource === rec.resource && r.group === rec.group)!;
        body = toTable(body.items ?? [body], t.kind, String(db.rv));
      }
    } catch (err) {
      const s =
        err instanceof Status
          ? err
          : err instanceof BadRequest
            ? new Status(400, 'BadRequest', err.message)
            : new Status(500, 'InternalError', String(err));
      code = s.code;
      body = {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: s.message,
        reason: s.reason,
        code,
      };
      if (s.details) body.details = s.details;
    }
    rec.status = code;
    const text = JSON.stringify(body);
    res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      res.writeHead(500);
      res.end(String(err));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  const dir = mkdtempSync(join(tmpdir(), 'lifeboat-kube-'));
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, kubeconfigText(url, token), { mode: 0o600 });

  const typeOf = (kind: string) => typeOfKind(kind);
  return {
    url,
    kubeconfig,
    token,
    requests,
    create: (obj) => {
      const t = RESOURCES.find((r) => r.kind === obj.kind && apiVersionOf(r) === (obj.apiVersion ?? apiVersionOf(r)));
      if (!t) throw new Error(`fixture: unknown kind ${obj.kind}`);
      return insert(t, obj, obj.metadata?.namespace);
    },
    get: (kind, ns, name) => {
      const t = typeOf(kind);
      const o = db.objects.get(key(t, ns, name));
      return o ? view(t, o) : undefined;
    },
    list: (kind, ns) => all(typeOf(kind), ns).map((o) => view(typeOf(kind), o)),
    patch: (kind, ns, name, p) => {
      const t = typeOf(kind);
      const current = existing(t, ns, name);
      return replace(t, current, mergePatch(current, p) as Obj);
    },
    close: async () => {
      db.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function kubeconfigText(url: string, token: string): string {
  return `apiVersion: v1
kind: Config
clusters:
- name: fixture
  cluster:
    server: ${url}
- name: elsewhere
  cluster:
    server: http://127.0.0.1:9
users:
- name: fixture
  user:
    token: ${token}
contexts:
- name: fixture
  context:
    cluster: fixture
    user: fixture
    namespace: default
- name: elsewhere
  context:
    cluster: elsewhere
    user: fixture
current-context: fixture
`;
}
