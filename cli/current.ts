import type { Cluster, InferenceBackend, MlBackend, PrivateNetwork, Route, SplitTunnelEntry, Tunnel, Workload } from '../src/shared/api';
import type {
  StateCredentials,
  StateFile,
  StateInferenceBackend,
  StateMlBackend,
  StateTunnel,
  StateWorkload,
} from '../src/shared/state/schema';
import type { Client } from './client';

/** What the Worker holds now, as its list endpoints return it (each item with its ETag). */
export interface Current {
  clusters: Cluster[];
  tunnels: Tunnel[];
  routes: Route[];
  privateNetworks: PrivateNetwork[];
  splitTunnel: SplitTunnelEntry[];
  workloads: Workload[];
  inferenceBackends: InferenceBackend[];
  mlBackends: MlBackend[];
}

/**
 * Reads every resource the state file can describe. A route a workload made for itself (`workload.routeId`) belongs
 * to the workload, which creates and deletes it: it is left out, so the file neither exports nor prunes it.
 */
export async function readCurrent(client: Client): Promise<Current> {
  const [clusters, tunnels, routes, privateNetworks, splitTunnel, workloads, inferenceBackends, mlBackends] = await Promise.all([
    client.list<Cluster>('v1/clusters'),
    client.list<Tunnel>('v1/tunnels'),
    client.list<Route>('v1/routes'),
    client.list<PrivateNetwork>('v1/private-networks'),
    client.list<SplitTunnelEntry>('v1/split-tunnel'),
    client.list<Workload>('v1/workloads'),
    client.list<InferenceBackend>('v1/inference/backends'),
    client.list<MlBackend>('v1/ml-backends'),
  ]);
  const workloadRoutes = new Set(workloads.map((w) => w.routeId));
  return {
    clusters,
    tunnels,
    routes: routes.filter((r) => !workloadRoutes.has(r.id)),
    privateNetworks,
    splitTunnel,
    workloads,
    inferenceBackends,
    mlBackends,
  };
}

/** The route fields a state file holds (its tunnel is the enclosing one). */
export const stateRouteOf = (r: Route): StateTunnel['routes'][number] => ({
  hostname: r.hostname,
  ...(r.path ? { path: r.path } : {}),
  origin: r.origin,
  originRequest: r.originRequest,
  dns: r.dns,
  ...(r.access ? { access: r.access } : {}),
});

/** The environment variable an exported secret reference names: `EDGEPLANE_SECRET_<OBJECT>_<FIELD>`. */
export const placeholderEnv = (...parts: string[]): string =>
  ['EDGEPLANE_SECRET', ...parts]
    .join('_')
    .toUpperCase()
    .replace(/[^A-Z0-9_]/g, '_');

/** A workload as the state file holds it; each secret value becomes a reference to a placeholder variable. */
export const stateWorkloadOf = (w: Workload): StateWorkload => ({
  id: w.id,
  cluster: w.cluster,
  namespace: w.namespace,
  image: w.image,
  ...(w.command ? { command: w.command } : {}),
  ...(w.args ? { args: w.args } : {}),
  env: Object.fromEntries(
    Object.entries(w.env).map(([name, value]) => [
      name,
      typeof value === 'object' && 'secret' in value ? { secret: { env: placeholderEnv(w.id, name) } } : value,
    ]),
  ),
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

/**
 * Credentials as references to placeholder variables. The API says only which kind is set: for `headers` the header
 * names are unknown, so the export writes none (and says so).
 */
function credentialsOf(b: InferenceBackend): StateCredentials | null {
  switch (b.credentials?.type) {
    case undefined:
      return null;
    case 'access':
      return {
        type: 'access',
        clientId: { env: placeholderEnv(b.id, 'client_id') },
        clientSecret: { env: placeholderEnv(b.id, 'client_secret') },
      };
    case 'bearer':
      return { type: 'bearer', token: { env: placeholderEnv(b.id, 'token') } };
    case 'headers':
      return { type: 'headers', headers: {} };
  }
}

export const stateInferenceBackendOf = (b: InferenceBackend): StateInferenceBackend => ({
  id: b.id,
  upstreams: b.upstreams,
  models: b.models,
  default: b.default,
  balance: b.balance,
  credentials: credentialsOf(b),
  timeouts: b.timeouts,
  retry: b.retry,
  maxBodyBytes: b.maxBodyBytes,
});

export const stateMlBackendOf = (m: MlBackend): StateMlBackend => ({
  id: m.id,
  backend: m.backend,
  model: m.model,
  modelVersion: m.modelVersion,
  task: m.task,
  input: m.input,
  output: m.output,
  choices: m.choices,
  batch: m.batch,
  fromName: m.fromName,
  toName: m.toName,
});

/**
 * The current state as a state file that `plan` reports as no change. Foreign split-tunnel entries are left out (the
 * file never owns them), and so is `cloudflareTunnelId` (it only matters when a tunnel is created, to adopt one). Secret
 * values are never exported (the API never returns them): each is a reference to a placeholder environment variable.
 */
export function exportState(current: Current): StateFile {
  const byId = <T extends { id: string }>(a: T, b: T) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  return {
    version: 1,
    clusters: [...current.clusters]
      .sort(byId)
      .map((c) => ({ id: c.id, name: c.name, labels: c.labels, nodes: c.nodes, apiServerAddress: c.apiServerAddress })),
    tunnels: [...current.tunnels].sort(byId).map((t) => ({
      id: t.id,
      cluster: t.cluster,
      account: t.account,
      name: t.name,
      placement: t.placement,
      mode: t.mode,
      originRequest: t.originRequest,
      catchAll: t.catchAll,
      driftPolicy: t.driftPolicy,
      routes: current.routes
        .filter((r) => r.tunnel === t.id)
        .sort((a, b) => (`${a.hostname} ${a.path ?? ''}` < `${b.hostname} ${b.path ?? ''}` ? -1 : 1))
        .map(stateRouteOf),
      privateNetworks: current.privateNetworks
        .filter((n) => n.tunnel === t.id)
        .sort(byId)
        .map((n) => ({ cidr: n.cidr, ...(n.virtualNetworkId ? { virtualNetworkId: n.virtualNetworkId } : {}), comment: n.comment })),
    })),
    splitTunnel: current.splitTunnel
      .filter((e) => e.owner === 'edgeplane')
      .sort(byId)
      .map((e) => ({
        profile: e.profile,
        mode: e.mode,
        ...(e.address ? { address: e.address } : {}),
        ...(e.host ? { host: e.host } : {}),
        description: e.description,
      })),
    workloads: [...current.workloads].sort(byId).map(stateWorkloadOf),
    inferenceBackends: [...current.inferenceBackends].sort(byId).map(stateInferenceBackendOf),
    mlBackends: [...current.mlBackends].sort(byId).map(stateMlBackendOf),
  };
}
