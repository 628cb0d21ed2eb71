import { readFileSync } from 'node:fs';
import type { Agent as HttpAgent } from 'node:http';
import { httpCall, keepAliveAgent } from './http';
import { fromKubeconfig, inCluster, viaClientNode, type Connection } from './kubeconfig';

/** A Kubernetes object as the agent handles it: plain JSON, exactly as the API server returned it. */
export interface KObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    resourceVersion?: string;
    generation?: number;
    uid?: string;
    managedFields?: { manager?: string; operation?: string; fieldsV1?: unknown }[];
  };
  [key: string]: unknown;
}

/** Kubernetes' Status body of a failed request. */
export interface KStatus {
  message?: string;
  reason?: string;
  code?: number;
  details?: { causes?: { reason?: string; message?: string; field?: string }[] };
}

/** The outcome of one API call: expected failures (404, 409, 422, ...) are results with the real status, not throws. */
export type KubeResult<T> = { ok: true; status: number; value: T } | { ok: false; status: number; error: KStatus };

/** Items per list page: bounds the response the agent holds at once (a 500-object list is ~1 MB of JSON). */
const LIST_PAGE = 100;

/**
 * The reason of the 404 the agent gives itself when the API server does not serve an object's kind in its apiVersion
 * (the version was removed by an upgrade, or the CRD is not installed): unlike Kubernetes' own NotFound it says
 * nothing of whether the object exists, so prune must not take it as "gone" silently.
 */
export const NOT_SERVED = 'NotServed';

/** Identifies one object. */
export interface ObjectRef {
  apiVersion: string;
  kind: string;
  namespace?: string | undefined;
  name: string;
}

interface Resource {
  plural: string;
  namespaced: boolean;
}

/**
 * `apiVersion/kind/namespace/name`: how reports name an object (conflicts, health, pruned) and how one pass keys what
 * it read. Not the inventory's key, which leaves the version out (agent/inventory.ts).
 */
export const refKey = (r: ObjectRef): string => `${r.apiVersion}/${r.kind}/${r.namespace ?? ''}/${r.name}`;

export const refOf = (o: KObject): ObjectRef => ({
  apiVersion: o.apiVersion,
  kind: o.kind,
  name: o.metadata.name,
  ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}),
});

/**
 * The agent's one module for Kubernetes calls: plain JSON over node:http(s) with keep-alive, so objects are never
 * rewritten by a typed serializer (which drops unknown fields and turns timestamps into Dates) and every status code
 * reaches the caller. The connection comes from the in-cluster service account or a kubeconfig; kubeconfigs that
 * need an exec/auth-provider plugin go through @kubernetes/client-node (docs/agent.md → Decisions).
 */
export class Kube {
  private readonly discovery = new Map<string, Promise<Map<string, Resource>>>();
  /** Write requests sent (apply, delete), for /metrics. */
  writes = 0;

  private constructor(
    private readonly connection: Connection,
    private readonly agent: HttpAgent,
  ) {}

  /** Connects with a kubeconfig (file or text), or the in-cluster service account when none is given. */
  static async connect(kubeconfigPath?: string, kubeconfigText?: string): Promise<Kube> {
    const text = kubeconfigText ?? (kubeconfigPath ? readFileSync(kubeconfigPath, 'utf8') : undefined);
    const connection = text === undefined ? inCluster() : (fromKubeconfig(text) ?? (await viaClientNode(text)));
    const { ca, cert, key, rejectUnauthorized, servername } = connection.tls;
    // Keep connections open between calls (a pass makes a few dozen requests).
    const agent = keepAliveAgent(connection.server, {
      ca,
      cert,
      key,
      servername,
      ...(rejectUnauthorized === undefined ? {} : { rejectUnauthorized }),
    });
    return new Kube(connection, agent);
  }

  async get(ref: ObjectRef): Promise<KubeResult<KObject>> {
    const path = await this.path(ref, true);
    if (!path.ok) return path;
    const result = await this.call<KObject>('GET', path.value);
    if (result.ok) result.value = { ...result.value, apiVersion: ref.apiVersion, kind: ref.kind };
    return result;
  }

  /** Lists a kind (in one namespace, or all), optionally by label selector; list items get their apiVersion/kind back. */
  async list(apiVersion: string, kind: string, namespace?: string, labelSelector?: string): Promise<KubeResult<KObject[]>> {
    const items = new Map<string, KObject>();
    const result = await this.each(apiVersion, kind, namespace, labelSelector, (item) => items.set(refKey(refOf(item)), item));
    return result.ok ? { ok: true, status: result.status, value: [...items.values()] } : result;
  }

  /**
   * Lists page by page (`limit`/`continue`) and hands each item to `visit` as its page arrives, so a caller that keeps
   * only part of each object never holds a whole large list at once. A continue token the server has expired (410
   * Gone) restarts the list once from the beginning, so `visit` may see an object twice (callers key by object).
   */
  async each(
    apiVersion: string,
    kind: string,
    namespace: string | undefined,
    labelSelector: string | undefined,
    visit: (item: KObject) => void,
  ): Promise<KubeResult<null>> {
    const path = await this.path({ apiVersion, kind, name: '', ...(namespace ? { namespace } : {}) }, false);
    if (!path.ok) return path;
    let token: string | undefined;
    let restarted = false;
    for (;;) {
      const query = new URLSearchParams({ limit: String(LIST_PAGE) });
      if (labelSelector) query.set('labelSelector', labelSelector);
      if (token) query.set('continue', token);
      const page = await this.call<{ items?: KObject[]; metadata?: { continue?: string } }>('GET', `${path.value}?${query}`);
      if (!page.ok && page.status === 410 && token && !restarted) {
        restarted = true;
        token = undefined;
        continue;
      }
      if (!page.ok) return page;
      for (const item of page.value.items ?? []) visit({ ...item, apiVersion, kind });
      token = page.value.metadata?.continue || undefined;
      if (!token) break;
    }
    return { ok: true, status: 200, value: null };
  }

  /**
   * Server-side apply with field manager `edgeplane`; `force` only when the desired object asks to take ownership.
   * `dryRun`: the API server validates, admits and merges exactly as for a real apply and answers the result, but
   * persists nothing (dryRun=All), so it is not counted as a write.
   */
  async apply(object: KObject, force: boolean, options: { dryRun?: boolean } = {}): Promise<KubeResult<KObject>> {
    const path = await this.path(refOf(object), true);
    if (!path.ok) return path;
    if (!options.dryRun) this.writes++;
    return this.call<KObject>(
      'PATCH',
      `${path.value}?fieldManager=edgeplane${force ? '&force=true' : ''}${options.dryRun ? '&dryRun=All' : ''}`,
      JSON.stringify(object),
      'application/apply-patch+yaml',
    );
  }

  /** Creates an object that must not exist yet (POST): 409 AlreadyExists when it does, so exactly one creator wins. */
  async create(object: KObject): Promise<KubeResult<KObject>> {
    const path = await this.path(refOf(object), false);
    if (!path.ok) return path;
    this.writes++;
    return this.call<KObject>('POST', `${path.value}?fieldManager=edgeplane`, JSON.stringify(object), 'application/json');
  }

  async delete(ref: ObjectRef): Promise<KubeResult<unknown>> {
    const path = await this.path(ref, true);
    if (!path.ok) return path;
    this.writes++;
    return this.call('DELETE', `${path.value}?propagationPolicy=Background`);
  }

  async version(): Promise<KubeResult<{ gitVersion: string }>> {
    return this.call('GET', '/version');
  }

  private async path(ref: ObjectRef, withName: boolean): Promise<KubeResult<string>> {
    const resources = await this.resources(ref.apiVersion);
    if (!resources.ok) return resources;
    const resource = resources.value.get(ref.kind);
    if (!resource)
      return {
        ok: false,
        status: 404,
        error: {
          reason: NOT_SERVED,
          message: `the API server does not serve kind ${ref.kind} in ${ref.apiVersion} (is its CRD installed?)`,
        },
      };
    const root = ref.apiVersion.includes('/') ? `/apis/${ref.apiVersion}` : `/api/${ref.apiVersion}`;
    const ns = resource.namespaced && ref.namespace ? `/namespaces/${encodeURIComponent(ref.namespace)}` : '';
    return { ok: true, status: 200, value: `${root}${ns}/${resource.plural}${withName ? `/${encodeURIComponent(ref.name)}` : ''}` };
  }

  private async resources(apiVersion: string): Promise<KubeResult<Map<string, Resource>>> {
    let pending = this.discovery.get(apiVersion);
    if (!pending) {
      const root = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
      pending = this.call<{ resources?: { name: string; kind: string; namespaced: boolean }[] }>('GET', root).then((r) => {
        if (!r.ok) throw Object.assign(new Error(r.error.message ?? `discovery of ${apiVersion} failed`), { result: r });
        return new Map(
          (r.value.resources ?? []).filter((x) => !x.name.includes('/')).map((x) => [x.kind, { plural: x.name, namespaced: x.namespaced }]),
        );
      });
      this.discovery.set(apiVersion, pending);
    }
    try {
      return { ok: true, status: 200, value: await pending };
    } catch (error) {
      this.discovery.delete(apiVersion);
      const result = (error as { result?: KubeResult<never> }).result;
      if (result?.status === 404) {
        return {
          ok: false,
          status: 404,
          error: {
            reason: NOT_SERVED,
            message: `the API server does not serve ${apiVersion} (removed by an upgrade, or its CRD is not installed)`,
          },
        };
      }
      if (result) return result;
      throw error;
    }
  }

  /** One HTTP call; throws only when the API server cannot be reached at all. */
  private async call<T>(method: string, path: string, body?: string, contentType?: string): Promise<KubeResult<T>> {
    const headers: Record<string, string> = { accept: 'application/json' };
    const authorization = await this.connection.authorization();
    if (authorization) headers.authorization = authorization;
    if (contentType) headers['content-type'] = contentType;
    const reply = await httpCall({
      method,
      url: new URL(this.connection.server + path),
      headers,
      body,
      agent: this.agent,
      timeoutMs: 30_000,
      what: `request to the Kubernetes API ${method} ${path}`,
    });
    let parsed: unknown;
    try {
      parsed = reply.text ? JSON.parse(reply.text) : {};
    } catch {
      parsed = { message: reply.text.slice(0, 500) };
    }
    return reply.status >= 200 && reply.status < 300
      ? { ok: true, status: reply.status, value: parsed as T }
      : { ok: false, status: reply.status, error: parsed as KStatus };
  }
}
