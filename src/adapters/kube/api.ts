import type {
  CoordinationV1Api,
  CoreV1Api,
  KubeConfig,
  PolicyV1Api,
  V1ConfigMap,
  V1Lease,
  V1Node,
  V1Pod,
  V1PodDisruptionBudget,
  V1Secret,
} from '@kubernetes/client-node';
import { KUBE_CALLS, type KubeCallId } from './calls.js';
import { type KubeTarget, loadKubeConfig } from './config.js';

/**
 * The only code that talks to the Kubernetes API. Every request goes through `call(id, ...)` with its entry in
 * KUBE_CALLS, so the RBAC rules shipped in deploy/ can be checked against what the code does. Errors come out as
 * KubeApiError: one line, HTTP status and the API's reason, never client-node's multi-line dump.
 */

export class KubeApiError extends Error {
  constructor(
    readonly callId: KubeCallId,
    /** HTTP status, 0 when the server was not reached. */
    readonly status: number,
    readonly reason: string,
    message: string,
    /** The API's Status.details.causes (eviction 429s name the budget there). */
    readonly causes: { reason?: string; message?: string }[] = [],
  ) {
    super(message);
    this.name = 'KubeApiError';
  }
}

type Options = Parameters<CoreV1Api['listNode']>[1];

const LIST_PAGE = 100;

export class KubeApi {
  private constructor(
    private readonly core: CoreV1Api,
    private readonly coordination: CoordinationV1Api,
    private readonly policy: PolicyV1Api,
    readonly server: string,
    readonly source: string,
    private readonly timeoutMs: number,
    private readonly observable: <T>(value: T) => unknown,
  ) {}

  static async connect(target: KubeTarget = {}): Promise<KubeApi> {
    const loaded = await loadKubeConfig(target);
    return KubeApi.fromConfig(loaded.kc, loaded.server, loaded.source, target.timeoutMs);
  }

  static async fromConfig(kc: KubeConfig, server: string, source: string, timeoutMs = 10_000): Promise<KubeApi> {
    const k8s = await import('@kubernetes/client-node');
    return new KubeApi(
      kc.makeApiClient(k8s.CoreV1Api),
      kc.makeApiClient(k8s.CoordinationV1Api),
      kc.makeApiClient(k8s.PolicyV1Api),
      server,
      source,
      timeoutMs,
      (value) => new k8s.Observable(Promise.resolve(value)),
    );
  }

  /** A deadline on every request, plus a Content-Type for patches (client-node defaults to JSON Patch). */
  private options(contentType?: string): Options {
    const { timeoutMs, observable } = this;
    // client-node's object API runs middleware as (its own stub of) rxjs Observables.
    const middleware = {
      pre: (ctx: { setSignal(s: AbortSignal): void; setHeaderParam(k: string, v: string): void }) => {
        ctx.setSignal(AbortSignal.timeout(timeoutMs));
        if (contentType) ctx.setHeaderParam('Content-Type', contentType);
        return observable(ctx);
      },
      post: <T>(response: T) => observable(response),
    };
    return { middleware: [middleware], middlewareMergeStrategy: 'append' } as unknown as Options;
  }

  private async call<T>(id: KubeCallId, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      throw toKubeApiError(id, err, this.server);
    }
  }

  /** Follows `continue` tokens so a large list (hundreds of Helm secrets) is read in pages. */
  private async paged<T>(
    id: KubeCallId,
    page: (cont: string | undefined) => Promise<{ items: T[]; metadata?: { _continue?: string } }>,
  ): Promise<T[]> {
    const items: T[] = [];
    let cont: string | undefined;
    do {
      const list = await this.call(id, () => page(cont));
      items.push(...list.items);
      cont = list.metadata?._continue || undefined;
    } while (cont);
    return items;
  }

  listNodes(labelSelector?: string): Promise<V1Node[]> {
    return this.paged('nodes.list', (c) =>
      this.core.listNode({ labelSelector, limit: LIST_PAGE, _continue: c }, this.options()),
    );
  }

  getNode(name: string): Promise<V1Node> {
    return this.call('nodes.get', () => this.core.readNode({ name }, this.options()));
  }

  /** JSON merge patch (RFC 7386) of a node: `{spec:{unschedulable:true}}` cordons. */
  mergePatchNode(name: string, patch: object): Promise<V1Node> {
    return this.call('nodes.patch', () =>
      this.core.patchNode({ name, body: patch }, this.options('application/merge-patch+json')),
    );
  }

  listPodsOnNode(nodeName: string): Promise<V1Pod[]> {
    const fieldSelector = `spec.nodeName=${nodeName}`;
    return this.paged('pods.list', (c) =>
      this.core.listPodForAllNamespaces({ fieldSelector, limit: LIST_PAGE, _continue: c }, this.options()),
    );
  }

  listPods(namespace: string, labelSelector: string): Promise<V1Pod[]> {
    return this.paged('pods.list', (c) =>
      this.core.listNamespacedPod({ namespace, labelSelector, limit: LIST_PAGE, _continue: c }, this.options()),
    );
  }

  /** undefined when the pod does not exist. */
  async getPod(namespace: string, name: string): Promise<V1Pod | undefined> {
    return notFoundAsUndefined(
      this.call('pods.get', () => this.core.readNamespacedPod({ name, namespace }, this.options())),
    );
  }

  /** POST pods/NAME/eviction. Resolves when accepted; a PDB refusal is a KubeApiError with status 429. */
  async evictPod(namespace: string, name: string): Promise<void> {
    const body = { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace } };
    await this.call('pods/eviction.create', () =>
      this.core.createNamespacedPodEviction({ name, namespace, body }, this.options()),
    );
  }

  listPodDisruptionBudgets(namespace: string): Promise<V1PodDisruptionBudget[]> {
    return this.paged('poddisruptionbudgets.list', (c) =>
      this.policy.listNamespacedPodDisruptionBudget({ namespace, limit: LIST_PAGE, _continue: c }, this.options()),
    );
  }

  listSecrets(labelSelector: string, namespace?: string): Promise<V1Secret[]> {
    return this.paged('secrets.list', (c) =>
      namespace
        ? this.core.listNamespacedSecret({ namespace, labelSelector, limit: LIST_PAGE, _continue: c }, this.options())
        : this.core.listSecretForAllNamespaces({ labelSelector, limit: LIST_PAGE, _continue: c }, this.options()),
    );
  }

  /** undefined when the Secret does not exist. Values of `data` are base64, as the API returns them. */
  async getSecret(namespace: string, name: string): Promise<V1Secret | undefined> {
    return notFoundAsUndefined(
      this.call('secrets.get', () => this.core.readNamespacedSecret({ name, namespace }, this.options())),
    );
  }

  listConfigMaps(labelSelector: string, namespace?: string): Promise<V1ConfigMap[]> {
    return this.paged('configmaps.list', (c) =>
      namespace
        ? this.core.listNamespacedConfigMap(
            { namespace, labelSelector, limit: LIST_PAGE, _continue: c },
            this.options(),
          )
        : this.core.listConfigMapForAllNamespaces({ labelSelector, limit: LIST_PAGE, _continue: c }, this.options()),
    );
  }

  async getLease(namespace: string, name: string): Promise<V1Lease | undefined> {
    return notFoundAsUndefined(
      this.call('leases.get', () => this.coordination.readNamespacedLease({ name, namespace }, this.options())),
    );
  }

  /** Lease bodies carry MicroTime fields as strings with six fractional digits (see domain/kube/lease.ts). */
  createLease(namespace: string, body: V1Lease): Promise<V1Lease> {
    return this.call('leases.create', () =>
      this.coordination.createNamespacedLease({ namespace, body }, this.options()),
    );
  }

  /** PUT with metadata.resourceVersion: a 409 means someone else wrote the lease first. */
  replaceLease(namespace: string, name: string, body: V1Lease): Promise<V1Lease> {
    return this.call('leases.update', () =>
      this.coordination.replaceNamespacedLease({ name, namespace, body }, this.options()),
    );
  }
}

async function notFoundAsUndefined<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (err) {
    if (err instanceof KubeApiError && err.status === 404) return undefined;
    throw err;
  }
}

interface StatusBody {
  message?: string;
  reason?: string;
  details?: { causes?: { reason?: string; message?: string }[] };
}

export function toKubeApiError(id: KubeCallId, err: unknown, server: string): KubeApiError {
  const call = KUBE_CALLS[id];
  const what = `${call.verb} ${call.resource}`;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'number') {
    let status: StatusBody = {};
    const body = (err as { body?: unknown }).body;
    try {
      status = typeof body === 'string' ? (JSON.parse(body) as StatusBody) : ((body as StatusBody) ?? {});
    } catch {
      status = { message: String(body).slice(0, 200) };
    }
    const reason = status.reason ?? (code === 401 ? 'Unauthorized' : 'Unknown');
    const message = (status.message ?? reason).split('\n')[0];
    return new KubeApiError(
      id,
      code,
      reason,
      `Kubernetes API ${what}: ${code} ${reason}: ${message}`,
      status.details?.causes,
    );
  }
  const cause = err instanceof Error ? err : new Error(String(err));
  const why =
    cause.name === 'AbortError' || /aborted|timeout/i.test(cause.message)
      ? 'no answer before the deadline'
      : cause.message.split('\n')[0];
  return new KubeApiError(id, 0, 'Unreachable', `Kubernetes API ${what}: cannot reach ${server}: ${why}`);
}
