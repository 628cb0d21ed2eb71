import { eq } from 'drizzle-orm';
import type { DesiredTunnel } from '../../src/shared/compiler';
import { tunnels } from '../db/schema';
import { desiredTunnelsOf } from '../db/desired-state';
import type { SyncContext } from './context';

type TunnelRow = typeof tunnels.$inferSelect;

/** A tunnel's row and its compiler input (without the connector token), or undefined once it is deleted from D1. */
export async function loadTunnelState(ctx: SyncContext, tunnelId: string): Promise<{ row: TunnelRow; desired: DesiredTunnel } | undefined> {
  const row = await ctx.db.query.tunnels.findFirst({ where: eq(tunnels.id, tunnelId) });
  if (!row) return undefined;
  // The remote config never contains the token, so it is not decrypted here.
  const [desired] = await desiredTunnelsOf(ctx.deps, [row], { withTokens: false });
  return desired ? { row, desired } : undefined;
}
