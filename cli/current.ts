import type { Cluster, PrivateNetwork, Route, SplitTunnelEntry, Tunnel, Workload } from '../src/shared/api';
import type { StateFile, StateTunnel } from '../src/shared/state/schema';
import type { Client } from './client';

/** What the Worker holds now, as its list endpoints return it (each item with its ETag). */
export interface Current {
  clusters: Cluster[];
  tunnels: Tunnel[];
  routes: Route[];
  privateNetworks: PrivateNetwork[];
  splitTunnel: SplitTunnelEntry[];
}

/**
 * Reads every resource the state file can describe. A route a workload made for itself (`workload.routeId`) belongs
 * to the workload, which creates and deletes it: it is left out, so the file neither exports nor prunes it.
 */
export async function readCurrent(client: Client): Promise<Current> {
  const [clusters, tunnels, routes, privateNetworks, splitTunnel, workloads] = await Promise.all([
    client.list<Cluster>('v1/clusters'),
    client.list<Tunnel>('v1/tunnels'),
    client.list<Route>('v1/routes'),
    client.list<PrivateNetwork>('v1/private-networks'),
    client.list<SplitTunnelEntry>('v1/split-tunnel'),
    client.list<Workload>('v1/workloads'),
  ]);
  const workloadRoutes = new Set(workloads.map((w) => w.routeId));
  return { clusters, tunnels, routes: routes.filter((r) => !workloadRoutes.has(r.id)), privateNetworks, splitTunnel };
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

/**
 * The current state as a state file that `plan` reports as no change. Foreign split-tunnel entries are left out (the
 * file never owns them), and so is `cloudflareTunnelId` (it only matters when a tunnel is created, to adopt one).
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
  };
}
