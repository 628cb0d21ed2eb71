import type { PlanChange } from '../src/shared/api/plan';
import { canonicalJson } from '../src/shared/compiler/canonical-json';
import type { Workload } from '../src/shared/api';
import type { StateCredentials, StateFile, StateWorkload } from '../src/shared/state/schema';
import { type Current, stateRouteOf } from './current';
import { markSecret, type SecretMarker } from './secrets';
import type { FileProblem } from './state-file';

export type Kind = 'cluster' | 'tunnel' | 'route' | 'privateNetwork' | 'splitTunnel' | 'workload' | 'inferenceBackend' | 'mlBackend';
export type Op = 'create' | 'update' | 'delete';

/** One field an update changes. */
export interface FieldChange {
  field: string;
  before: unknown;
  after: unknown;
}

/**
 * One change: what the server's plan evaluates, the request apply sends for it, and how to show it. Secret values in
 * `change` and `request.body` are `SecretMarker`s (where the value comes from), resolved only as a request is sent, so
 * a shown, printed or saved plan never holds one.
 */
export interface Step {
  kind: Kind;
  op: Op;
  /** Who it is, for people: `route app.example.com/api (tunnel main)`. */
  label: string;
  change: PlanChange;
  request: { method: 'POST' | 'PATCH' | 'DELETE'; path: string; body?: unknown; ifMatch?: string };
  fields?: FieldChange[];
}

/** Where each kind's endpoints live. */
const PATHS: Record<Kind, string> = {
  cluster: 'v1/clusters',
  tunnel: 'v1/tunnels',
  route: 'v1/routes',
  privateNetwork: 'v1/private-networks',
  splitTunnel: 'v1/split-tunnel',
  workload: 'v1/workloads',
  inferenceBackend: 'v1/inference/backends',
  mlBackend: 'v1/ml-backends',
};

/**
 * The DELETE of an object the file owns but no longer names (`--prune`), with the etag it was read at; a tunnel goes
 * with its routes and private networks (`cascade`).
 */
function deleteStep(kind: Kind, label: string, have: { id: string; etag: string }): Step {
  const cascade = kind === 'tunnel';
  return {
    kind,
    op: 'delete',
    label,
    change: (cascade ? { action: 'tunnel.delete', id: have.id, cascade } : { action: `${kind}.delete`, id: have.id }) as PlanChange,
    request: { method: 'DELETE', path: `${PATHS[kind]}/${have.id}${cascade ? '?cascade=true' : ''}`, ifMatch: have.etag },
  };
}

/** What a file would change, in dependency order, and what it leaves alone. */
export interface Diff {
  steps: Step[];
  /** Objects the file owns but no longer names: deleted only with --prune. */
  unnamed: string[];
  /** Changes the file asks for that the API cannot make (e.g. moving a tunnel to another cluster). */
  problems: FileProblem[];
}

const same = (a: unknown, b: unknown) => canonicalJson(a) === canonicalJson(b);

/** The fields of `wanted` whose value differs from `have`'s. */
function changed<T extends Record<string, unknown>>(
  have: Record<string, unknown>,
  wanted: T,
): { patch: Partial<T>; fields: FieldChange[] } {
  const patch: Partial<T> = {};
  const fields: FieldChange[] = [];
  for (const [field, value] of Object.entries(wanted) as [keyof T & string, T[keyof T & string]][]) {
    if (same(have[field] ?? null, value ?? null)) continue;
    patch[field] = value;
    fields.push({ field, before: have[field] ?? null, after: value ?? null });
  }
  return { patch, fields };
}

const routeKey = (tunnel: string, hostname: string, path: string | null | undefined) => `${tunnel} ${hostname} ${path ?? ''}`;
const networkKey = (tunnel: string, cidr: string, vnet: string | null | undefined) => `${tunnel} ${cidr} ${vnet ?? ''}`;
const entryKey = (e: { profile: string; mode: string; address?: string | null; host?: string | null }) =>
  `${e.profile} ${e.mode} ${e.address ?? e.host ?? ''}`;
const where = (hostname: string, path: string | null | undefined) => `${hostname}${path ?? ''}`;

/** Ids named twice in the file: the second one is a mistake, reported with its path. */
function duplicates(items: { key: string; path: string }[], what: string): FileProblem[] {
  const seen = new Map<string, string>();
  const problems: FileProblem[] = [];
  for (const { key, path } of items) {
    const first = seen.get(key);
    if (first) problems.push({ path, message: `${what} is named twice (first at ${first})` });
    else seen.set(key, path);
  }
  return problems;
}

/** How secrets are handled: relative secret files start at `baseDir`; `updateSecrets` sends every secret again. */
export interface DiffOptions {
  baseDir?: string;
  /**
   * The API never returns a secret value, so a diff sees only whether one is set; this sends every secret the file
   * references (rotating a value that changed) in an update of its object.
   */
  updateSecrets?: boolean;
}

type EnvBody = Record<string, string | { secret: SecretMarker } | Exclude<StateWorkload['env'][string], string | { secret: unknown }>>;

/** The env a request sends: secret references become markers (resolved just before the request leaves). */
function envBody(w: StateWorkload, index: number, baseDir: string): EnvBody {
  const out: EnvBody = {};
  for (const [name, value] of Object.entries(w.env)) {
    out[name] =
      typeof value === 'object' && 'secret' in value
        ? { secret: markSecret(value.secret, `workloads[${index}].env.${name}.secret`, baseDir) }
        : value;
  }
  return out;
}

/**
 * The file's env as GET shows it, to compare: a secret reads `{"secret": true}`, and an infra reference without an
 * instance takes the one the Worker pinned (when it is of the same kind), since the Worker fills that in.
 */
function envAsShown(w: StateWorkload, have: Workload['env']): Workload['env'] {
  const out: Workload['env'] = {};
  for (const [name, value] of Object.entries(w.env)) {
    if (typeof value === 'string') out[name] = value;
    else if ('secret' in value) out[name] = { secret: true };
    else {
      const pinned = have[name];
      const instance =
        value.instance ?? (typeof pinned === 'object' && 'infra' in pinned && pinned.infra === value.infra ? pinned.instance : '');
      out[name] = { ...value, instance };
    }
  }
  return out;
}

/** Credentials as a request sends them: every secret part a marker. */
function credentialsBody(c: StateCredentials, at: string, baseDir: string): unknown {
  switch (c.type) {
    case 'bearer':
      return { type: 'bearer', token: markSecret(c.token, `${at}.token`, baseDir) };
    case 'access':
      return {
        type: 'access',
        clientId: typeof c.clientId === 'string' ? c.clientId : markSecret(c.clientId, `${at}.clientId`, baseDir),
        clientSecret: markSecret(c.clientSecret, `${at}.clientSecret`, baseDir),
      };
    case 'headers':
      return {
        type: 'headers',
        headers: Object.fromEntries(Object.entries(c.headers).map(([h, ref]) => [h, markSecret(ref, `${at}.headers.${h}`, baseDir)])),
      };
  }
}

/**
 * The changes that turn `current` into what `state` says, in dependency order: clusters, tunnels, then (with prune)
 * the deletes, then routes, private networks and split-tunnel entries. The file owns the tunnels of the clusters it
 * lists, the routes and private networks of the tunnels it lists, and edgeplane's split-tunnel entries when it has a
 * `splitTunnel` list; `prune` deletes what it owns but no longer names. Foreign objects are never touched.
 */
export function diffState(state: StateFile, present: Set<string>, current: Current, prune: boolean, options: DiffOptions = {}): Diff {
  const baseDir = options.baseDir ?? '.';
  const problems: FileProblem[] = [
    ...duplicates(
      state.clusters.map((c, i) => ({ key: c.id, path: `clusters[${i}].id` })),
      'this cluster id',
    ),
    ...duplicates(
      state.tunnels.map((t, i) => ({ key: t.id, path: `tunnels[${i}].id` })),
      'this tunnel id',
    ),
    ...duplicates(
      state.tunnels.flatMap((t, i) =>
        t.routes.map((r, j) => ({ key: `${r.hostname} ${r.path ?? ''}`, path: `tunnels[${i}].routes[${j}].hostname` })),
      ),
      'this hostname and path',
    ),
    ...duplicates(
      state.workloads.map((w, i) => ({ key: w.id, path: `workloads[${i}].id` })),
      'this workload id',
    ),
    ...duplicates(
      state.inferenceBackends.map((b, i) => ({ key: b.id, path: `inferenceBackends[${i}].id` })),
      'this inference backend id',
    ),
    ...duplicates(
      state.mlBackends.map((m, i) => ({ key: m.id, path: `mlBackends[${i}].id` })),
      'this ML backend id',
    ),
  ];
  const early: Step[] = [];
  const deletes: Step[] = [];
  const tunnelDeletes: Step[] = [];
  const late: Step[] = [];
  const unnamed: string[] = [];

  const clusters = new Map(current.clusters.map((c) => [c.id, c]));
  for (const c of state.clusters) {
    const have = clusters.get(c.id);
    if (!have) {
      early.push({
        kind: 'cluster',
        op: 'create',
        label: `cluster ${c.id}`,
        change: { action: 'cluster.create', cluster: c },
        request: { method: 'POST', path: 'v1/clusters', body: c },
      });
      continue;
    }
    const { patch, fields } = changed(have, { name: c.name, labels: c.labels, nodes: c.nodes, apiServerAddress: c.apiServerAddress });
    if (fields.length > 0) {
      early.push({
        kind: 'cluster',
        op: 'update',
        label: `cluster ${c.id}`,
        change: { action: 'cluster.update', id: c.id, cluster: patch },
        request: { method: 'PATCH', path: `v1/clusters/${c.id}`, body: patch, ifMatch: have.etag },
        fields,
      });
    }
  }

  const tunnels = new Map(current.tunnels.map((t) => [t.id, t]));
  for (const [i, t] of state.tunnels.entries()) {
    const { routes: _routes, privateNetworks: _networks, ...body } = t;
    const have = tunnels.get(t.id);
    if (!have) {
      early.push({
        kind: 'tunnel',
        op: 'create',
        label: `tunnel ${t.id} (cluster ${t.cluster})`,
        change: { action: 'tunnel.create', tunnel: body },
        request: { method: 'POST', path: 'v1/tunnels', body },
      });
      continue;
    }
    if (have.cluster !== t.cluster || have.account !== t.account) {
      problems.push({
        path: `tunnels[${i}].${have.cluster !== t.cluster ? 'cluster' : 'account'}`,
        message: `tunnel "${t.id}" exists in cluster "${have.cluster}", account ${have.account}; a tunnel's cluster and account are fixed once created (delete it and create another)`,
      });
      continue;
    }
    const { patch, fields } = changed(have, {
      name: t.name ?? `${t.cluster}-${t.id}`,
      placement: t.placement,
      mode: t.mode,
      originRequest: t.originRequest,
      catchAll: t.catchAll,
      driftPolicy: t.driftPolicy,
    });
    if (fields.length > 0) {
      early.push({
        kind: 'tunnel',
        op: 'update',
        label: `tunnel ${t.id}`,
        change: { action: 'tunnel.update', id: t.id, tunnel: patch },
        request: { method: 'PATCH', path: `v1/tunnels/${t.id}`, body: patch, ifMatch: have.etag },
        fields,
      });
    }
  }
  const namedClusters = new Set(state.clusters.map((c) => c.id));
  const namedTunnels = new Set(state.tunnels.map((t) => t.id));
  for (const have of current.tunnels) {
    if (!namedClusters.has(have.cluster) || namedTunnels.has(have.id)) continue;
    const children = current.routes.filter((r) => r.tunnel === have.id).length;
    const label = `tunnel ${have.id} (cluster ${have.cluster}, with its ${children} route(s) and private networks)`;
    if (!prune) unnamed.push(label);
    else tunnelDeletes.push(deleteStep('tunnel', label, have));
  }

  const routes = new Map(current.routes.map((r) => [routeKey(r.tunnel, r.hostname, r.path), r]));
  const networks = new Map(current.privateNetworks.map((n) => [networkKey(n.tunnel, n.cidr, n.virtualNetworkId), n]));
  const named = new Set<string>();
  for (const t of state.tunnels) {
    for (const r of t.routes) {
      const key = routeKey(t.id, r.hostname, r.path);
      named.add(key);
      const have = routes.get(key);
      const label = `route ${where(r.hostname, r.path)} (tunnel ${t.id})`;
      if (!have) {
        const body = { tunnel: t.id, ...r };
        late.push({
          kind: 'route',
          op: 'create',
          label,
          change: { action: 'route.create', route: body },
          request: { method: 'POST', path: 'v1/routes', body },
        });
        continue;
      }
      const { patch, fields } = changed(stateRouteOf(have), {
        origin: r.origin,
        originRequest: r.originRequest,
        dns: r.dns,
        access: r.access ?? null,
      });
      if (fields.length > 0) {
        late.push({
          kind: 'route',
          op: 'update',
          label,
          change: { action: 'route.update', id: have.id, route: patch },
          request: { method: 'PATCH', path: `v1/routes/${have.id}`, body: patch, ifMatch: have.etag },
          fields,
        });
      }
    }
    for (const n of t.privateNetworks) {
      const key = networkKey(t.id, n.cidr, n.virtualNetworkId);
      named.add(key);
      const have = networks.get(key);
      const label = `private network ${n.cidr}${n.virtualNetworkId ? ` in ${n.virtualNetworkId}` : ''} (tunnel ${t.id})`;
      if (!have) {
        const body = { tunnel: t.id, ...n };
        late.push({
          kind: 'privateNetwork',
          op: 'create',
          label,
          change: { action: 'privateNetwork.create', privateNetwork: body },
          request: { method: 'POST', path: 'v1/private-networks', body },
        });
      } else if (have.comment !== n.comment) {
        const patch = { comment: n.comment };
        late.push({
          kind: 'privateNetwork',
          op: 'update',
          label,
          change: { action: 'privateNetwork.update', id: have.id, privateNetwork: patch },
          request: { method: 'PATCH', path: `v1/private-networks/${have.id}`, body: patch, ifMatch: have.etag },
          fields: [{ field: 'comment', before: have.comment, after: n.comment }],
        });
      }
    }
  }
  // Children of tunnels the file keeps; those of a pruned tunnel go with it (cascade).
  for (const r of current.routes) {
    if (!namedTunnels.has(r.tunnel) || named.has(routeKey(r.tunnel, r.hostname, r.path))) continue;
    const label = `route ${where(r.hostname, r.path)} (tunnel ${r.tunnel})`;
    if (!prune) unnamed.push(label);
    else deletes.push(deleteStep('route', label, r));
  }
  for (const n of current.privateNetworks) {
    if (!namedTunnels.has(n.tunnel) || named.has(networkKey(n.tunnel, n.cidr, n.virtualNetworkId))) continue;
    const label = `private network ${n.cidr} (tunnel ${n.tunnel})`;
    if (!prune) unnamed.push(label);
    else deletes.push(deleteStep('privateNetwork', label, n));
  }

  const entries = new Map(current.splitTunnel.map((e) => [entryKey(e), e]));
  const namedEntries = new Set<string>();
  for (const e of state.splitTunnel) {
    const key = entryKey(e);
    namedEntries.add(key);
    const have = entries.get(key);
    const label = `split-tunnel ${e.mode} ${e.address ?? e.host ?? ''} (profile ${e.profile})`;
    if (!have) {
      late.push({
        kind: 'splitTunnel',
        op: 'create',
        label,
        change: { action: 'splitTunnel.create', splitTunnel: e },
        request: { method: 'POST', path: 'v1/split-tunnel', body: e },
      });
    } else if (have.owner === 'edgeplane' && have.description !== e.description) {
      const patch = { description: e.description };
      late.push({
        kind: 'splitTunnel',
        op: 'update',
        label,
        change: { action: 'splitTunnel.update', id: have.id, splitTunnel: patch },
        request: { method: 'PATCH', path: `v1/split-tunnel/${have.id}`, body: patch, ifMatch: have.etag },
        fields: [{ field: 'description', before: have.description, after: e.description }],
      });
    }
  }
  if (present.has('splitTunnel')) {
    for (const have of current.splitTunnel) {
      if (have.owner !== 'edgeplane' || namedEntries.has(entryKey(have))) continue;
      const label = `split-tunnel ${have.mode} ${have.address ?? have.host ?? ''} (profile ${have.profile})`;
      if (!prune) unnamed.push(label);
      else deletes.push(deleteStep('splitTunnel', label, have));
    }
  }
  // Inference backends first (ML backends name them), deleted last (after the ML backends that used them moved or went).
  const backendDeletes: Step[] = [];
  const backendSteps: Step[] = [];
  const backends = new Map(current.inferenceBackends.map((b) => [b.id, b]));
  for (const [i, b] of state.inferenceBackends.entries()) {
    const have = backends.get(b.id);
    const label = `inference backend ${b.id}`;
    const at = `inferenceBackends[${i}].credentials`;
    const credentials = b.credentials ? credentialsBody(b.credentials, at, baseDir) : null;
    const { credentials: _c, ...plain } = b;
    if (!have) {
      const body = { ...plain, credentials };
      backendSteps.push({
        kind: 'inferenceBackend',
        op: 'create',
        label,
        change: { action: 'inferenceBackend.create', inferenceBackend: body } as PlanChange,
        request: { method: 'POST', path: 'v1/inference/backends', body },
      });
      continue;
    }
    const { id: _id, ...wanted } = plain;
    const { patch, fields } = changed<Record<string, unknown>>(have, wanted);
    const kind = have.credentials?.type ?? null;
    if ((b.credentials?.type ?? null) !== kind || (options.updateSecrets && b.credentials)) {
      patch.credentials = credentials;
      fields.push({ field: 'credentials', before: have.credentials, after: credentials });
    }
    if (fields.length > 0) {
      backendSteps.push({
        kind: 'inferenceBackend',
        op: 'update',
        label,
        change: { action: 'inferenceBackend.update', id: b.id, inferenceBackend: patch } as PlanChange,
        request: { method: 'PATCH', path: `v1/inference/backends/${b.id}`, body: patch, ifMatch: have.etag },
        fields,
      });
    }
  }
  // There is one default backend at a time: the change that lets go of it goes before the one that takes it.
  const takesDefault = (step: Step) => ((step.request.body as { default?: boolean } | undefined)?.default === true ? 1 : 0);
  early.push(...backendSteps.sort((a, b) => takesDefault(a) - takesDefault(b)));
  if (present.has('inferenceBackends')) {
    const namedBackends = new Set(state.inferenceBackends.map((b) => b.id));
    for (const have of current.inferenceBackends) {
      if (namedBackends.has(have.id)) continue;
      const label = `inference backend ${have.id}`;
      if (!prune) unnamed.push(label);
      else backendDeletes.push(deleteStep('inferenceBackend', label, have));
    }
  }

  const mls = new Map(current.mlBackends.map((m) => [m.id, m]));
  for (const m of state.mlBackends) {
    const have = mls.get(m.id);
    const label = `ML backend ${m.id} (inference backend ${m.backend})`;
    if (!have) {
      late.push({
        kind: 'mlBackend',
        op: 'create',
        label,
        change: { action: 'mlBackend.create', mlBackend: m },
        request: { method: 'POST', path: 'v1/ml-backends', body: m },
      });
      continue;
    }
    const { id: _id, ...wanted } = m;
    const { patch, fields } = changed(have, wanted);
    if (fields.length > 0) {
      late.push({
        kind: 'mlBackend',
        op: 'update',
        label,
        change: { action: 'mlBackend.update', id: m.id, mlBackend: patch },
        request: { method: 'PATCH', path: `v1/ml-backends/${m.id}`, body: patch, ifMatch: have.etag },
        fields,
      });
    }
  }
  if (present.has('mlBackends')) {
    const namedMls = new Set(state.mlBackends.map((m) => m.id));
    for (const have of current.mlBackends) {
      if (namedMls.has(have.id)) continue;
      const label = `ML backend ${have.id} (inference backend ${have.backend})`;
      if (!prune) unnamed.push(label);
      else deletes.push(deleteStep('mlBackend', label, have));
    }
  }

  // Workloads: after the tunnels their routes use; the file owns the workloads of the clusters it lists.
  const workloads = new Map(current.workloads.map((w) => [w.id, w]));
  for (const [i, w] of state.workloads.entries()) {
    const have = workloads.get(w.id);
    const label = `workload ${w.id} (cluster ${w.cluster}, namespace ${w.namespace})`;
    const env = envBody(w, i, baseDir);
    if (!have) {
      const body = { ...w, env };
      late.push({
        kind: 'workload',
        op: 'create',
        label,
        change: { action: 'workload.create', workload: body } as PlanChange,
        request: { method: 'POST', path: 'v1/workloads', body },
      });
      continue;
    }
    if (have.cluster !== w.cluster || have.namespace !== w.namespace) {
      const field = have.cluster !== w.cluster ? 'cluster' : 'namespace';
      problems.push({
        path: `workloads[${i}].${field}`,
        message: `workload "${w.id}" exists in cluster "${have.cluster}", namespace "${have.namespace}"; a workload's cluster and namespace are fixed once created (delete it and create another)`,
      });
      continue;
    }
    const shownBefore = { ...have, command: have.command ?? null, args: have.args ?? null };
    const { patch, fields } = changed<Record<string, unknown>>(shownBefore, {
      image: w.image,
      command: w.command ?? null,
      args: w.args ?? null,
      ports: w.ports,
      replicas: w.replicas,
      resources: w.resources,
      healthCheck: w.healthCheck,
      volumes: w.volumes,
      stateful: w.stateful,
      serviceType: w.serviceType,
      labels: w.labels,
      annotations: w.annotations,
      route: w.route,
    });
    const hasSecrets = Object.values(env).some((v) => typeof v === 'object' && 'secret' in v);
    if (!same(have.env, envAsShown(w, have.env)) || (options.updateSecrets && hasSecrets)) {
      // PATCH replaces the whole env map, so every variable is sent, secrets with their current values.
      patch.env = env;
      fields.push({ field: 'env', before: have.env, after: env });
    }
    if (fields.length > 0) {
      late.push({
        kind: 'workload',
        op: 'update',
        label,
        change: { action: 'workload.update', id: w.id, workload: patch } as PlanChange,
        request: { method: 'PATCH', path: `v1/workloads/${w.id}`, body: patch, ifMatch: have.etag },
        fields,
      });
    }
  }
  const namedWorkloads = new Set(state.workloads.map((w) => w.id));
  for (const have of current.workloads) {
    if (!namedClusters.has(have.cluster) || namedWorkloads.has(have.id)) continue;
    const label = `workload ${have.id} (cluster ${have.cluster}, namespace ${have.namespace})`;
    if (!prune) unnamed.push(label);
    else deletes.push(deleteStep('workload', label, have));
  }
  return { steps: [...early, ...deletes, ...tunnelDeletes, ...late, ...backendDeletes], unnamed, problems };
}
