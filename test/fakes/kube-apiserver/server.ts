import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse as parseYaml } from 'yaml';
import { isObject, type JsonObject } from './fields';
import { groupList, groupVersion, RESOURCES, resourceList, type ResourceType } from './resources';
import { badRequest, forbidden, namespaceNotFound, notFound, type StatusBody } from './status';
import { JobController } from './jobs';
import { FAKE_ROOT_CA, ROOT_CA_CONFIGMAP } from './root-ca';
import { Store } from './store';

/** One request as the fake saw it. */
export interface LoggedRequest {
  at: number;
  method: string;
  path: string;
  fieldManager?: string;
  force?: boolean;
  /** The request carried dryRun=All: validated and answered, nothing stored. */
  dryRun?: boolean;
  contentType?: string;
  status: number;
}

export interface FakeOptions {
  /** Delay of each Deployment controller step (ms). */
  controllerDelayMs?: number;
  /** Worker nodes reported by `/api/v1/nodes`. */
  nodes?: string[];
  kubernetesVersion?: string;
  /** The cluster CA published as `kube-root-ca.crt` in every namespace; null publishes none (a controller-manager that has not run yet). */
  rootCa?: string | null;
}

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * A kube-apiserver that speaks the real HTTP API for the kinds edgeplane applies: discovery, get/list with label
 * selectors, server-side apply with managedFields and conflicts, create, delete, 404/409/422 Status bodies, and a tiny
 * Deployment controller. Control endpoints live under `/__fake/`.
 */
export class FakeKubeApiserver {
  readonly store = new Store();
  readonly log: LoggedRequest[] = [];
  /** Client write requests (POST/PUT/PATCH/DELETE), successful or not; dry runs are counted apart. */
  writes = 0;
  /** Requests with dryRun=All, successful or not. */
  dryRuns = 0;
  /**
   * RBAC refusals: `<plural>` (everywhere) or `<plural>@<namespace>` (in one namespace; a cluster-wide list is refused
   * too, as a Role in that namespace would leave it) answer 403 Forbidden to get and list.
   */
  readonly forbidden = new Set<string>();
  /** Deployments ("namespace/name", or "*") whose rollout fails with ProgressDeadlineExceeded. */
  readonly failing = new Set<string>();
  /** The Job controller and the kubelet that runs probe pods (jobs.ts): node firewalls, image entrypoints, pods run. */
  readonly jobs: JobController;
  private server: Server | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly controllerDelayMs: number;
  private readonly kubernetesVersion: string;
  /** The CA `kube-root-ca.crt` holds (`ca.crt`), as kube-controller-manager's root-ca-cert-publisher writes it. */
  readonly rootCa: string | null;

  constructor(options: FakeOptions = {}) {
    this.controllerDelayMs = options.controllerDelayMs ?? 20;
    this.kubernetesVersion = options.kubernetesVersion ?? 'v1.31.4+k3s1';
    const ns = this.type('', 'Namespace');
    for (const name of ['default', 'kube-system', 'kube-public']) this.store.create(ns, undefined, { metadata: { name } }, 'k3s');
    const node = this.type('', 'Node');
    for (const name of options.nodes ?? ['cp-1', 'worker-1', 'worker-2', 'gpu-1'])
      this.store.create(node, undefined, { metadata: { name, labels: { 'kubernetes.io/hostname': name } } }, 'k3s');
    this.jobs = new JobController(this.store, (group, kind) => this.type(group, kind));
    this.rootCa = options.rootCa === undefined ? FAKE_ROOT_CA : options.rootCa;
    this.store.onChange = (type, object) => {
      if (type.kind === 'Deployment') this.scheduleRollout(object);
      if (type.kind === 'Namespace') this.publishRootCa(String((object.metadata as JsonObject).name));
      this.jobs.onChange(type, object);
    };
    for (const name of ['default', 'kube-system', 'kube-public']) this.publishRootCa(name);
  }

  /** Writes `kube-root-ca.crt` into a namespace (a new one, or again after a test deleted it), as the real publisher does. */
  publishRootCa(namespace: string): void {
    if (this.rootCa === null) return;
    const configMap = this.type('', 'ConfigMap');
    if (this.store.get(configMap, namespace, ROOT_CA_CONFIGMAP)) return;
    this.store.create(
      configMap,
      namespace,
      { metadata: { name: ROOT_CA_CONFIGMAP }, data: { 'ca.crt': this.rootCa } },
      'kube-controller-manager',
    );
  }

  get url(): string {
    const address = this.server?.address() as AddressInfo | null;
    if (!address) throw new Error('the fake apiserver is not listening; call start() first');
    return `http://127.0.0.1:${address.port}`;
  }

  /** A kubeconfig for @kubernetes/client-node (plain HTTP needs insecure-skip-tls-verify there). */
  kubeconfig(): string {
    return [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: fake',
      '  cluster:',
      `    server: ${this.url}`,
      '    insecure-skip-tls-verify: true',
      'users:',
      '- name: fake',
      '  user:',
      '    token: fake-token',
      'contexts:',
      '- name: fake',
      '  context: { cluster: fake, user: fake, namespace: default }',
      'current-context: fake',
      '',
    ].join('\n');
  }

  async start(port = 0): Promise<this> {
    const server = createServer((req, res) => {
      void this.handle(req, res).catch((error: unknown) => {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify(badRequest(`fake apiserver error: ${String(error)}`)));
      });
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    return this;
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.jobs.stop();
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    this.server = undefined;
  }

  /** Objects of one kind, as a client would list them (for assertions). */
  objects(kind: string, namespace?: string): JsonObject[] {
    const type = RESOURCES.find((t) => t.kind === kind);
    if (!type) throw new Error(`the fake does not serve kind ${kind}`);
    return this.store.list(type, namespace, () => true);
  }

  /**
   * Applies an object as another field manager would (Helm, kubectl), to set up ownership for a test; the kind,
   * namespace and name come from the object itself.
   */
  applyAs(manager: string, object: JsonObject, options: { force?: boolean } = {}): ReturnType<Store['apply']> {
    const apiVersion = String(object.apiVersion ?? '');
    const group = apiVersion.includes('/') ? (apiVersion.split('/')[0] ?? '') : '';
    const metadata = (isObject(object.metadata) ? object.metadata : {}) as { name?: string; namespace?: string };
    if (!metadata.name) throw new Error('applyAs needs metadata.name');
    return this.store.apply(
      this.type(group, String(object.kind)),
      metadata.namespace,
      metadata.name,
      object,
      manager,
      options.force ?? false,
    );
  }

  /**
   * Puts a pod as its controller and kubelet would leave it: the spec (validated), then the status (validated against
   * the Pod schema too, so a test cannot hand the agent a container status the real server could not hold).
   */
  putPod(pod: {
    namespace: string;
    name: string;
    labels: Record<string, string>;
    containers: { name: string; image: string }[];
    status: JsonObject;
  }): void {
    const type = this.type('', 'Pod');
    const object = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: pod.name, namespace: pod.namespace, labels: pod.labels },
      spec: { containers: pod.containers },
    };
    type.validate({ ...object, status: pod.status });
    if (!this.store.get(type, pod.namespace, pod.name)) {
      const made = this.store.create(type, pod.namespace, object, 'kube-controller-manager');
      if (!made.ok) throw new Error(`putPod: ${JSON.stringify(made.body)}`);
    }
    this.store.setStatus(type, pod.namespace, pod.name, pod.status);
  }

  type(group: string, kind: string): ResourceType {
    const type = RESOURCES.find((t) => t.group === group && t.kind === kind);
    if (!type) throw new Error(`unknown kind ${group}/${kind}`);
    return type;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const method = req.method ?? 'GET';
    const body = MUTATING.has(method) || method === 'POST' ? await readBody(req) : '';
    if (url.pathname.startsWith('/__fake/')) return this.control(method, url, body, res);
    const result = this.route(method, url, body, req.headers['content-type'] ?? '');
    const dryRun = url.searchParams.has('dryRun');
    if (MUTATING.has(method)) {
      if (dryRun) this.dryRuns++;
      else this.writes++;
    }
    this.log.push({
      at: Date.now(),
      method,
      path: url.pathname,
      status: result.status,
      ...(url.searchParams.get('fieldManager') ? { fieldManager: url.searchParams.get('fieldManager') ?? '' } : {}),
      ...(url.searchParams.get('force') ? { force: url.searchParams.get('force') === 'true' } : {}),
      ...(dryRun ? { dryRun: url.searchParams.get('dryRun') === 'All' } : {}),
      ...(req.headers['content-type'] ? { contentType: req.headers['content-type'] } : {}),
    });
    res.writeHead(result.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(result.body));
  }

  private route(method: string, url: URL, body: string, contentType: string): { status: number; body: unknown } {
    const parts = url.pathname.split('/').filter(Boolean);
    if (url.pathname === '/version') {
      const [major = '1', minor = '31'] = this.kubernetesVersion.replace(/^v/, '').split('.');
      return { status: 200, body: { major, minor, gitVersion: this.kubernetesVersion, platform: 'linux/amd64' } };
    }
    if (url.pathname === '/api') return { status: 200, body: { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] } };
    if (url.pathname === '/apis') return { status: 200, body: groupList() };
    let group: string;
    let version: string;
    let rest: string[];
    if (parts[0] === 'api' && parts.length >= 2) {
      group = '';
      version = parts[1] ?? '';
      rest = parts.slice(2);
    } else if (parts[0] === 'apis' && parts.length >= 3) {
      group = parts[1] ?? '';
      version = parts[2] ?? '';
      rest = parts.slice(3);
    } else
      return fail(404, {
        ...badRequest(`the server could not find the requested resource (${method} ${url.pathname})`),
        reason: 'NotFound',
        code: 404,
      });
    if (rest.length === 0) {
      const list = resourceList(group, version);
      return list
        ? { status: 200, body: list }
        : fail(404, { ...badRequest(`no group version ${group}/${version}`), reason: 'NotFound', code: 404 });
    }
    // /namespaces/{ns}/{plural}[/{name}] or /{plural}[/{name}]; /namespaces/{name} alone is the Namespace itself.
    let namespace: string | undefined;
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      namespace = rest[1];
      rest = rest.slice(2);
    }
    const [plural, name, subresource] = rest;
    const type = RESOURCES.find((t) => t.group === group && t.version === version && t.plural === plural);
    if (!type)
      return fail(404, {
        ...badRequest(`the server could not find the requested resource (${method} ${url.pathname})`),
        reason: 'NotFound',
        code: 404,
      });
    if (subresource)
      return fail(404, { ...badRequest(`subresource ${subresource} is not served by the fake`), reason: 'NotFound', code: 404 });
    if (type.namespaced && namespace === undefined && name !== undefined)
      return fail(404, badRequest('a namespaced object needs /namespaces/{ns}/ in its path'));
    const manager = url.searchParams.get('fieldManager') ?? '';
    // dryRun: the real server accepts only "All", and the fake serves it on apply only (what edgeplane sends).
    const dryRunParam = url.searchParams.get('dryRun');
    if (dryRunParam !== null && dryRunParam !== 'All')
      return fail(400, badRequest(`dryRun: Unsupported value: "${dryRunParam}": supported values: "All"`));
    const dryRun = dryRunParam === 'All';
    if (dryRun && method !== 'PATCH') return fail(400, badRequest(`the fake serves dryRun on server-side apply only, not ${method}`));
    if (
      method === 'GET' &&
      (this.forbidden.has(type.plural) ||
        (namespace !== undefined && this.forbidden.has(`${type.plural}@${namespace}`)) ||
        (namespace === undefined && [...this.forbidden].some((f) => f.startsWith(`${type.plural}@`))))
    )
      return fail(403, forbidden(type, name ? 'get' : 'list', namespace, 'system:serviceaccount:edgeplane-system:edgeplane-agent'));

    if (!name) {
      if (method === 'GET') {
        const selector = parseSelector(url.searchParams.get('labelSelector') ?? '');
        if (!selector.ok) return fail(400, badRequest(selector.error));
        const page = paginate(
          this.store.list(type, namespace, selector.matches),
          url.searchParams.get('limit'),
          url.searchParams.get('continue'),
        );
        if (!page.ok) return fail(400, badRequest(page.error));
        return {
          status: 200,
          body: {
            kind: `${type.kind}List`,
            apiVersion: groupVersion(type),
            metadata: { resourceVersion: this.store.resourceVersion, ...(page.next ? { continue: page.next } : {}) },
            items: page.items.map(({ apiVersion: _a, kind: _k, ...item }) => item),
          },
        };
      }
      if (method === 'POST') {
        const object = parseObject(body, contentType);
        if (!object.ok) return fail(400, badRequest(object.error));
        if (type.namespaced && namespace && !this.store.namespaceExists(namespace)) return fail(404, namespaceNotFound(namespace));
        const outcome = this.store.create(type, namespace, object.value, manager || 'unknown');
        return outcome.ok ? { status: outcome.status, body: outcome.object } : fail(outcome.status, outcome.body);
      }
      return fail(405, { ...badRequest(`method ${method} is not allowed on a collection`), reason: 'MethodNotAllowed', code: 405 });
    }

    if (method === 'GET') {
      const object = this.store.get(type, namespace, name);
      return object ? { status: 200, body: object } : fail(404, notFound(type, name));
    }
    if (method === 'DELETE') {
      const existing = this.store.get(type, namespace, name);
      const outcome = this.store.delete(type, namespace, name);
      if (outcome.ok && existing) this.jobs.onDeleted(type, existing);
      return outcome.ok ? { status: outcome.status, body: outcome.object } : fail(outcome.status, outcome.body);
    }
    if (method === 'PATCH') {
      if (!contentType.startsWith('application/apply-patch+yaml')) {
        return fail(415, {
          ...badRequest(`the fake serves server-side apply only, not ${contentType}`),
          reason: 'UnsupportedMediaType',
          code: 415,
        });
      }
      if (!manager) return fail(400, badRequest('fieldManager is required for apply requests'));
      const object = parseObject(body, contentType);
      if (!object.ok) return fail(400, badRequest(object.error));
      const meta = isObject(object.value.metadata) ? object.value.metadata : {};
      if (meta.name !== name)
        return fail(400, badRequest(`the name of the object (${String(meta.name)}) does not match the name on the URL (${name})`));
      if (object.value.kind !== type.kind || object.value.apiVersion !== groupVersion(type)) {
        return fail(
          400,
          badRequest(
            `the body's apiVersion/kind ${String(object.value.apiVersion)}/${String(object.value.kind)} does not match the URL (${groupVersion(type)}/${type.kind})`,
          ),
        );
      }
      if (type.namespaced && namespace && !this.store.namespaceExists(namespace)) return fail(404, namespaceNotFound(namespace));
      const outcome = this.store.apply(type, namespace, name, object.value, manager, url.searchParams.get('force') === 'true', dryRun);
      return outcome.ok ? { status: outcome.status, body: outcome.object } : fail(outcome.status, outcome.body);
    }
    return fail(405, { ...badRequest(`method ${method} is not served by the fake`), reason: 'MethodNotAllowed', code: 405 });
  }

  private control(method: string, url: URL, body: string, res: ServerResponse): void {
    const send = (status: number, value: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(value));
    };
    const path = url.pathname.replace('/__fake/', '');
    if (path === 'log' && method === 'GET') return send(200, this.log);
    if (path === 'writes' && method === 'GET') return send(200, { writes: this.writes, requests: this.log.length });
    if (path === 'reset' && method === 'POST') {
      this.log.length = 0;
      this.writes = 0;
      return send(200, { ok: true });
    }
    if (path === 'objects' && method === 'GET')
      return send(
        200,
        this.store.all().map((o) => o.object),
      );
    if (path === 'fail' && method === 'POST') {
      const input = JSON.parse(body || '{}') as { deployment?: string; fail?: boolean };
      const target = input.deployment ?? '*';
      if (input.fail === false) this.failing.delete(target);
      else this.failing.add(target);
      for (const { type, object } of this.store.all()) if (type.kind === 'Deployment') this.scheduleRollout(object);
      return send(200, { failing: [...this.failing] });
    }
    send(404, { error: `no control endpoint ${method} ${url.pathname}` });
  }

  /** Moves a Deployment's status forward in two steps (observed, then ready), or to ProgressDeadlineExceeded. */
  scheduleRollout(object: JsonObject): void {
    const type = this.type('apps', 'Deployment');
    const meta = object.metadata as JsonObject;
    const namespace = String(meta.namespace);
    const name = String(meta.name);
    const generation = Number(meta.generation ?? 1);
    const replicas = Number((object.spec as JsonObject | undefined)?.replicas ?? 1);
    const fails = this.failing.has('*') || this.failing.has(`${namespace}/${name}`);
    const step = (delay: number, status: JsonObject) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        const current = this.store.get(type, namespace, name);
        if (current && Number((current.metadata as JsonObject).generation) === generation)
          this.store.setStatus(type, namespace, name, status);
      }, delay);
      this.timers.add(timer);
    };
    const condition = (t: string, s: string, reason: string) => ({
      type: t,
      status: s,
      reason,
      message: `${reason} (fake controller)`,
      lastUpdateTime: new Date().toISOString(),
    });
    // The pods of the new ReplicaSet exist but none is ready yet; a failing rollout stays there past its deadline.
    const unready = {
      observedGeneration: generation,
      replicas,
      updatedReplicas: replicas,
      readyReplicas: 0,
      availableReplicas: 0,
      unavailableReplicas: replicas,
    };
    step(this.controllerDelayMs, { ...unready, conditions: [condition('Progressing', 'True', 'ReplicaSetUpdated')] });
    step(
      this.controllerDelayMs * 2,
      fails
        ? {
            ...unready,
            conditions: [
              condition('Available', 'False', 'MinimumReplicasUnavailable'),
              condition('Progressing', 'False', 'ProgressDeadlineExceeded'),
            ],
          }
        : {
            observedGeneration: generation,
            replicas,
            updatedReplicas: replicas,
            readyReplicas: replicas,
            availableReplicas: replicas,
            conditions: [
              condition('Available', 'True', 'MinimumReplicasAvailable'),
              condition('Progressing', 'True', 'NewReplicaSetAvailable'),
            ],
          },
    );
  }
}

const fail = (status: number, body: StatusBody) => ({ status, body });

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseObject(body: string, contentType: string): { ok: true; value: JsonObject } | { ok: false; error: string } {
  try {
    const value: unknown = contentType.includes('yaml') ? parseYaml(body) : JSON.parse(body);
    if (!isObject(value)) return { ok: false, error: 'the request body must be an object' };
    return { ok: true, value };
  } catch (error) {
    return { ok: false, error: `the request body is not valid ${contentType.includes('yaml') ? 'YAML' : 'JSON'}: ${String(error)}` };
  }
}

/** Equality-based and set-based label selectors: `a=b`, `a==b`, `a!=b`, `a`, `!a`, `a in (x,y)`, `a notin (x)`. */
export function parseSelector(
  text: string,
): { ok: true; matches: (labels: Record<string, string>) => boolean } | { ok: false; error: string } {
  const terms: ((labels: Record<string, string>) => boolean)[] = [];
  const parts = text.match(/[^,()]+(\([^)]*\))?/g) ?? [];
  for (const raw of parts) {
    const term = raw.trim();
    if (!term) continue;
    let m: RegExpExecArray | null;
    if ((m = /^([\w./-]+)\s*(==|=|!=)\s*([\w.-]*)$/.exec(term))) {
      const [, key = '', op, value = ''] = m;
      terms.push(op === '!=' ? (l) => l[key] !== value : (l) => l[key] === value);
    } else if ((m = /^([\w./-]+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(term))) {
      const [, key = '', op, list = ''] = m;
      const values = new Set(list.split(',').map((v) => v.trim()));
      terms.push(
        op === 'in' ? (l) => l[key] !== undefined && values.has(l[key] ?? '') : (l) => l[key] === undefined || !values.has(l[key] ?? ''),
      );
    } else if ((m = /^!([\w./-]+)$/.exec(term))) {
      const key = m[1] ?? '';
      terms.push((l) => l[key] === undefined);
    } else if ((m = /^([\w./-]+)$/.exec(term))) {
      const key = m[1] ?? '';
      terms.push((l) => l[key] !== undefined);
    } else return { ok: false, error: `unable to parse requirement: "${term}"` };
  }
  return { ok: true, matches: (labels) => terms.every((t) => t(labels)) };
}

/** A fresh uid, exported for tests that seed objects. */
export const uid = (): string => randomUUID();

/** etcd's order: a list is sorted by storage key, i.e. namespace then name. */
const storageKey = (o: JsonObject): string => {
  const meta = o.metadata as JsonObject;
  return `${typeof meta.namespace === 'string' ? meta.namespace : ''}/${String(meta.name)}`;
};

/**
 * `limit` and `continue` as the API server pages a list: items in key order, at most `limit` of them, and an opaque
 * token that resumes after the last key returned. (The real server also pins the first page's resourceVersion and
 * answers 410 Gone once it is compacted; the fake resumes against current state, which the agent must tolerate anyway.)
 */
function paginate(
  items: JsonObject[],
  limit: string | null,
  token: string | null,
): { ok: true; items: JsonObject[]; next?: string } | { ok: false; error: string } {
  const sorted = [...items].sort((a, b) => (storageKey(a) < storageKey(b) ? -1 : storageKey(a) > storageKey(b) ? 1 : 0));
  let after = '';
  if (token) {
    try {
      const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { after?: unknown };
      if (typeof parsed.after !== 'string') throw new Error('no key');
      after = parsed.after;
    } catch {
      return { ok: false, error: `continue key is not valid: ${token}` };
    }
  }
  const rest = after ? sorted.filter((o) => storageKey(o) > after) : sorted;
  if (limit === null || limit === '' || limit === '0') return { ok: true, items: rest };
  const n = Number(limit);
  if (!Number.isInteger(n) || n < 0) return { ok: false, error: `limit must be a non-negative integer, got ${limit}` };
  const pageItems = rest.slice(0, n);
  const last = pageItems.at(-1);
  return rest.length > n && last
    ? { ok: true, items: pageItems, next: Buffer.from(JSON.stringify({ after: storageKey(last) })).toString('base64url') }
    : { ok: true, items: pageItems };
}
