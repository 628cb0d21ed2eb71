import { and, asc, eq, ne } from 'drizzle-orm';
import type { Db } from '../deps';
import {
  clusters,
  inferenceBackends,
  mlBackends,
  privateNetworks,
  routes,
  splitTunnelEntries,
  tunnels,
  workloadRoutes,
  workloads,
} from './schema';

export type ClusterRow = typeof clusters.$inferSelect;
export type TunnelRow = typeof tunnels.$inferSelect;
export type RouteRow = typeof routes.$inferSelect;
export type PrivateNetworkRow = typeof privateNetworks.$inferSelect;
export type SplitTunnelRow = typeof splitTunnelEntries.$inferSelect;
export type WorkloadRow = typeof workloads.$inferSelect;
export type InferenceBackendRow = typeof inferenceBackends.$inferSelect;
export type MlBackendRow = typeof mlBackends.$inferSelect;

/** The key that makes a split-tunnel entry unique: one target per account, profile and mode. */
export interface SplitTunnelKey {
  account: string;
  profile: string;
  mode: 'include' | 'exclude';
  target: string;
}

/**
 * The reads a tunnel or route write decides on. A write reads them from D1 (`storeView`); a plan reads them through a
 * `StagedView`, which adds the changes planned before it, so both run the very same validation code.
 */
export interface StoreView {
  cluster(id: string): Promise<ClusterRow | undefined>;
  tunnel(id: string): Promise<TunnelRow | undefined>;
  tunnelByCloudflareId(cloudflareTunnelId: string): Promise<TunnelRow | undefined>;
  tunnelsOfCluster(clusterId: string): Promise<TunnelRow[]>;
  route(id: string): Promise<RouteRow | undefined>;
  routesWithHostname(hostname: string): Promise<RouteRow[]>;
  routesOfTunnel(tunnelId: string): Promise<RouteRow[]>;
  privateNetworksOfTunnel(tunnelId: string): Promise<PrivateNetworkRow[]>;
  privateNetwork(id: string): Promise<PrivateNetworkRow | undefined>;
  /** Every private network: a new CIDR is checked for overlaps against all of them. */
  allPrivateNetworks(): Promise<PrivateNetworkRow[]>;
  splitTunnelEntry(id: string): Promise<SplitTunnelRow | undefined>;
  splitTunnelEntryByKey(key: SplitTunnelKey): Promise<SplitTunnelRow | undefined>;
  workload(id: string): Promise<WorkloadRow | undefined>;
  workloadsOfCluster(clusterId: string): Promise<WorkloadRow[]>;
  /**
   * Ids of the routes a workload owns besides its own (the compose import's): not staged, since no planned change makes
   * them; a caller reads each through `route` to see the planned deletes.
   */
  ownedRouteIds(workloadId: string): Promise<string[]>;
  inferenceBackend(id: string): Promise<InferenceBackendRow | undefined>;
  /** The default inference backend other than `id`, if there is one (there can be only one default). */
  otherDefaultInferenceBackend(id: string): Promise<InferenceBackendRow | undefined>;
  mlBackend(id: string): Promise<MlBackendRow | undefined>;
  mlBackendsOfBackend(backendId: string): Promise<MlBackendRow[]>;
}

/** The store as it is now. */
export const storeView = (db: Db): StoreView => ({
  cluster: (id) => db.query.clusters.findFirst({ where: eq(clusters.id, id) }),
  tunnel: (id) => db.query.tunnels.findFirst({ where: eq(tunnels.id, id) }),
  tunnelByCloudflareId: (cfId) => db.query.tunnels.findFirst({ where: eq(tunnels.cloudflareTunnelId, cfId) }),
  tunnelsOfCluster: (clusterId) => db.select().from(tunnels).where(eq(tunnels.clusterId, clusterId)).orderBy(asc(tunnels.id)),
  route: (id) => db.query.routes.findFirst({ where: eq(routes.id, id) }),
  routesWithHostname: (hostname) => db.select().from(routes).where(eq(routes.hostname, hostname)).orderBy(asc(routes.id)),
  routesOfTunnel: (tunnelId) => db.select().from(routes).where(eq(routes.tunnelId, tunnelId)).orderBy(asc(routes.id)),
  privateNetworksOfTunnel: (tunnelId) =>
    db.select().from(privateNetworks).where(eq(privateNetworks.tunnelId, tunnelId)).orderBy(asc(privateNetworks.id)),
  privateNetwork: (id) => db.query.privateNetworks.findFirst({ where: eq(privateNetworks.id, id) }),
  allPrivateNetworks: () => db.select().from(privateNetworks).orderBy(asc(privateNetworks.id)),
  splitTunnelEntry: (id) => db.query.splitTunnelEntries.findFirst({ where: eq(splitTunnelEntries.id, id) }),
  splitTunnelEntryByKey: (key) =>
    db.query.splitTunnelEntries.findFirst({
      where: and(
        eq(splitTunnelEntries.account, key.account),
        eq(splitTunnelEntries.profile, key.profile),
        eq(splitTunnelEntries.mode, key.mode),
        eq(splitTunnelEntries.target, key.target),
      ),
    }),
  workload: (id) => db.query.workloads.findFirst({ where: eq(workloads.id, id) }),
  workloadsOfCluster: (clusterId) => db.select().from(workloads).where(eq(workloads.clusterId, clusterId)).orderBy(asc(workloads.id)),
  ownedRouteIds: async (workloadId) =>
    (
      await db
        .select({ id: workloadRoutes.routeId })
        .from(workloadRoutes)
        .where(eq(workloadRoutes.workloadId, workloadId))
        .orderBy(asc(workloadRoutes.routeId))
    ).map((r) => r.id),
  inferenceBackend: (id) => db.query.inferenceBackends.findFirst({ where: eq(inferenceBackends.id, id) }),
  otherDefaultInferenceBackend: (id) =>
    db.query.inferenceBackends.findFirst({ where: and(eq(inferenceBackends.isDefault, true), ne(inferenceBackends.id, id)) }),
  mlBackend: (id) => db.query.mlBackends.findFirst({ where: eq(mlBackends.id, id) }),
  mlBackendsOfBackend: (backendId) => db.select().from(mlBackends).where(eq(mlBackends.backendId, backendId)).orderBy(asc(mlBackends.id)),
});

/** A row a write puts (inserts or replaces) or deletes, as a plan stages it. */
export type RowChange =
  | { table: 'clusters'; put: ClusterRow }
  | { table: 'clusters'; delete: string }
  | { table: 'tunnels'; put: TunnelRow }
  | { table: 'tunnels'; delete: string }
  | { table: 'routes'; put: RouteRow }
  | { table: 'routes'; delete: string }
  | { table: 'privateNetworks'; put: PrivateNetworkRow }
  | { table: 'privateNetworks'; delete: string }
  | { table: 'splitTunnelEntries'; put: SplitTunnelRow }
  | { table: 'splitTunnelEntries'; delete: string }
  | { table: 'workloads'; put: WorkloadRow }
  | { table: 'workloads'; delete: string }
  | { table: 'inferenceBackends'; put: InferenceBackendRow }
  | { table: 'inferenceBackends'; delete: string }
  | { table: 'mlBackends'; put: MlBackendRow }
  | { table: 'mlBackends'; delete: string };

type Staged<T> = Map<string, T | null>;

/** Rows of `base` whose id is not staged, plus the staged rows that match, by id. */
function merge<T extends { id: string }>(base: T[], staged: Staged<T>, matches: (row: T) => boolean): T[] {
  const kept = base.filter((row) => !staged.has(row.id));
  for (const row of staged.values()) if (row && matches(row)) kept.push(row);
  return kept.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** A view of the store with planned row changes laid over it; nothing is written anywhere. */
export class StagedView implements StoreView {
  private readonly clusters: Staged<ClusterRow> = new Map();
  private readonly tunnels: Staged<TunnelRow> = new Map();
  private readonly routes: Staged<RouteRow> = new Map();
  private readonly networks: Staged<PrivateNetworkRow> = new Map();
  private readonly entries: Staged<SplitTunnelRow> = new Map();
  private readonly workloads: Staged<WorkloadRow> = new Map();
  private readonly inferenceBackends: Staged<InferenceBackendRow> = new Map();
  private readonly mlBackends: Staged<MlBackendRow> = new Map();

  constructor(private readonly base: StoreView) {}

  /** Lays the row changes of one accepted write over the view. */
  apply(changes: RowChange[]): void {
    for (const change of changes) {
      const staged: Staged<{ id: string }> = {
        clusters: this.clusters,
        tunnels: this.tunnels,
        routes: this.routes,
        privateNetworks: this.networks,
        splitTunnelEntries: this.entries,
        workloads: this.workloads,
        inferenceBackends: this.inferenceBackends,
        mlBackends: this.mlBackends,
      }[change.table];
      if ('put' in change) staged.set(change.put.id, change.put);
      else staged.set(change.delete, null);
    }
  }

  async cluster(id: string): Promise<ClusterRow | undefined> {
    return this.clusters.has(id) ? (this.clusters.get(id) ?? undefined) : this.base.cluster(id);
  }

  async tunnel(id: string): Promise<TunnelRow | undefined> {
    return this.tunnels.has(id) ? (this.tunnels.get(id) ?? undefined) : this.base.tunnel(id);
  }

  async tunnelByCloudflareId(cloudflareTunnelId: string): Promise<TunnelRow | undefined> {
    for (const row of this.tunnels.values()) if (row?.cloudflareTunnelId === cloudflareTunnelId) return row;
    const found = await this.base.tunnelByCloudflareId(cloudflareTunnelId);
    return found && !this.tunnels.has(found.id) ? found : undefined;
  }

  async tunnelsOfCluster(clusterId: string): Promise<TunnelRow[]> {
    return merge(await this.base.tunnelsOfCluster(clusterId), this.tunnels, (t) => t.clusterId === clusterId);
  }

  async route(id: string): Promise<RouteRow | undefined> {
    return this.routes.has(id) ? (this.routes.get(id) ?? undefined) : this.base.route(id);
  }

  async routesWithHostname(hostname: string): Promise<RouteRow[]> {
    return merge(await this.base.routesWithHostname(hostname), this.routes, (r) => r.hostname === hostname);
  }

  async routesOfTunnel(tunnelId: string): Promise<RouteRow[]> {
    return merge(await this.base.routesOfTunnel(tunnelId), this.routes, (r) => r.tunnelId === tunnelId);
  }

  async privateNetworksOfTunnel(tunnelId: string): Promise<PrivateNetworkRow[]> {
    return merge(await this.base.privateNetworksOfTunnel(tunnelId), this.networks, (n) => n.tunnelId === tunnelId);
  }

  async privateNetwork(id: string): Promise<PrivateNetworkRow | undefined> {
    return this.networks.has(id) ? (this.networks.get(id) ?? undefined) : this.base.privateNetwork(id);
  }

  async allPrivateNetworks(): Promise<PrivateNetworkRow[]> {
    return merge(await this.base.allPrivateNetworks(), this.networks, () => true);
  }

  async splitTunnelEntry(id: string): Promise<SplitTunnelRow | undefined> {
    return this.entries.has(id) ? (this.entries.get(id) ?? undefined) : this.base.splitTunnelEntry(id);
  }

  async splitTunnelEntryByKey(key: SplitTunnelKey): Promise<SplitTunnelRow | undefined> {
    const matches = (e: SplitTunnelRow) =>
      e.account === key.account && e.profile === key.profile && e.mode === key.mode && e.target === key.target;
    for (const row of this.entries.values()) if (row && matches(row)) return row;
    const found = await this.base.splitTunnelEntryByKey(key);
    return found && !this.entries.has(found.id) ? found : undefined;
  }

  async workload(id: string): Promise<WorkloadRow | undefined> {
    return this.workloads.has(id) ? (this.workloads.get(id) ?? undefined) : this.base.workload(id);
  }

  async workloadsOfCluster(clusterId: string): Promise<WorkloadRow[]> {
    return merge(await this.base.workloadsOfCluster(clusterId), this.workloads, (w) => w.clusterId === clusterId);
  }

  ownedRouteIds(workloadId: string): Promise<string[]> {
    return this.base.ownedRouteIds(workloadId);
  }

  async inferenceBackend(id: string): Promise<InferenceBackendRow | undefined> {
    return this.inferenceBackends.has(id) ? (this.inferenceBackends.get(id) ?? undefined) : this.base.inferenceBackend(id);
  }

  async otherDefaultInferenceBackend(id: string): Promise<InferenceBackendRow | undefined> {
    for (const row of this.inferenceBackends.values()) if (row?.isDefault && row.id !== id) return row;
    const found = await this.base.otherDefaultInferenceBackend(id);
    return found && !this.inferenceBackends.has(found.id) ? found : undefined;
  }

  async mlBackend(id: string): Promise<MlBackendRow | undefined> {
    return this.mlBackends.has(id) ? (this.mlBackends.get(id) ?? undefined) : this.base.mlBackend(id);
  }

  async mlBackendsOfBackend(backendId: string): Promise<MlBackendRow[]> {
    return merge(await this.base.mlBackendsOfBackend(backendId), this.mlBackends, (m) => m.backendId === backendId);
  }
}
