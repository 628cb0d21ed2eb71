import { asc, eq } from 'drizzle-orm';
import type { WorkloadSpec } from '../../src/shared/api';
import type { DesiredCluster, DesiredTunnel, DesiredWorkload } from '../../src/shared/compiler';
import { decryptSecret, requireEncryptionKey } from '../crypto';
import type { InfraInstance } from '../../src/shared/kube/infra';
import { clusterInfra, clusters, privateNetworks, routes, tunnels, workloads } from './schema';
import { inList } from './json-list';
import type { Deps } from '../deps';
import { notFound } from '../errors';
import { toApiCluster, toApiPrivateNetwork, toApiRoute, toApiTunnel } from './mappers';
import type { StoreView } from './view';

type TunnelRow = typeof tunnels.$inferSelect;

/** Whether to decrypt connector tokens: only bundles that go to (or are hashed like) the agent's need them. */
export interface LoadOptions {
  withTokens?: boolean;
}

async function connectorToken(deps: Deps, row: TunnelRow, options: LoadOptions): Promise<string | undefined> {
  if (!row.tokenCiphertext || options.withTokens === false) return undefined;
  return decryptSecret(requireEncryptionKey(deps.config, 'the connector token of a tunnel cannot be decrypted'), row.tokenCiphertext);
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
  return {
    cluster: toApiCluster(row, deps.now().getTime()),
    tunnels: await desiredTunnelsOf(deps, tunnelRows, options),
    workloads: await desiredWorkloadsOf(deps, clusterId, options),
    infra: await discoveredInfraOf(deps, clusterId),
    revision: row.desiredRevision,
  };
}

/** What the cluster's agent last discovered: workloads' infra references compile against it. */
async function discoveredInfraOf(deps: Deps, clusterId: string): Promise<InfraInstance[]> {
  const row = await deps.db.query.clusterInfra.findFirst({ where: eq(clusterInfra.clusterId, clusterId) });
  return (row?.instances ?? []) as InfraInstance[];
}

/** The compiler input of a cluster's workloads; secret env values are decrypted unless `withTokens: false`. */
async function desiredWorkloadsOf(deps: Deps, clusterId: string, options: LoadOptions): Promise<DesiredWorkload[]> {
  const rows = await deps.db.select().from(workloads).where(eq(workloads.clusterId, clusterId)).orderBy(asc(workloads.id));
  const out: DesiredWorkload[] = [];
  for (const row of rows) {
    const secrets = options.withTokens === false ? {} : await workloadSecrets(deps, row);
    out.push({ id: row.id, namespace: row.namespace, spec: row.spec as WorkloadSpec, secrets });
  }
  return out;
}

/**
 * The compiler input of one cluster read through a store view (undefined when the cluster does not exist), without
 * connector tokens unless `withTokens`: a plan compares two of these, the store as it is and the store with planned
 * changes laid over; the cluster pre-flight sends the latter, with its secrets, to the cluster's own agent.
 */
export async function desiredClusterFromView(
  deps: Deps,
  view: StoreView,
  clusterId: string,
  options: LoadOptions = { withTokens: false },
): Promise<(DesiredCluster & { revision: number }) | undefined> {
  const row = await view.cluster(clusterId);
  if (!row) return undefined;
  const withTokens: LoadOptions = { withTokens: options.withTokens === true };
  const desiredTunnels: DesiredTunnel[] = [];
  for (const tunnel of await view.tunnelsOfCluster(clusterId)) {
    const networks = (await view.privateNetworksOfTunnel(tunnel.id)).map(toApiPrivateNetwork);
    const token = await connectorToken(deps, tunnel, withTokens);
    desiredTunnels.push({
      tunnel: toApiTunnel(tunnel, networks.length > 0),
      routes: (await view.routesOfTunnel(tunnel.id)).map(toApiRoute),
      privateNetworks: networks,
      ...(token ? { connectorToken: token } : {}),
    });
  }
  // Planned workloads too; their secret values only `withTokens` (the pre-flight's bundle for the cluster's own agent):
  // a plan shows which objects change, never what a secret holds.
  const desiredWorkloads: DesiredWorkload[] = [];
  for (const w of await view.workloadsOfCluster(clusterId)) {
    const secrets = withTokens.withTokens ? await workloadSecrets(deps, w) : {};
    desiredWorkloads.push({ id: w.id, namespace: w.namespace, spec: w.spec as WorkloadSpec, secrets });
  }
  return {
    cluster: toApiCluster(row, deps.now().getTime()),
    tunnels: desiredTunnels,
    workloads: desiredWorkloads,
    infra: await discoveredInfraOf(deps, clusterId),
    revision: row.desiredRevision,
  };
}

/** The decrypted secret env values of a stored workload. */
export async function workloadSecrets(
  deps: Deps,
  row: Pick<typeof workloads.$inferSelect, 'secretsCiphertext'>,
): Promise<Record<string, string>> {
  if (!row.secretsCiphertext) return {};
  return JSON.parse(await decryptSecret(requireEncryptionKey(deps.config, WORKLOAD_SECRETS), row.secretsCiphertext)) as Record<
    string,
    string
  >;
}

/** What a workload's secret env values need the encryption key for. */
export const WORKLOAD_SECRETS = 'secret env values cannot be stored or read';
