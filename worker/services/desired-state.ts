import { asc, eq } from 'drizzle-orm';
import type { DesiredCluster, DesiredTunnel } from '../../src/shared/compiler';
import { decryptSecret } from '../crypto';
import { inList } from '../db/json-list';
import { clusters, privateNetworks, routes, tunnels } from '../db/schema';
import type { Deps } from '../deps';
import { AppError, notFound } from '../errors';
import { toApiCluster } from './clusters';
import { toApiPrivateNetwork } from './private-networks';
import { toApiRoute } from './routes';
import { toApiTunnel } from './tunnels';

type TunnelRow = typeof tunnels.$inferSelect;

/** Whether to decrypt connector tokens: only bundles that go to (or are hashed like) the agent's need them. */
export interface LoadOptions {
  withTokens?: boolean;
}

async function connectorToken(deps: Deps, row: TunnelRow, options: LoadOptions): Promise<string | undefined> {
  if (!row.tokenCiphertext || options.withTokens === false) return undefined;
  const key = deps.config.EDGEPLANE_ENCRYPTION_KEY;
  if (!key)
    throw new AppError('internal_error', 'EDGEPLANE_ENCRYPTION_KEY is not set, so the connector token of a tunnel cannot be decrypted');
  return decryptSecret(key, row.tokenCiphertext);
}

/** Builds the compiler input of the given tunnel rows from their routes and private networks (rows mapped field by field). */
export async function desiredTunnelsOf(deps: Deps, rows: TunnelRow[], options: LoadOptions = {}): Promise<DesiredTunnel[]> {
  const ids = rows.map((t) => t.id);
  if (ids.length === 0) return [];
  const routeRows = await deps.db.select().from(routes).where(inList(routes.tunnelId, ids)).orderBy(asc(routes.id));
  const networkRows = await deps.db
    .select()
    .from(privateNetworks)
    .where(inList(privateNetworks.tunnelId, ids))
    .orderBy(asc(privateNetworks.id));
  const out: DesiredTunnel[] = [];
  for (const row of rows) {
    const networks = networkRows.filter((n) => n.tunnelId === row.id).map(toApiPrivateNetwork);
    const token = await connectorToken(deps, row, options);
    out.push({
      tunnel: toApiTunnel(row, networks.length > 0),
      routes: routeRows.filter((r) => r.tunnelId === row.id).map(toApiRoute),
      privateNetworks: networks,
      ...(token ? { connectorToken: token } : {}),
    });
  }
  return out;
}

/** Everything the compiler needs for one tunnel's remote config (404 when the tunnel does not exist). */
export async function loadDesiredTunnel(deps: Deps, tunnelId: string, options: LoadOptions = {}): Promise<DesiredTunnel> {
  const row = await deps.db.query.tunnels.findFirst({ where: eq(tunnels.id, tunnelId) });
  if (!row) throw notFound('tunnel', tunnelId);
  const [desired] = await desiredTunnelsOf(deps, [row], options);
  if (!desired) throw notFound('tunnel', tunnelId);
  return desired;
}

/**
 * Everything the compiler needs for one cluster's bundle, plus its desired revision (404 when the cluster does not
 * exist). Connector tokens are decrypted unless `withTokens: false`; callers that show the bundle must redact them.
 */
export async function loadDesiredCluster(
  deps: Deps,
  clusterId: string,
  options: LoadOptions = {},
): Promise<DesiredCluster & { revision: number }> {
  const row = await deps.db.query.clusters.findFirst({ where: eq(clusters.id, clusterId) });
  if (!row) throw notFound('cluster', clusterId);
  const tunnelRows = await deps.db.select().from(tunnels).where(eq(tunnels.clusterId, clusterId)).orderBy(asc(tunnels.id));
  return { cluster: toApiCluster(row), tunnels: await desiredTunnelsOf(deps, tunnelRows, options), revision: row.desiredRevision };
}
