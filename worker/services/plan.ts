import { eq } from 'drizzle-orm';
import type { Route, RouteCreate, Tunnel, TunnelCreate } from '../../src/shared/api';
import {
  type BundleDiff,
  compileClusterBundle,
  compileTunnelConfig,
  type DesiredCluster,
  type DesiredTunnel,
  diffBundles,
  diffTunnelConfig,
  type TunnelConfig,
  type TunnelConfigDiff,
} from '../../src/shared/compiler';
import { clusters, routes, tunnels } from '../db/schema';
import { inList } from '../db/json-list';
import type { Deps } from '../deps';
import { AppError } from '../errors';
import { loadDesiredCluster } from './desired-state';
import { newTunnelRow, toApiTunnel } from './tunnels';

/** Fields a route change sets; absent fields keep their value, `path: null` / `access: null` remove them. */
export type RoutePatch = Partial<Pick<RouteCreate, 'hostname' | 'origin' | 'originRequest' | 'dns'>> & {
  path?: string | null;
  access?: RouteCreate['access'] | null;
};

/** Fields a tunnel change sets; absent fields keep their value. */
export type TunnelPatch = Partial<Pick<TunnelCreate, 'name' | 'placement' | 'mode' | 'originRequest' | 'catchAll' | 'driftPolicy'>>;

/** One proposed change: the same bodies as the corresponding POST / PATCH / DELETE. */
export type PlanChange =
  | { action: 'route.create'; route: RouteCreate }
  | { action: 'route.update'; id: string; route: RoutePatch }
  | { action: 'route.delete'; id: string }
  | { action: 'tunnel.create'; tunnel: TunnelCreate }
  | { action: 'tunnel.update'; id: string; tunnel: TunnelPatch }
  | { action: 'tunnel.delete'; id: string; cascade: boolean };

/** What a set of changes would do to each affected tunnel's remote config and each affected cluster's objects. */
export interface PlanReport {
  changes: number;
  tunnels: { id: string; cluster: string; status: 'created' | 'deleted' | 'changed' | 'unchanged'; diff: TunnelConfigDiff }[];
  clusters: { id: string; revision: number; diff: Omit<BundleDiff, 'hash'> }[];
}

/** A tunnel being deleted is left with a catch-all only config before it goes (as the sync does). */
const DELETED_CONFIG: TunnelConfig = { ingress: [{ service: 'http_status:404' }] };

/** A failed change, named by its index so the caller knows which one to fix. */
const invalid = (index: number, field: string, message: string): AppError =>
  new AppError('validation_failed', `changes[${index}]: ${message}`, {
    details: [{ path: `body.changes.${index}${field ? `.${field}` : ''}`, message }],
  });

/** The clusters a set of changes touches (every cluster when there are none). */
async function affectedClusters(deps: Deps, changes: PlanChange[]): Promise<string[]> {
  if (changes.length === 0) return (await deps.db.select({ id: clusters.id }).from(clusters).orderBy(clusters.id)).map((c) => c.id);
  const tunnelIds = new Set<string>();
  const routeIds = new Set<string>();
  const ids = new Set<string>();
  for (const change of changes) {
    if (change.action === 'route.create') tunnelIds.add(change.route.tunnel);
    else if (change.action === 'route.update' || change.action === 'route.delete') routeIds.add(change.id);
    else if (change.action === 'tunnel.create') ids.add(change.tunnel.cluster);
    else tunnelIds.add(change.id);
  }
  if (routeIds.size > 0) {
    for (const r of await deps.db
      .select({ tunnelId: routes.tunnelId })
      .from(routes)
      .where(inList(routes.id, [...routeIds])))
      tunnelIds.add(r.tunnelId);
  }
  if (tunnelIds.size > 0) {
    for (const t of await deps.db
      .select({ clusterId: tunnels.clusterId })
      .from(tunnels)
      .where(inList(tunnels.id, [...tunnelIds])))
      ids.add(t.clusterId);
  }
  const existing =
    ids.size > 0
      ? await deps.db
          .select({ id: clusters.id })
          .from(clusters)
          .where(inList(clusters.id, [...ids]))
      : [];
  return existing.map((c) => c.id).sort();
}

interface Model {
  clusters: Map<string, DesiredCluster & { revision: number }>;
  tunnels: Map<string, DesiredTunnel>;
}

function findRoute(model: Model, id: string): { owner: DesiredTunnel; route: Route } | undefined {
  for (const owner of model.tunnels.values()) {
    const route = owner.routes.find((r) => r.id === id);
    if (route) return { owner, route };
  }
  return undefined;
}

async function checkHostnameFree(
  deps: Deps,
  model: Model,
  index: number,
  tunnelId: string,
  hostname: string,
  path: string | null,
  selfId?: string,
): Promise<void> {
  for (const t of model.tunnels.values()) {
    for (const r of t.routes) {
      if (r.id === selfId || r.hostname !== hostname) continue;
      if (t.tunnel.id !== tunnelId)
        throw invalid(
          index,
          'route.hostname',
          `hostname "${hostname}" is routed through tunnel "${t.tunnel.id}" (route ${r.id}); a hostname can point at one tunnel only`,
        );
      if ((r.path ?? null) === path)
        throw invalid(index, 'route.path', `${hostname}${path ?? ' (no path)'} is already routed on tunnel "${tunnelId}" by route ${r.id}`);
    }
  }
  // Tunnels of clusters outside the plan are not in the model; ask the store about them.
  const outside = (
    await deps.db.select({ id: routes.id, tunnelId: routes.tunnelId }).from(routes).where(eq(routes.hostname, hostname))
  ).find((r) => !model.tunnels.has(r.tunnelId));
  if (outside)
    throw invalid(index, 'route.hostname', `hostname "${hostname}" is routed through tunnel "${outside.tunnelId}" (route ${outside.id})`);
}

async function apply(deps: Deps, model: Model, change: PlanChange, index: number): Promise<void> {
  const at = deps.now().toISOString();
  const meta = { etag: '', createdAt: at, updatedAt: at };
  switch (change.action) {
    case 'route.create': {
      const owner = model.tunnels.get(change.route.tunnel);
      if (!owner) throw invalid(index, 'route.tunnel', `tunnel "${change.route.tunnel}" does not exist`);
      const path = change.route.path ?? null;
      await checkHostnameFree(deps, model, index, owner.tunnel.id, change.route.hostname, path);
      const { tunnel: _tunnel, ...fields } = change.route;
      owner.routes.push({ id: `planned-${index}`, tunnel: owner.tunnel.id, ...fields, path, access: change.route.access ?? null, ...meta });
      return;
    }
    case 'route.update': {
      const found = findRoute(model, change.id);
      if (!found) throw invalid(index, 'id', `route "${change.id}" does not exist`);
      const { route } = found;
      const input = change.route;
      const next: Route = {
        ...route,
        hostname: input.hostname ?? route.hostname,
        path: input.path === undefined ? route.path : input.path,
        origin: input.origin ?? route.origin,
        originRequest: input.originRequest ?? route.originRequest,
        dns: input.dns ?? route.dns,
        access: input.access === undefined ? route.access : input.access,
      };
      if (next.hostname !== route.hostname || next.path !== route.path)
        await checkHostnameFree(deps, model, index, found.owner.tunnel.id, next.hostname, next.path, route.id);
      found.owner.routes = found.owner.routes.map((r) => (r.id === route.id ? next : r));
      return;
    }
    case 'route.delete': {
      const found = findRoute(model, change.id);
      if (!found) throw invalid(index, 'id', `route "${change.id}" does not exist`);
      found.owner.routes = found.owner.routes.filter((r) => r.id !== change.id);
      return;
    }
    case 'tunnel.create': {
      const input = change.tunnel;
      const cluster = model.clusters.get(input.cluster);
      if (!cluster) throw invalid(index, 'tunnel.cluster', `cluster "${input.cluster}" does not exist`);
      const taken =
        model.tunnels.has(input.id) || (await deps.db.query.tunnels.findFirst({ where: eq(tunnels.id, input.id) })) !== undefined;
      if (taken) throw invalid(index, 'tunnel.id', `tunnel "${input.id}" already exists`);
      const tunnel: Tunnel = { ...toApiTunnel(newTunnelRow(input, meta.createdAt), false), ...meta };
      const desired: DesiredTunnel = { tunnel, routes: [], privateNetworks: [] };
      model.tunnels.set(tunnel.id, desired);
      cluster.tunnels.push(desired);
      return;
    }
    case 'tunnel.update': {
      const desired = model.tunnels.get(change.id);
      if (!desired) throw invalid(index, 'id', `tunnel "${change.id}" does not exist`);
      const input = change.tunnel;
      desired.tunnel = {
        ...desired.tunnel,
        ...(input.name !== undefined ? { name: input.name } : {}),
        ...(input.placement !== undefined ? { placement: input.placement } : {}),
        ...(input.mode !== undefined ? { mode: input.mode } : {}),
        ...(input.originRequest !== undefined ? { originRequest: input.originRequest } : {}),
        ...(input.catchAll !== undefined ? { catchAll: input.catchAll } : {}),
        ...(input.driftPolicy !== undefined ? { driftPolicy: input.driftPolicy } : {}),
      };
      return;
    }
    case 'tunnel.delete': {
      const desired = model.tunnels.get(change.id);
      if (!desired) throw invalid(index, 'id', `tunnel "${change.id}" does not exist`);
      if (!change.cascade && (desired.routes.length > 0 || desired.privateNetworks.length > 0)) {
        throw invalid(
          index,
          'cascade',
          `tunnel "${change.id}" still has ${desired.routes.length} route(s) and ${desired.privateNetworks.length} private network(s); delete them first or set "cascade": true`,
        );
      }
      model.tunnels.delete(change.id);
      const cluster = model.clusters.get(desired.tunnel.cluster);
      if (cluster) cluster.tunnels = cluster.tunnels.filter((t) => t.tunnel.id !== change.id);
      return;
    }
  }
}

function snapshot(model: Model): {
  configs: Map<string, { cluster: string; config: TunnelConfig }>;
  bundles: Map<string, ReturnType<typeof compileClusterBundle>>;
} {
  const configs = new Map<string, { cluster: string; config: TunnelConfig }>();
  for (const [id, desired] of model.tunnels) configs.set(id, { cluster: desired.tunnel.cluster, config: compileTunnelConfig(desired) });
  const bundles = new Map<string, ReturnType<typeof compileClusterBundle>>();
  for (const [id, cluster] of model.clusters) bundles.set(id, compileClusterBundle(cluster));
  return { configs, bundles };
}

/**
 * Computes what proposed changes would do, in memory: per affected tunnel the remote-config diff and per affected
 * cluster the objects created, changed and deleted. "Before" is the current desired state, not the live remote or
 * cluster state (drift between those is the sync's and the agent's report). Nothing is written; tokens are not read.
 */
export async function planChanges(deps: Deps, changes: PlanChange[]): Promise<PlanReport> {
  const model: Model = { clusters: new Map(), tunnels: new Map() };
  for (const id of await affectedClusters(deps, changes)) {
    const cluster = await loadDesiredCluster(deps, id, { withTokens: false });
    model.clusters.set(id, cluster);
    for (const t of cluster.tunnels) model.tunnels.set(t.tunnel.id, t);
  }
  const before = snapshot(model);
  // Changes are applied to copies: the loaded state stays the "before".
  const next: Model = { clusters: new Map(), tunnels: new Map() };
  for (const [id, cluster] of model.clusters) {
    const copy = structuredClone(cluster);
    next.clusters.set(id, copy);
    for (const t of copy.tunnels) next.tunnels.set(t.tunnel.id, t);
  }
  for (const [index, change] of changes.entries()) await apply(deps, next, change, index);
  const after = snapshot(next);

  const tunnelIds = [...new Set([...before.configs.keys(), ...after.configs.keys()])].sort();
  const tunnelReports = tunnelIds.map((id) => {
    const was = before.configs.get(id);
    const now = after.configs.get(id);
    const diff = diffTunnelConfig(was?.config ?? null, now?.config ?? DELETED_CONFIG);
    const status = !was ? 'created' : !now ? 'deleted' : diff.noop ? 'unchanged' : 'changed';
    return { id, cluster: now?.cluster ?? was?.cluster ?? '', status, diff } as const;
  });
  const clusterReports = [...next.clusters.entries()].map(([id, cluster]) => {
    const bundle = after.bundles.get(id);
    const { hash: _hash, ...diff } = diffBundles(before.bundles.get(id) ?? null, bundle ?? { hash: '', objects: [] });
    return { id, revision: cluster.revision, diff };
  });
  return { changes: changes.length, tunnels: tunnelReports, clusters: clusterReports };
}
