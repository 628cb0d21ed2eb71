import { eq, sql } from 'drizzle-orm';
import { encryptSecret } from '../crypto';
import { cfDnsRecords, clusters, tunnels } from '../db/schema';
import { notifyClusters } from '../effects/notify-clusters';
import { type SyncContext, SyncProblem, statusOf } from './context';
import { deleteOwnedRecord } from './dns';
import { deleteOwnedTeamnetRoutes } from './private-networks';
import { dropSync, markSuccess } from './sync-state';
import { EMPTY_CONFIG, asSdkConfig } from './tunnel-config';

/** What the writer must reconcile next after a tunnel was created or adopted (its config, DNS, private routes). */
export interface TunnelOutcome {
  created: boolean;
  ready: boolean;
}

/**
 * Creates the tunnel in Cloudflare as a remotely-managed tunnel (`config_src: cloudflare`), or adopts the one named by
 * its `cloudflareTunnelId`, then fetches its connector token and stores it encrypted for the cluster bundle.
 */
export async function ensureTunnel(ctx: SyncContext, tunnelId: string, options: { rename?: boolean } = {}): Promise<TunnelOutcome> {
  const row = await ctx.db.query.tunnels.findFirst({ where: eq(tunnels.id, tunnelId) });
  if (!row) return { created: false, ready: false }; // deleted before the writer got to it: the delete row handles it
  const key = ctx.config.EDGEPLANE_ENCRYPTION_KEY;
  if (!key) throw new SyncProblem('EDGEPLANE_ENCRYPTION_KEY is not set: the tunnel token cannot be stored, so the tunnel is not created');
  let cfId = row.cloudflareTunnelId;
  let created = false;
  let remoteName: string | null = row.name;
  if (cfId) {
    try {
      remoteName = (await ctx.cf.zeroTrust.tunnels.cloudflared.get(cfId, { account_id: ctx.account })).name ?? null;
    } catch (error) {
      if (statusOf(error) === 404)
        throw new SyncProblem(`Cloudflare tunnel ${cfId} (to adopt as "${tunnelId}") does not exist in account ${ctx.account}`);
      throw error;
    }
    // Only a rename made through edgeplane is pushed: adopting a tunnel never renames it in Cloudflare.
    if (options.rename && remoteName !== row.name) remoteName = await renameTunnel(ctx, cfId, row.name);
  } else {
    try {
      const made = await ctx.cf.zeroTrust.tunnels.cloudflared.create({ account_id: ctx.account, name: row.name, config_src: 'cloudflare' });
      cfId = made.id ?? null;
    } catch (error) {
      if (statusOf(error) === 409) {
        throw new SyncProblem(
          `a Cloudflare tunnel named "${row.name}" already exists and edgeplane did not create it; rename the tunnel or adopt it with cloudflareTunnelId`,
        );
      }
      throw error;
    }
    if (!cfId) throw new SyncProblem('Cloudflare created the tunnel but returned no id');
    created = true;
    // Record the id at once: if the token fetch below fails, a retry must adopt this tunnel, not create a second one.
    // A write of the row like any other (cloudflareTunnelId is in the API): version and updatedAt move, so the etag does.
    await ctx.db
      .update(tunnels)
      .set({ cloudflareTunnelId: cfId, version: sql`${tunnels.version} + 1`, updatedAt: ctx.now().toISOString() })
      .where(eq(tunnels.id, tunnelId));
  }
  if (!row.tokenCiphertext || created) {
    const token = await ctx.cf.zeroTrust.tunnels.cloudflared.token.get(cfId, { account_id: ctx.account });
    // The token changes the cluster's bundle (its Secret), so the cluster gets a new revision in the same batch and
    // its agent is told: otherwise agents keep answering 304 and the connector keeps a pending Secret.
    await ctx.db.batch([
      ctx.db
        .update(tunnels)
        .set({
          cloudflareTunnelId: cfId,
          tokenCiphertext: await encryptSecret(key, String(token)),
          version: sql`${tunnels.version} + 1`,
          updatedAt: ctx.now().toISOString(),
        })
        .where(eq(tunnels.id, tunnelId)),
      ctx.db
        .update(clusters)
        .set({ desiredRevision: sql`${clusters.desiredRevision} + 1` })
        .where(eq(clusters.id, row.clusterId)),
    ]);
    await notifyClusters(ctx.deps, [row.clusterId]);
  }
  await markSuccess(ctx, 'tunnel', tunnelId, { remoteName });
  return { created, ready: true };
}

/** PATCH cfd_tunnel/{id} with the new name; returns the name Cloudflare now holds. */
async function renameTunnel(ctx: SyncContext, cfId: string, name: string): Promise<string | null> {
  try {
    const renamed = await ctx.cf.zeroTrust.tunnels.cloudflared.edit(cfId, { account_id: ctx.account, name });
    return renamed.name ?? name;
  } catch (error) {
    if (statusOf(error) === 409)
      throw new SyncProblem(`another Cloudflare tunnel of the account is already named "${name}"; choose another name for this tunnel`);
    throw error;
  }
}

/**
 * Deletes a tunnel's Cloudflare side in an order that never leaves a hostname pointing at a missing tunnel without
 * saying so: the DNS records edgeplane owns for it, then its config (catch-all only), its private routes, its
 * connections, and last the tunnel. Every step is idempotent, so a retry after a failure resumes where it stopped.
 */
export async function deleteTunnel(ctx: SyncContext, tunnelId: string, cloudflareTunnelId: string | null): Promise<void> {
  const owned = await ctx.db.select().from(cfDnsRecords).where(eq(cfDnsRecords.tunnelId, tunnelId));
  for (const record of owned) await deleteOwnedRecord(ctx, record);
  if (cloudflareTunnelId) {
    const tunnel = { account_id: ctx.account };
    try {
      await ctx.cf.zeroTrust.tunnels.cloudflared.configurations.update(cloudflareTunnelId, {
        ...tunnel,
        config: asSdkConfig(EMPTY_CONFIG),
      });
      await deleteOwnedTeamnetRoutes(ctx, cloudflareTunnelId);
      await ctx.cf.zeroTrust.tunnels.cloudflared.connections.delete(cloudflareTunnelId, tunnel);
      await ctx.cf.zeroTrust.tunnels.cloudflared.delete(cloudflareTunnelId, tunnel);
    } catch (error) {
      if (statusOf(error) !== 404) throw error; // already gone: nothing left to delete
    }
  }
  await dropSync(ctx, 'tunnel_config', tunnelId);
  await dropSync(ctx, 'tunnel', tunnelId);
}
