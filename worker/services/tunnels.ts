import { and, asc, eq, gt, sql } from 'drizzle-orm';
import type { ListQuery, Placement, Tunnel, TunnelCreate, TunnelUpdate } from '../../src/shared/api';
import { stillExists, unchangedSince } from '../db/guards';
import { clusters, privateNetworks, routes, tunnels } from '../db/schema';
import { type RouteRow, type RowChange, storeView, type StoreView } from '../db/view';
import type { OutboxIntent } from '../db/write';
import { toApiRoute, toApiTunnel } from '../db/mappers';
import type { Deps } from '../deps';
import { AppError, notFound } from '../errors';
import { checkIfMatch } from './etag';
import { checkRegexRouting } from './route-rule-check';
import { decodeCursor, toPage } from './pagination';
import { commitPrepared, type Prepared } from './prepared';

type Row = typeof tunnels.$inferSelect;

/** The stored form of a new tunnel: not yet created in Cloudflare, no token. */
export const newTunnelRow = (input: TunnelCreate, at: string): Row => ({
  id: input.id,
  clusterId: input.cluster,
  account: input.account,
  name: input.name ?? `${input.cluster}-${input.id}`,
  cloudflareTunnelId: input.cloudflareTunnelId ?? null,
  placement: input.placement,
  mode: input.mode,
  originRequest: input.originRequest,
  catchAll: input.catchAll,
  driftPolicy: input.driftPolicy,
  tokenCiphertext: null,
  version: 1,
  createdAt: at,
  updatedAt: at,
});

/** Loads a tunnel row or answers 404. */
export async function loadTunnel(deps: Deps, id: string): Promise<Row> {
  const row = await deps.db.query.tunnels.findFirst({ where: eq(tunnels.id, id) });
  if (!row) throw notFound('tunnel', id);
  return row;
}

/** The tunnel a new child resource points at, read through `view`, or a 422 naming the field. */
export async function referencedTunnel(view: StoreView, id: string): Promise<Row> {
  const row = await view.tunnel(id);
  if (!row) {
    throw new AppError('validation_failed', `body.tunnel: tunnel "${id}" does not exist; create it first with POST /v1/tunnels`, {
      details: [{ path: 'body.tunnel', message: `tunnel "${id}" does not exist` }],
    });
  }
  return row;
}

/** Loads the tunnel a new child resource points at, or a 422 naming the field. */
export const loadReferencedTunnel = (deps: Deps, id: string): Promise<Row> => referencedTunnel(storeView(deps.db), id);

async function viewTunnel(view: StoreView, id: string): Promise<Row> {
  const row = await view.tunnel(id);
  if (!row) throw notFound('tunnel', id);
  return row;
}

async function hasPrivateNetworks(deps: Deps, tunnelId: string): Promise<boolean> {
  const row = await deps.db.select({ id: privateNetworks.id }).from(privateNetworks).where(eq(privateNetworks.tunnelId, tunnelId)).limit(1);
  return row.length > 0;
}

/** Lists tunnels by id, optionally of one cluster. */
export async function listTunnels(deps: Deps, query: ListQuery & { cluster?: string }) {
  const after = decodeCursor(query.cursor);
  const rows = await deps.db
    .select()
    .from(tunnels)
    .where(and(after ? gt(tunnels.id, after) : undefined, query.cluster ? eq(tunnels.clusterId, query.cluster) : undefined))
    .orderBy(asc(tunnels.id))
    .limit(query.limit + 1);
  const withWarp = new Set(
    (await deps.db.selectDistinct({ tunnelId: privateNetworks.tunnelId }).from(privateNetworks)).map((r) => r.tunnelId),
  );
  return toPage(rows, query.limit, (row) => toApiTunnel(row, withWarp.has(row.id)));
}

/** Returns one tunnel. */
export async function getTunnel(deps: Deps, id: string): Promise<Tunnel> {
  const row = await loadTunnel(deps, id);
  return toApiTunnel(row, await hasPrivateNetworks(deps, id));
}

function checkPlacement(placement: Placement, declaredNodes: { name: string }[]): void {
  if (placement.type !== 'node' || declaredNodes.length === 0) return;
  if (!declaredNodes.some((n) => n.name === placement.node)) {
    const names = declaredNodes.map((n) => `"${n.name}"`).join(', ');
    throw new AppError('validation_failed', `body.placement.node: node "${placement.node}" is not one of the cluster's nodes (${names})`, {
      details: [{ path: 'body.placement.node', message: `expected one of ${names}` }],
    });
  }
}

/** Decides a tunnel create against `view`; the Cloudflare side (create or adopt) is left to the sync via the outbox. */
export async function prepareTunnelCreate(deps: Deps, view: StoreView, input: TunnelCreate): Promise<Prepared<Tunnel>> {
  const cluster = await view.cluster(input.cluster);
  if (!cluster) {
    throw new AppError(
      'validation_failed',
      `body.cluster: cluster "${input.cluster}" does not exist; create it first with POST /v1/clusters`,
      {
        details: [{ path: 'body.cluster', message: `cluster "${input.cluster}" does not exist` }],
      },
    );
  }
  checkPlacement(input.placement, cluster.nodes);
  if (await view.tunnel(input.id)) {
    throw new AppError('conflict', `tunnel "${input.id}" already exists`, { details: [{ path: 'body.id', message: 'already in use' }] });
  }
  if (input.cloudflareTunnelId) {
    const adopted = await view.tunnelByCloudflareId(input.cloudflareTunnelId);
    if (adopted)
      throw new AppError('conflict', `Cloudflare tunnel ${input.cloudflareTunnelId} is already managed as tunnel "${adopted.id}"`);
  }
  const row = newTunnelRow(input, deps.now().toISOString());
  const created = toApiTunnel(row, false);
  return {
    result: created,
    rows: [{ table: 'tunnels', put: row }],
    write: {
      guards: [
        stillExists(clusters, clusters.id, input.cluster, new AppError('conflict', `cluster "${input.cluster}" was deleted meanwhile`)),
      ],
      statements: [deps.db.insert(tunnels).values(row)],
      audit: { action: 'create', entityType: 'tunnel', entityId: row.id, after: created },
      outbox: [{ account: row.account, kind: 'tunnel', target: row.id }],
      clusters: [row.clusterId],
    },
  };
}

/** Creates a tunnel in a cluster. */
export async function createTunnel(deps: Deps, input: TunnelCreate): Promise<Tunnel> {
  return commitPrepared(deps, prepareTunnelCreate(deps, storeView(deps.db), input));
}

/** Decides an update of name, placement, routing mode, originRequest defaults, catch-all or drift policy. */
export async function prepareTunnelUpdate(
  deps: Deps,
  view: StoreView,
  id: string,
  input: TunnelUpdate,
  ifMatch?: string,
): Promise<Prepared<Tunnel>> {
  const before = await viewTunnel(view, id);
  checkIfMatch(ifMatch, before, `tunnel "${id}"`);
  if (input.placement) {
    const cluster = await view.cluster(before.clusterId);
    checkPlacement(input.placement, cluster?.nodes ?? []);
  }
  const after: Row = { ...before, ...input, version: before.version + 1, updatedAt: deps.now().toISOString() };
  if (input.mode) checkModeKeepsRegexRoutes(await view.routesOfTunnel(id), after);
  const warp = (await view.privateNetworksOfTunnel(id)).length > 0;
  return {
    result: toApiTunnel(after, warp),
    rows: [{ table: 'tunnels', put: after }],
    write: {
      guards: [unchangedSince(tunnels, id, before.version, `tunnel "${id}"`)],
      statements: [
        deps.db
          .update(tunnels)
          .set({
            name: after.name,
            placement: after.placement,
            mode: after.mode,
            originRequest: after.originRequest,
            catchAll: after.catchAll,
            driftPolicy: after.driftPolicy,
            version: after.version,
            updatedAt: after.updatedAt,
          })
          .where(eq(tunnels.id, id)),
      ],
      audit: { action: 'update', entityType: 'tunnel', entityId: id, before: toApiTunnel(before, warp), after: toApiTunnel(after, warp) },
      outbox: [
        { account: after.account, kind: 'tunnel_config', target: id },
        // A rename reaches Cloudflare too (PATCH cfd_tunnel/{id}); D1 alone would leave the dashboard showing the old name.
        ...(after.name !== before.name ? [{ account: after.account, kind: 'tunnel' as const, target: id, payload: { rename: true } }] : []),
      ],
      clusters: [after.clusterId],
    },
  };
}

/**
 * A switch to `ingress` or `gateway` mode would send the Service origins of pathRegex routes through a controller that
 * matches path prefixes only (checkRegexRouting): refused, naming every such route, rather than compiled wrong.
 */
function checkModeKeepsRegexRoutes(tunnelRoutes: RouteRow[], after: Row): void {
  const refused: { route: string; message: string }[] = [];
  for (const route of tunnelRoutes) {
    try {
      checkRegexRouting(route, after, 'body.mode');
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      refused.push({ route: route.id, message: `route "${route.id}" (${route.hostname} pathRegex "${route.pathRegex}")` });
    }
  }
  if (refused.length === 0) return;
  const mode = (after.mode as { type?: string } | null)?.type ?? 'direct';
  const message = `tunnel "${after.id}" cannot switch to ${mode} mode: its ${mode === 'ingress' ? 'Ingress controller' : 'Gateway'} matches path prefixes only, and ${refused.length} pathRegex route(s) with a Service origin would be routed wrong: ${refused.map((r) => r.message).join(', ')}; give them URL origins or plain paths first, or keep the tunnel in direct mode`;
  throw new AppError('validation_failed', `body.mode: ${message}`, {
    details: refused.map((r) => ({ path: 'body.mode', message: `${r.message} needs a URL origin or a path prefix in ${mode} mode` })),
  });
}

/** Updates a tunnel. */
export async function updateTunnel(deps: Deps, id: string, input: TunnelUpdate, ifMatch?: string): Promise<Tunnel> {
  return commitPrepared(deps, prepareTunnelUpdate(deps, storeView(deps.db), id, input, ifMatch));
}

/**
 * Decides a tunnel delete. With routes or private networks left it answers 409 unless `cascade` is set, in which case
 * they go in the same batch and the sync removes their DNS records and private routes before deleting the tunnel.
 */
export async function prepareTunnelDelete(
  deps: Deps,
  view: StoreView,
  id: string,
  options: { ifMatch?: string; cascade: boolean },
): Promise<Prepared<null>> {
  const before = await viewTunnel(view, id);
  checkIfMatch(options.ifMatch, before, `tunnel "${id}"`);
  const childRoutes = await view.routesOfTunnel(id);
  const childNetworks = await view.privateNetworksOfTunnel(id);
  if (!options.cascade && (childRoutes.length > 0 || childNetworks.length > 0)) {
    throw new AppError(
      'conflict',
      `tunnel "${id}" still has ${childRoutes.length} route(s) and ${childNetworks.length} private network(s); delete them first or pass ?cascade=true`,
    );
  }
  const outbox: OutboxIntent[] = [
    ...childRoutes
      .filter((r) => r.dns)
      .map((r): OutboxIntent => ({ account: before.account, kind: 'dns', target: r.hostname, payload: { tunnel: id } })),
    ...childNetworks.map((n): OutboxIntent => ({
      account: before.account,
      kind: 'private_network',
      target: n.id,
      payload: { tunnel: id, cidr: n.cidr, virtualNetworkId: n.virtualNetworkId, cloudflareRouteId: n.cloudflareRouteId },
    })),
    { account: before.account, kind: 'tunnel', target: id, payload: { deleted: true, cloudflareTunnelId: before.cloudflareTunnelId } },
  ];
  return {
    result: null,
    rows: [
      ...childRoutes.map((r): RowChange => ({ table: 'routes', delete: r.id })),
      ...childNetworks.map((n): RowChange => ({ table: 'privateNetworks', delete: n.id })),
      { table: 'tunnels', delete: id },
    ],
    write: {
      guards: [
        unchangedSince(tunnels, id, before.version, `tunnel "${id}"`),
        {
          holds: sql`(SELECT count(*) FROM ${routes} WHERE ${routes.tunnelId} = ${id}) = ${childRoutes.length}`,
          error: new AppError('conflict', `tunnel "${id}" gained or lost routes while it was being deleted; retry`),
        },
      ],
      statements: [
        deps.db.delete(routes).where(eq(routes.tunnelId, id)),
        deps.db.delete(privateNetworks).where(eq(privateNetworks.tunnelId, id)),
        deps.db.delete(tunnels).where(eq(tunnels.id, id)),
      ],
      audit: {
        action: 'delete',
        entityType: 'tunnel',
        entityId: id,
        before: { ...toApiTunnel(before, childNetworks.length > 0), routes: childRoutes.map(toApiRoute) },
      },
      outbox,
      clusters: [before.clusterId],
    },
  };
}

/** Deletes a tunnel (with `cascade`, its routes and private networks too). */
export async function deleteTunnel(deps: Deps, id: string, options: { ifMatch?: string; cascade: boolean }): Promise<void> {
  await commitPrepared(deps, prepareTunnelDelete(deps, storeView(deps.db), id, options));
}
