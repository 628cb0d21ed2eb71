import { eq, sql } from 'drizzle-orm';
import { sha256Hex } from '../../src/shared/compiler';
import { privateNetworks, tunnels } from '../db/schema';
import { type SyncContext, statusOf } from './context';
import { markSuccess, readSync, syncKey } from './sync-state';

// Private-network routes (teamnet routes: CIDR → tunnel). edgeplane creates and deletes only its own, recognised by
// the id it stored and by the comment marker it writes; a CIDR routed elsewhere is reported, never taken over.

const MARKER = 'edgeplane:';
const markerOf = (privateNetworkId: string): string => `${MARKER}${privateNetworkId}`;

export type PrivateNetworkOutcome = 'unchanged' | 'created' | 'deleted' | 'conflict' | 'waiting-for-tunnel';

/** What the outbox row of a deleted private network still knows about it. */
export interface PrivateNetworkPayload {
  tunnel?: string;
  cidr?: string;
  virtualNetworkId?: string | null;
  cloudflareRouteId?: string | null;
}

async function routesFor(ctx: SyncContext, cidr: string) {
  const page = await ctx.cf.zeroTrust.networks.routes.list({
    account_id: ctx.account,
    network_subset: cidr,
    is_deleted: false,
    per_page: 100,
  });
  return page.result.filter((r) => r.network === cidr);
}

async function deleteRoute(ctx: SyncContext, routeId: string): Promise<void> {
  try {
    await ctx.cf.zeroTrust.networks.routes.delete(routeId, { account_id: ctx.account });
  } catch (error) {
    if (statusOf(error) !== 404) throw error;
  }
}

/** Deletes every teamnet route of a Cloudflare tunnel that carries edgeplane's marker (a tunnel's delete). */
export async function deleteOwnedTeamnetRoutes(ctx: SyncContext, cloudflareTunnelId: string): Promise<void> {
  for await (const route of ctx.cf.zeroTrust.networks.routes.list({
    account_id: ctx.account,
    tunnel_id: cloudflareTunnelId,
    is_deleted: false,
    per_page: 100,
  })) {
    if (route.id && route.comment?.startsWith(MARKER)) await deleteRoute(ctx, route.id);
  }
}

/** Reconciles one private network: create its route when it exists in D1, delete edgeplane's route when it does not. */
export async function reconcilePrivateNetwork(
  ctx: SyncContext,
  id: string,
  payload: PrivateNetworkPayload,
): Promise<PrivateNetworkOutcome> {
  const row = await ctx.db.query.privateNetworks.findFirst({ where: eq(privateNetworks.id, id) });
  const previous = await readSync(ctx, syncKey('private_network', id));
  if (!row) {
    let routeId = payload.cloudflareRouteId ?? null;
    if (!routeId && payload.cidr) routeId = (await routesFor(ctx, payload.cidr)).find((r) => r.comment === markerOf(id))?.id ?? null;
    if (routeId) await deleteRoute(ctx, routeId);
    await markSuccess(ctx, 'private_network', id, { pushedHash: null, conflict: null });
    return routeId ? 'deleted' : 'unchanged';
  }
  const tunnel = await ctx.db.query.tunnels.findFirst({ where: eq(tunnels.id, row.tunnelId) });
  const cfTunnel = tunnel?.cloudflareTunnelId;
  if (!cfTunnel) return 'waiting-for-tunnel';
  const hash = sha256Hex(JSON.stringify([row.cidr, row.virtualNetworkId, cfTunnel]));
  if (row.cloudflareRouteId && previous?.pushedHash === hash && !previous.lastError) return 'unchanged';
  const existing = await routesFor(ctx, row.cidr);
  const sameNetwork = existing.filter((r) => (row.virtualNetworkId ? r.virtual_network_id === row.virtualNetworkId : true));
  const mine = sameNetwork.find((r) => r.id === row.cloudflareRouteId || r.comment === markerOf(id));
  if (mine?.id) {
    if (mine.id !== row.cloudflareRouteId) await recordRouteId(ctx, id, mine.id);
    await markSuccess(ctx, 'private_network', id, { pushedHash: hash, conflict: null });
    return 'unchanged';
  }
  const other = sameNetwork[0];
  if (other) {
    await markSuccess(ctx, 'private_network', id, {
      conflict: `${row.cidr} is already routed to tunnel ${other.tunnel_id ?? '?'} (route ${other.id ?? '?'}, not created by edgeplane); edgeplane does not take it over`,
    });
    return 'conflict';
  }
  const created = await ctx.cf.zeroTrust.networks.routes.create({
    account_id: ctx.account,
    network: row.cidr,
    tunnel_id: cfTunnel,
    comment: markerOf(id),
    ...(row.virtualNetworkId ? { virtual_network_id: row.virtualNetworkId } : {}),
  });
  await recordRouteId(ctx, id, created.id ?? null);
  await markSuccess(ctx, 'private_network', id, { pushedHash: hash, conflict: null });
  return 'created';
}

/**
 * Stores the teamnet route's id as a write of the row: version and updatedAt move, so its etag changes and a client
 * holding the old one gets 412 instead of overwriting a row it has not seen.
 */
async function recordRouteId(ctx: SyncContext, id: string, routeId: string | null): Promise<void> {
  await ctx.db
    .update(privateNetworks)
    .set({ cloudflareRouteId: routeId, version: sql`${privateNetworks.version} + 1`, updatedAt: ctx.now().toISOString() })
    .where(eq(privateNetworks.id, id));
}
