import { and, asc, eq, gt } from 'drizzle-orm';
import type { BatchItem } from 'drizzle-orm/batch';
import type { ListQuery, Workload, WorkloadCreate, WorkloadSpec, WorkloadUpdate } from '../../src/shared/api';
import { stillExists, unchangedSince } from '../db/guards';
import { inList } from '../db/json-list';
import { clusters, routes, tunnels, workloads } from '../db/schema';
import type { Guard, OutboxIntent } from '../db/write';
import { type RowChange, storeView, type StoreView } from '../db/view';
import { toApiWorkload, toApiWorkloadHealth } from '../db/mappers';
import { workloadSecrets } from '../db/desired-state';
import type { Deps } from '../deps';
import { AppError, notFound } from '../errors';
import { newId } from '../ids';
import { checkIfMatch } from './etag';
import { decodeCursor, toPage } from './pagination';
import { commitPrepared, type Prepared } from './prepared';
import { checkRouteUnique, dnsIntents } from './routes';
import { clusterCandidates, pinInfraRefs } from './workload-infra';
import { checkSpec, routePort, sealEnv, specOfCreate, specOfUpdate, type WorkloadRow } from './workload-rows';

type RouteRow = typeof routes.$inferSelect;
type TunnelRow = typeof tunnels.$inferSelect;

/** Loads a workload row or answers 404. */
export async function loadWorkload(deps: Deps, id: string): Promise<WorkloadRow> {
  const row = await deps.db.query.workloads.findFirst({ where: eq(workloads.id, id) });
  if (!row) throw notFound('workload', id);
  return row;
}

/**
 * Lists workloads by id, optionally of one cluster or namespace, each with its pods' health from its cluster's last
 * report: one query for the page and one for the health of the clusters on it (however many), never one per row.
 */
export async function listWorkloads(deps: Deps, query: ListQuery & { cluster?: string; namespace?: string }) {
  const after = decodeCursor(query.cursor);
  const rows = await deps.db
    .select()
    .from(workloads)
    .where(
      and(
        after ? gt(workloads.id, after) : undefined,
        query.cluster ? eq(workloads.clusterId, query.cluster) : undefined,
        query.namespace ? eq(workloads.namespace, query.namespace) : undefined,
      ),
    )
    .orderBy(asc(workloads.id))
    .limit(query.limit + 1);
  const page = toPage(rows, query.limit, (row) => row);
  const clusterIds = [...new Set(page.items.map((row) => row.clusterId))];
  const healthRows =
    clusterIds.length === 0
      ? []
      : await deps.db.select({ id: clusters.id, health: clusters.health }).from(clusters).where(inList(clusters.id, clusterIds));
  const health = new Map(healthRows.map((c) => [c.id, c.health]));
  return {
    items: page.items.map((row) => ({ ...toApiWorkload(row), health: toApiWorkloadHealth(health.get(row.clusterId) ?? null, row) })),
    nextCursor: page.nextCursor,
  };
}

/** Returns one workload, with its pods' health from its cluster's last report. */
export async function getWorkload(deps: Deps, id: string): Promise<Workload> {
  const row = await loadWorkload(deps, id);
  const cluster = await deps.db.query.clusters.findFirst({ where: eq(clusters.id, row.clusterId), columns: { health: true } });
  return { ...toApiWorkload(row), health: toApiWorkloadHealth(cluster?.health ?? null, row) };
}

/** The cluster a new workload targets, or a 422 naming the field. */
export async function targetCluster(view: StoreView, id: string, path = 'body.cluster'): Promise<void> {
  if (await view.cluster(id)) return;
  throw new AppError('validation_failed', `${path}: cluster "${id}" does not exist; create it first with POST /v1/clusters`, {
    details: [{ path, message: `cluster "${id}" does not exist` }],
  });
}

/** `targetCluster` against the store as it is. */
export const loadTargetCluster = (deps: Deps, id: string, path = 'body.cluster'): Promise<void> =>
  targetCluster(storeView(deps.db), id, path);

/** The tunnel of a workload route: it must exist and run its connector in the workload's cluster (a Service is only reachable there). */
export async function routeTunnel(view: StoreView, tunnelId: string, clusterId: string, path: string): Promise<TunnelRow> {
  const tunnel = await view.tunnel(tunnelId);
  const problem = !tunnel
    ? `tunnel "${tunnelId}" does not exist`
    : tunnel.clusterId !== clusterId
      ? `tunnel "${tunnelId}" runs in cluster "${tunnel.clusterId}", so it cannot reach a Service in cluster "${clusterId}"`
      : null;
  if (!tunnel || problem)
    throw new AppError('validation_failed', `${path}: ${problem ?? ''}`, { details: [{ path, message: problem ?? '' }] });
  return tunnel;
}

/** `routeTunnel` against the store as it is. */
export const loadRouteTunnel = (deps: Deps, tunnelId: string, clusterId: string, path: string): Promise<TunnelRow> =>
  routeTunnel(storeView(deps.db), tunnelId, clusterId, path);

/** The route row a workload's `route` asks for: to the workload's Service on its port. */
export function workloadRouteRow(
  deps: Deps,
  w: { id: string; namespace: string; spec: WorkloadSpec },
  tunnelId: string,
  id = newId('rt', deps.now()),
): RouteRow {
  const at = deps.now().toISOString();
  const route = w.spec.route;
  return {
    id,
    tunnelId,
    hostname: route?.hostname ?? '',
    path: route?.path ?? '',
    pathRegex: '',
    origin: { service: { namespace: w.namespace, name: w.id, port: routePort(w.spec) } },
    originRequest: {},
    dns: true,
    access: null,
    version: 1,
    createdAt: at,
    updatedAt: at,
  };
}

async function viewWorkload(view: StoreView, id: string): Promise<WorkloadRow> {
  const row = await view.workload(id);
  if (!row) throw notFound('workload', id);
  return row;
}

/** Decides a workload create against `view`; with `route`, its tunnel route is created in the same write. */
export async function prepareWorkloadCreate(deps: Deps, view: StoreView, input: WorkloadCreate): Promise<Prepared<Workload>> {
  await targetCluster(view, input.cluster);
  if (await view.workload(input.id)) {
    throw new AppError('conflict', `workload "${input.id}" already exists`, { details: [{ path: 'body.id', message: 'already in use' }] });
  }
  const sealed = await sealEnv(deps, input.env, {});
  const spec = specOfCreate(input, pinInfraRefs(sealed.env, await clusterCandidates(deps, input.cluster, { except: input.id }, view)));
  checkSpec(spec);
  const at = deps.now().toISOString();
  const row: WorkloadRow = {
    id: input.id,
    clusterId: input.cluster,
    namespace: input.namespace,
    spec,
    secretsCiphertext: sealed.secretsCiphertext,
    routeId: null,
    version: 1,
    createdAt: at,
    updatedAt: at,
  };
  const guards: Guard[] = [
    stillExists(clusters, clusters.id, input.cluster, new AppError('conflict', `cluster "${input.cluster}" was deleted meanwhile`)),
  ];
  const statements: BatchItem<'sqlite'>[] = [];
  const outbox: OutboxIntent[] = [];
  const rows: RowChange[] = [];
  if (spec.route) {
    const tunnel = await routeTunnel(view, spec.route.tunnel, input.cluster, 'body.route.tunnel');
    const route = workloadRouteRow(deps, { id: row.id, namespace: row.namespace, spec }, tunnel.id);
    await checkRouteUnique(view, { tunnelId: tunnel.id, hostname: route.hostname, path: route.path });
    row.routeId = route.id;
    guards.push(stillExists(tunnels, tunnels.id, tunnel.id, new AppError('conflict', `tunnel "${tunnel.id}" was deleted meanwhile`)));
    statements.push(deps.db.insert(routes).values(route));
    rows.push({ table: 'routes', put: route });
    outbox.push(
      { account: tunnel.account, kind: 'tunnel_config', target: tunnel.id },
      ...dnsIntents(tunnel.account, tunnel.id, route.hostname),
    );
  }
  statements.push(deps.db.insert(workloads).values(row));
  rows.push({ table: 'workloads', put: row });
  const created = toApiWorkload(row);
  return {
    result: created,
    rows,
    write: {
      guards,
      statements,
      audit: { action: 'create', entityType: 'workload', entityId: row.id, after: created },
      outbox,
      clusters: [row.clusterId],
    },
  };
}

/** Creates a workload in a cluster. */
export async function createWorkload(deps: Deps, input: WorkloadCreate): Promise<Workload> {
  return commitPrepared(deps, prepareWorkloadCreate(deps, storeView(deps.db), input));
}

const sameRoute = (a: RouteRow, b: RouteRow): boolean =>
  a.tunnelId === b.tunnelId && a.hostname === b.hostname && a.path === b.path && JSON.stringify(a.origin) === JSON.stringify(b.origin);

/** Decides a workload update against `view`; a changed `route` (or the port it uses) replaces its route in the same write. */
export async function prepareWorkloadUpdate(
  deps: Deps,
  view: StoreView,
  id: string,
  input: WorkloadUpdate,
  ifMatch?: string,
): Promise<Prepared<Workload>> {
  const before = await viewWorkload(view, id);
  checkIfMatch(ifMatch, before, `workload "${id}"`);
  const beforeSpec = before.spec as WorkloadSpec;
  const sealed = input.env ? await sealEnv(deps, input.env, await workloadSecrets(deps, before)) : null;
  const env = sealed ? pinInfraRefs(sealed.env, await clusterCandidates(deps, before.clusterId, { except: id }, view)) : beforeSpec.env;
  const spec = specOfUpdate(beforeSpec, input, env);
  checkSpec(spec);
  const oldRoute = before.routeId ? await view.route(before.routeId) : undefined;
  const oldTunnel = oldRoute ? await view.tunnel(oldRoute.tunnelId) : undefined;
  const after: WorkloadRow = {
    ...before,
    spec,
    secretsCiphertext: sealed ? sealed.secretsCiphertext : before.secretsCiphertext,
    version: before.version + 1,
    updatedAt: deps.now().toISOString(),
  };
  const statements: BatchItem<'sqlite'>[] = [];
  const outbox: OutboxIntent[] = [];
  const rows: RowChange[] = [];
  const guards: Guard[] = [unchangedSince(workloads, id, before.version, `workload "${id}"`)];
  let keep = false;
  if (spec.route) {
    const tunnel = await routeTunnel(view, spec.route.tunnel, before.clusterId, 'body.route.tunnel');
    const wanted = workloadRouteRow(deps, { id, namespace: before.namespace, spec }, tunnel.id);
    keep = oldRoute !== undefined && sameRoute(oldRoute, wanted);
    if (!keep) {
      await checkRouteUnique(view, {
        ...(oldRoute ? { id: oldRoute.id } : {}),
        tunnelId: tunnel.id,
        hostname: wanted.hostname,
        path: wanted.path,
      });
      after.routeId = wanted.id;
      guards.push(stillExists(tunnels, tunnels.id, tunnel.id, new AppError('conflict', `tunnel "${tunnel.id}" was deleted meanwhile`)));
      statements.push(deps.db.insert(routes).values(wanted));
      rows.push({ table: 'routes', put: wanted });
      outbox.push(
        { account: tunnel.account, kind: 'tunnel_config', target: tunnel.id },
        ...dnsIntents(tunnel.account, tunnel.id, wanted.hostname),
      );
    }
  } else {
    after.routeId = null;
  }
  if (oldRoute && !keep) {
    // The old route goes first in the batch, so a new route on the same hostname and path does not collide with it.
    statements.unshift(deps.db.delete(routes).where(eq(routes.id, oldRoute.id)));
    rows.unshift({ table: 'routes', delete: oldRoute.id });
    if (oldTunnel)
      outbox.push(
        { account: oldTunnel.account, kind: 'tunnel_config', target: oldTunnel.id },
        ...dnsIntents(oldTunnel.account, oldTunnel.id, oldRoute.hostname),
      );
  }
  statements.push(
    deps.db
      .update(workloads)
      .set({
        spec: after.spec,
        secretsCiphertext: after.secretsCiphertext,
        routeId: after.routeId,
        version: after.version,
        updatedAt: after.updatedAt,
      })
      .where(eq(workloads.id, id)),
  );
  rows.push({ table: 'workloads', put: after });
  return {
    result: toApiWorkload(after),
    rows,
    write: {
      guards,
      statements,
      audit: { action: 'update', entityType: 'workload', entityId: id, before: toApiWorkload(before), after: toApiWorkload(after) },
      outbox,
      clusters: [before.clusterId],
    },
  };
}

/** Updates a workload. */
export async function updateWorkload(deps: Deps, id: string, input: WorkloadUpdate, ifMatch?: string): Promise<Workload> {
  return commitPrepared(deps, prepareWorkloadUpdate(deps, storeView(deps.db), id, input, ifMatch));
}

/**
 * Decides the delete of a workload, its route and the routes it owns (made for it by the compose import); the agent
 * prunes its objects (its Namespace is kept).
 */
export async function prepareWorkloadDelete(deps: Deps, view: StoreView, id: string, ifMatch?: string): Promise<Prepared<null>> {
  const before = await viewWorkload(view, id);
  checkIfMatch(ifMatch, before, `workload "${id}"`);
  const routeIds = [...new Set([...(before.routeId ? [before.routeId] : []), ...(await view.ownedRouteIds(id))])].sort();
  const routeRows: RouteRow[] = [];
  for (const routeId of routeIds) {
    const row = await view.route(routeId);
    if (row) routeRows.push(row);
  }
  const tunnelRows: TunnelRow[] = [];
  for (const tunnelId of [...new Set(routeRows.map((r) => r.tunnelId))].sort()) {
    const row = await view.tunnel(tunnelId);
    if (row) tunnelRows.push(row);
  }
  const statements: BatchItem<'sqlite'>[] = [];
  const outbox: OutboxIntent[] = [];
  if (routeRows.length > 0)
    statements.push(
      deps.db.delete(routes).where(
        inList(
          routes.id,
          routeRows.map((r) => r.id),
        ),
      ),
    );
  statements.push(deps.db.delete(workloads).where(eq(workloads.id, id)));
  for (const tunnel of tunnelRows)
    outbox.push(
      { account: tunnel.account, kind: 'tunnel_config', target: tunnel.id },
      ...dnsIntents(tunnel.account, tunnel.id, ...routeRows.filter((r) => r.tunnelId === tunnel.id).map((r) => r.hostname)),
    );
  return {
    result: null,
    rows: [...routeRows.map((r): RowChange => ({ table: 'routes', delete: r.id })), { table: 'workloads', delete: id }],
    write: {
      guards: [unchangedSince(workloads, id, before.version, `workload "${id}"`)],
      statements,
      audit: {
        action: 'delete',
        entityType: 'workload',
        entityId: id,
        before: { ...toApiWorkload(before), routesDeleted: routeRows.map((r) => r.id).sort() },
      },
      outbox,
      clusters: [before.clusterId, ...tunnelRows.map((t) => t.clusterId)],
    },
  };
}

/** Deletes a workload, its route and the routes it owns. */
export async function deleteWorkload(deps: Deps, id: string, ifMatch?: string): Promise<void> {
  await commitPrepared(deps, prepareWorkloadDelete(deps, storeView(deps.db), id, ifMatch));
}
