import { and, eq } from 'drizzle-orm';
import type { Cluster, WarpAccess } from '../../src/shared/api';
import { inList } from '../db/json-list';
import { cfSync, clusters, privateNetworks, splitTunnelEntries, tunnels } from '../db/schema';
import type { Deps } from '../deps';
import { checkWarpPath, type WarpEntryFacts, type WarpTunnelFacts } from './warp-path';

type ClusterFacts = Pick<typeof clusters.$inferSelect, 'id' | 'apiServerAddress' | 'clusterCa'>;

/**
 * The WARP path of several clusters with five queries whatever their number (a page of the cluster list): their
 * tunnels, those tunnels' private networks and config sync state, and the profile's split-tunnel entries and include list sync state.
 */
export async function warpAccessOf(deps: Deps, rows: readonly ClusterFacts[], profile = 'default'): Promise<Map<string, WarpAccess>> {
  const result = new Map<string, WarpAccess>();
  if (rows.length === 0) return result;
  const tunnelRows = await deps.db
    .select({ id: tunnels.id, clusterId: tunnels.clusterId, account: tunnels.account, cloudflareTunnelId: tunnels.cloudflareTunnelId })
    .from(tunnels)
    .where(
      inList(
        tunnels.clusterId,
        rows.map((r) => r.id),
      ),
    );
  const tunnelIds = tunnelRows.map((t) => t.id);
  const accounts = [...new Set(tunnelRows.map((t) => t.account))];
  const [networks, syncRows, entries, includeRows] =
    tunnelIds.length === 0
      ? [[], [], [], []]
      : await Promise.all([
          deps.db
            .select({
              id: privateNetworks.id,
              tunnelId: privateNetworks.tunnelId,
              cidr: privateNetworks.cidr,
              virtualNetworkId: privateNetworks.virtualNetworkId,
              cloudflareRouteId: privateNetworks.cloudflareRouteId,
              createdAt: privateNetworks.createdAt,
            })
            .from(privateNetworks)
            .where(inList(privateNetworks.tunnelId, tunnelIds)),
          deps.db
            .select({ target: cfSync.target, lastSuccessAt: cfSync.lastSuccessAt, lastError: cfSync.lastError, drift: cfSync.drift })
            .from(cfSync)
            .where(
              inList(
                cfSync.key,
                tunnelIds.map((id) => `tunnel_config:${id}`),
              ),
            ),
          deps.db
            .select({
              id: splitTunnelEntries.id,
              account: splitTunnelEntries.account,
              mode: splitTunnelEntries.mode,
              address: splitTunnelEntries.address,
              description: splitTunnelEntries.description,
              owner: splitTunnelEntries.owner,
            })
            .from(splitTunnelEntries)
            .where(and(eq(splitTunnelEntries.profile, profile), inList(splitTunnelEntries.account, accounts))),
          deps.db
            .select({ account: cfSync.account, owned: cfSync.owned, drift: cfSync.drift })
            .from(cfSync)
            .where(
              inList(
                cfSync.key,
                accounts.map((a) => `split_tunnel:${a}/${profile}:include`),
              ),
            ),
        ]);
  const includeSync = new Map(includeRows.map((r) => [r.account, { owned: r.owned ?? null, drift: r.drift ?? null }]));
  const syncOf = new Map(syncRows.map((s) => [s.target, s]));
  for (const row of rows) {
    const own: WarpTunnelFacts[] = tunnelRows
      .filter((t) => t.clusterId === row.id)
      .map((t) => {
        const s = syncOf.get(t.id);
        return {
          id: t.id,
          account: t.account,
          cloudflareTunnelId: t.cloudflareTunnelId,
          config: s ? { lastSuccessAt: s.lastSuccessAt, lastError: s.lastError, drift: s.drift ?? null } : null,
        };
      });
    const ownIds = new Set(own.map((t) => t.id));
    result.set(
      row.id,
      checkWarpPath({
        cluster: row.id,
        address: row.apiServerAddress,
        profile,
        caReported: row.clusterCa !== null,
        tunnels: own,
        networks: networks.filter((n) => ownIds.has(n.tunnelId)),
        entries: entries satisfies WarpEntryFacts[],
        includeSync,
      }),
    );
  }
  return result;
}

/** Adds `warpAccess` to clusters read for GET (the rows they were mapped from carry the address and CA). */
export async function withWarpAccess(deps: Deps, items: Cluster[], rows: readonly ClusterFacts[]): Promise<Cluster[]> {
  const access = await warpAccessOf(deps, rows);
  return items.map((c) => {
    const warp = access.get(c.id);
    return warp ? { ...c, warpAccess: warp } : c;
  });
}
