import { and, asc, eq, gt } from 'drizzle-orm';
import type { DnsStatus, ListQuery, Route, RouteCreate, RouteUpdate } from '../../src/shared/api';
import { stillExists, unchangedSince } from '../db/guards';
import { inList } from '../db/json-list';
import { cfSync, outbox, routes, tunnels } from '../db/schema';
import { storeView, type StoreView } from '../db/view';
import type { OutboxIntent } from '../db/write';
import { toApiRoute } from '../db/mappers';
import type { Deps } from '../deps';
import { AppError, notFound } from '../errors';
import { newId } from '../ids';
import { checkIfMatch } from './etag';
import { decodeCursor, toPage } from './pagination';
import { commitPrepared, type Prepared } from './prepared';
import { checkPathFields, checkRegexRouting, checkRuleLoads } from './route-rule-check';
import { referencedTunnel } from './tunnels';

type Row = typeof routes.$inferSelect;

/**
 * Adds each route's DNS state from the sync: a foreign record in the way (conflict), a failing attempt, work still
 * queued, or synced. Two queries for the whole page.
 */
async function withDnsStatus(deps: Deps, list: Route[]): Promise<Route[]> {
  const hostnames = [...new Set(list.filter((r) => r.dns).map((r) => r.hostname))];
  if (hostnames.length === 0) return list.map((r) => ({ ...r, dnsStatus: { state: 'off', detail: null } }));
  const states = await deps.db
    .select()
    .from(cfSync)
    .where(
      inList(
        cfSync.key,
        hostnames.map((h) => `dns:${h}`),
      ),
    );
  const pending = await deps.db
    .select({ target: outbox.target, lastError: outbox.lastError })
    .from(outbox)
    .where(and(eq(outbox.kind, 'dns'), eq(outbox.status, 'pending'), inList(outbox.target, hostnames)));
  return list.map((r): Route => {
    if (!r.dns) return { ...r, dnsStatus: { state: 'off', detail: null } };
    const state = states.find((s) => s.key === `dns:${r.hostname}`);
    const queued = pending.filter((p) => p.target === r.hostname);
    const failing = queued.find((p) => p.lastError)?.lastError ?? null;
    const dns: DnsStatus = state?.conflict
      ? { state: 'conflict', detail: state.conflict }
      : failing
        ? { state: 'failing', detail: failing }
        : queued.length > 0 || !state?.lastSuccessAt
          ? { state: 'pending', detail: null }
          : { state: 'synced', detail: null };
    return { ...r, dnsStatus: dns };
  });
}

/** Loads a route row or answers 404. */
export async function loadRoute(deps: Deps, id: string): Promise<Row> {
  const row = await deps.db.query.routes.findFirst({ where: eq(routes.id, id) });
  if (!row) throw notFound('route', id);
  return row;
}

/** Lists routes, optionally of one tunnel or one hostname. */
export async function listRoutes(deps: Deps, query: ListQuery & { tunnel?: string; hostname?: string }) {
  const after = decodeCursor(query.cursor);
  const rows = await deps.db
    .select()
    .from(routes)
    .where(
      and(
        after ? gt(routes.id, after) : undefined,
        query.tunnel ? eq(routes.tunnelId, query.tunnel) : undefined,
        query.hostname ? eq(routes.hostname, query.hostname.toLowerCase()) : undefined,
      ),
    )
    .orderBy(asc(routes.id))
    .limit(query.limit + 1);
  const page = toPage(rows, query.limit, toApiRoute);
  return { ...page, items: await withDnsStatus(deps, page.items) };
}

/** Returns one route. */
export async function getRoute(deps: Deps, id: string): Promise<Route> {
  const [withStatus] = await withDnsStatus(deps, [toApiRoute(await loadRoute(deps, id))]);
  if (!withStatus) throw notFound('route', id);
  return withStatus;
}

/**
 * Refuses a hostname+path already routed on the tunnel, and a hostname that another tunnel serves: a DNS name
 * can point at one tunnel only.
 */
export async function checkRouteUnique(
  view: StoreView,
  candidate: { id?: string; tunnelId: string; hostname: string; path: string; pathRegex?: string },
): Promise<void> {
  const sameHost = (await view.routesWithHostname(candidate.hostname)).filter((r) => r.id !== candidate.id);
  const otherTunnel = sameHost.find((r) => r.tunnelId !== candidate.tunnelId);
  if (otherTunnel) {
    throw new AppError(
      'conflict',
      `hostname "${candidate.hostname}" is already routed through tunnel "${otherTunnel.tunnelId}" (route ${otherTunnel.id}); a hostname can point at one tunnel only`,
      {
        details: [{ path: 'body.hostname', message: `served by tunnel "${otherTunnel.tunnelId}"` }],
      },
    );
  }
  const pathRegex = candidate.pathRegex ?? '';
  const duplicate = sameHost.find((r) => r.path === candidate.path && r.pathRegex === pathRegex);
  if (duplicate) {
    const where = pathRegex
      ? `${candidate.hostname} with pathRegex "${pathRegex}"`
      : candidate.path
        ? `${candidate.hostname}${candidate.path}`
        : `${candidate.hostname} (no path)`;
    const field = pathRegex ? 'body.pathRegex' : candidate.path ? 'body.path' : 'body.hostname';
    throw new AppError(
      'conflict',
      `${where} is already routed on tunnel "${candidate.tunnelId}" by route ${duplicate.id}; update that route instead`,
      {
        details: [{ path: field, message: `duplicate of route ${duplicate.id}` }],
      },
    );
  }
}

/** Outbox rows for the DNS records of the given hostnames (falsy entries skipped, duplicates once). */
export function dnsIntents(account: string, tunnelId: string, ...hostnames: (string | false)[]): OutboxIntent[] {
  return [...new Set(hostnames.filter((h): h is string => Boolean(h)))].map((hostname) => ({
    account,
    kind: 'dns',
    target: hostname,
    payload: { tunnel: tunnelId },
  }));
}

async function viewRoute(view: StoreView, id: string): Promise<Row> {
  const row = await view.route(id);
  if (!row) throw notFound('route', id);
  return row;
}

/** Decides a route create against `view`: the new route, the write that stores it and the row it puts. */
export async function prepareRouteCreate(deps: Deps, view: StoreView, input: RouteCreate): Promise<Prepared<Route>> {
  checkPathFields(input);
  const tunnel = await referencedTunnel(view, input.tunnel);
  const path = input.path ?? '';
  const pathRegex = input.pathRegex ?? '';
  await checkRouteUnique(view, { tunnelId: tunnel.id, hostname: input.hostname, path, pathRegex });
  const at = deps.now().toISOString();
  const row: Row = {
    id: newId('rt', deps.now()),
    tunnelId: tunnel.id,
    hostname: input.hostname,
    path,
    pathRegex,
    origin: input.origin,
    originRequest: input.originRequest,
    dns: input.dns,
    access: input.access ?? null,
    version: 1,
    createdAt: at,
    updatedAt: at,
  };
  checkRegexRouting(row, tunnel, 'body.pathRegex');
  checkRuleLoads(row, tunnel);
  const created = toApiRoute(row);
  return {
    result: created,
    rows: [{ table: 'routes', put: row }],
    write: {
      guards: [stillExists(tunnels, tunnels.id, tunnel.id, new AppError('conflict', `tunnel "${tunnel.id}" was deleted meanwhile`))],
      statements: [deps.db.insert(routes).values(row)],
      audit: { action: 'create', entityType: 'route', entityId: row.id, after: created },
      outbox: [
        { account: tunnel.account, kind: 'tunnel_config', target: tunnel.id },
        ...dnsIntents(tunnel.account, tunnel.id, row.dns && row.hostname),
      ],
      clusters: [tunnel.clusterId],
    },
  };
}

/** Creates a route on a tunnel: the tunnel config, the cluster bundle and (optionally) DNS follow. */
export async function createRoute(deps: Deps, input: RouteCreate): Promise<Route> {
  return commitPrepared(deps, prepareRouteCreate(deps, storeView(deps.db), input));
}

/** Decides a route update against `view`; a hostname change leaves DNS work for both the old and the new name. */
export async function prepareRouteUpdate(
  deps: Deps,
  view: StoreView,
  id: string,
  input: RouteUpdate,
  ifMatch?: string,
): Promise<Prepared<Route>> {
  checkPathFields(input);
  const before = await viewRoute(view, id);
  checkIfMatch(ifMatch, before, `route "${id}"`);
  const tunnel = await referencedTunnel(view, before.tunnelId);
  // A route has one path matcher: setting a prefix drops the regex and setting a regex drops the prefix.
  const path = typeof input.pathRegex === 'string' ? '' : input.path === undefined ? before.path : (input.path ?? '');
  const pathRegex = typeof input.path === 'string' ? '' : input.pathRegex === undefined ? before.pathRegex : (input.pathRegex ?? '');
  const after: Row = {
    ...before,
    hostname: input.hostname ?? before.hostname,
    path,
    pathRegex,
    origin: input.origin ?? before.origin,
    originRequest: input.originRequest ?? before.originRequest,
    dns: input.dns ?? before.dns,
    access: input.access === undefined ? before.access : input.access,
    version: before.version + 1,
    updatedAt: deps.now().toISOString(),
  };
  if (after.hostname !== before.hostname || after.path !== before.path || after.pathRegex !== before.pathRegex) {
    await checkRouteUnique(view, { id, tunnelId: tunnel.id, hostname: after.hostname, path: after.path, pathRegex: after.pathRegex });
  }
  checkRegexRouting(after, tunnel, input.pathRegex ? 'body.pathRegex' : 'body.origin');
  checkRuleLoads(after, tunnel);
  return {
    result: toApiRoute(after),
    rows: [{ table: 'routes', put: after }],
    write: {
      guards: [unchangedSince(routes, id, before.version, `route "${id}"`)],
      statements: [
        deps.db
          .update(routes)
          .set({
            hostname: after.hostname,
            path: after.path,
            pathRegex: after.pathRegex,
            origin: after.origin,
            originRequest: after.originRequest,
            dns: after.dns,
            access: after.access,
            version: after.version,
            updatedAt: after.updatedAt,
          })
          .where(eq(routes.id, id)),
      ],
      audit: { action: 'update', entityType: 'route', entityId: id, before: toApiRoute(before), after: toApiRoute(after) },
      outbox: [
        { account: tunnel.account, kind: 'tunnel_config', target: tunnel.id },
        ...dnsIntents(tunnel.account, tunnel.id, before.dns && before.hostname, after.dns && after.hostname),
      ],
      clusters: [tunnel.clusterId],
    },
  };
}

/** Updates a route. */
export async function updateRoute(deps: Deps, id: string, input: RouteUpdate, ifMatch?: string): Promise<Route> {
  return commitPrepared(deps, prepareRouteUpdate(deps, storeView(deps.db), id, input, ifMatch));
}

/** Decides a route delete against `view`; its DNS record (if edgeplane owns it) is removed by the sync. */
export async function prepareRouteDelete(deps: Deps, view: StoreView, id: string, ifMatch?: string): Promise<Prepared<null>> {
  const before = await viewRoute(view, id);
  checkIfMatch(ifMatch, before, `route "${id}"`);
  const tunnel = await referencedTunnel(view, before.tunnelId);
  return {
    result: null,
    rows: [{ table: 'routes', delete: id }],
    write: {
      guards: [unchangedSince(routes, id, before.version, `route "${id}"`)],
      statements: [deps.db.delete(routes).where(eq(routes.id, id))],
      audit: { action: 'delete', entityType: 'route', entityId: id, before: toApiRoute(before) },
      outbox: [
        { account: tunnel.account, kind: 'tunnel_config', target: tunnel.id },
        ...dnsIntents(tunnel.account, tunnel.id, before.dns && before.hostname),
      ],
      clusters: [tunnel.clusterId],
    },
  };
}

/** Deletes a route. */
export async function deleteRoute(deps: Deps, id: string, ifMatch?: string): Promise<void> {
  await commitPrepared(deps, prepareRouteDelete(deps, storeView(deps.db), id, ifMatch));
}
