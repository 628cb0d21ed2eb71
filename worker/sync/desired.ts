import { eq } from 'drizzle-orm';
import type { DesiredTunnel } from '../../src/shared/compiler';
import { privateNetworks, routes, tunnels } from '../db/schema';
import type { Db } from '../deps';
import { toApiPrivateNetwork } from '../services/private-networks';
import { toApiRoute } from '../services/routes';
import { toApiTunnel } from '../services/tunnels';

type TunnelRow = typeof tunnels.$inferSelect;

/** A tunnel's row and its compiler input, or undefined once the tunnel is deleted from D1. */
export async function loadTunnelState(db: Db, tunnelId: string): Promise<{ row: TunnelRow; desired: DesiredTunnel } | undefined> {
  const row = await db.query.tunnels.findFirst({ where: eq(tunnels.id, tunnelId) });
  if (!row) return undefined;
  const routeRows = await db.select().from(routes).where(eq(routes.tunnelId, tunnelId));
  const networkRows = await db.select().from(privateNetworks).where(eq(privateNetworks.tunnelId, tunnelId));
  return {
    row,
    desired: {
      tunnel: toApiTunnel(row, networkRows.length > 0),
      routes: routeRows.map(toApiRoute),
      privateNetworks: networkRows.map(toApiPrivateNetwork),
    },
  };
}
