import { asc, eq } from 'drizzle-orm';
import type { Db } from '../deps';
import { clusters, privateNetworks, routes, tunnels } from './schema';

export type ClusterRow = typeof clusters.$inferSelect;
export type TunnelRow = typeof tunnels.$inferSelect;
export type RouteRow = typeof routes.$inferSelect;
export type PrivateNetworkRow = typeof privateNetworks.$inferSelect;

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
});

/** A row a write puts (inserts or replaces) or deletes, as a plan stages it. */
export type RowChange =
  | { table: 'tunnels'; put: TunnelRow }
  | { table: 'tunnels'; delete: string }
  | { table: 'routes'; put: RouteRow }
  | { table: 'routes'; delete: string }
  | { table: 'privateNetworks'; delete: string };

type Staged<T> = Map<string, T | null>;

/** Rows of `base` whose id is not staged, plus the staged rows that match, by id. */
function merge<T extends { id: string }>(base: T[], staged: Staged<T>, matches: (row: T) => boolean): T[] {
  const kept = base.filter((row) => !staged.has(row.id));
  for (const row of staged.values()) if (row && matches(row)) kept.push(row);
  return kept.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** A view of the store with planned row changes laid over it; nothing is written anywhere. */
export class StagedView implements StoreView {
  private readonly tunnels: Staged<TunnelRow> = new Map();
  private readonly routes: Staged<RouteRow> = new Map();
  private readonly networks: Staged<PrivateNetworkRow> = new Map();

  constructor(private readonly base: StoreView) {}

  /** Lays the row changes of one accepted write over the view. */
  apply(changes: RowChange[]): void {
    for (const change of changes) {
      const staged: Staged<{ id: string }> =
        change.table === 'tunnels' ? this.tunnels : change.table === 'routes' ? this.routes : this.networks;
      if ('put' in change) staged.set(change.put.id, change.put);
      else staged.set(change.delete, null);
    }
  }

  cluster(id: string): Promise<ClusterRow | undefined> {
    return this.base.cluster(id);
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
}
