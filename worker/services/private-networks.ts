import { and, asc, eq, gt, sql } from 'drizzle-orm';
import type { ListQuery, PrivateNetwork, PrivateNetworkCreate, PrivateNetworkUpdate } from '../../src/shared/api';
import { checkCidr, cidrsOverlap } from '../../src/shared/validation';
import { stillExists, unchangedSince } from '../db/guards';
import { privateNetworks, tunnels } from '../db/schema';
import { storeView, type StoreView } from '../db/view';
import type { OutboxIntent } from '../db/write';
import { toApiPrivateNetwork } from '../db/mappers';
import type { Deps } from '../deps';
import { AppError, notFound } from '../errors';
import { newId } from '../ids';
import { checkIfMatch } from './etag';
import { decodeCursor, toPage } from './pagination';
import { commitPrepared, type Prepared } from './prepared';
import { referencedTunnel } from './tunnels';

type Row = typeof privateNetworks.$inferSelect;

async function loadPrivateNetwork(deps: Deps, id: string): Promise<Row> {
  const row = await deps.db.query.privateNetworks.findFirst({ where: eq(privateNetworks.id, id) });
  if (!row) throw notFound('private network', id);
  return row;
}

/** Lists private networks, optionally of one tunnel. */
export async function listPrivateNetworks(deps: Deps, query: ListQuery & { tunnel?: string }) {
  const after = decodeCursor(query.cursor);
  const rows = await deps.db
    .select()
    .from(privateNetworks)
    .where(and(after ? gt(privateNetworks.id, after) : undefined, query.tunnel ? eq(privateNetworks.tunnelId, query.tunnel) : undefined))
    .orderBy(asc(privateNetworks.id))
    .limit(query.limit + 1);
  return toPage(rows, query.limit, toApiPrivateNetwork);
}

/** Returns one private network. */
export async function getPrivateNetwork(deps: Deps, id: string): Promise<PrivateNetwork> {
  return toApiPrivateNetwork(await loadPrivateNetwork(deps, id));
}

const syncIntents = (account: string, row: Row): OutboxIntent[] => [
  {
    account,
    kind: 'private_network',
    target: row.id,
    payload: { tunnel: row.tunnelId, cidr: row.cidr, virtualNetworkId: row.virtualNetworkId, cloudflareRouteId: row.cloudflareRouteId },
  },
  { account, kind: 'tunnel_config', target: row.tunnelId },
];

async function viewPrivateNetwork(view: StoreView, id: string): Promise<Row> {
  const row = await view.privateNetwork(id);
  if (!row) throw notFound('private network', id);
  return row;
}

/**
 * Decides routing a CIDR to a tunnel. Within one virtual network no two CIDRs may overlap (WARP could not tell which
 * tunnel to use), so an overlap is a 409 naming the network it collides with.
 */
export async function preparePrivateNetworkCreate(
  deps: Deps,
  view: StoreView,
  input: PrivateNetworkCreate,
): Promise<Prepared<PrivateNetwork>> {
  const tunnel = await referencedTunnel(view, input.tunnel);
  const parsed = checkCidr(input.cidr);
  if (!parsed.ok) throw new AppError('validation_failed', `body.cidr: ${parsed.message}`);
  const vnet = input.virtualNetworkId ?? null;
  const existing = await view.allPrivateNetworks();
  for (const other of existing) {
    if (other.virtualNetworkId !== vnet) continue;
    const otherCidr = checkCidr(other.cidr);
    if (otherCidr.ok && cidrsOverlap(parsed.value, otherCidr.value)) {
      const same = other.cidr === parsed.value.text;
      throw new AppError(
        'conflict',
        same
          ? `${input.cidr} is already routed to tunnel "${other.tunnelId}" (private network ${other.id})`
          : `${input.cidr} overlaps ${other.cidr}, routed to tunnel "${other.tunnelId}" (private network ${other.id}); use a non-overlapping CIDR or another virtual network`,
        { details: [{ path: 'body.cidr', message: `overlaps ${other.cidr}` }] },
      );
    }
  }
  const at = deps.now().toISOString();
  const row: Row = {
    id: newId('pn', deps.now()),
    tunnelId: tunnel.id,
    cidr: parsed.value.text,
    virtualNetworkId: vnet,
    comment: input.comment,
    cloudflareRouteId: null,
    version: 1,
    createdAt: at,
    updatedAt: at,
  };
  const created = toApiPrivateNetwork(row);
  return {
    result: created,
    rows: [{ table: 'privateNetworks', put: row }],
    write: {
      guards: [
        stillExists(tunnels, tunnels.id, tunnel.id, new AppError('conflict', `tunnel "${tunnel.id}" was deleted meanwhile`)),
        // The overlap check above read every network; none may have appeared since, or it could overlap unseen.
        {
          holds: sql`(SELECT count(*) FROM ${privateNetworks}) = ${existing.length}`,
          error: new AppError('conflict', 'private networks changed while this request was checked for overlaps; retry'),
        },
      ],
      statements: [deps.db.insert(privateNetworks).values(row)],
      audit: { action: 'create', entityType: 'private_network', entityId: row.id, after: created },
      outbox: syncIntents(tunnel.account, row),
    },
    affects: [tunnel.clusterId],
  };
}

/** Routes a CIDR to a tunnel. */
export async function createPrivateNetwork(deps: Deps, input: PrivateNetworkCreate): Promise<PrivateNetwork> {
  return commitPrepared(deps, preparePrivateNetworkCreate(deps, storeView(deps.db), input));
}

/** Decides a change of the comment of a private network. */
export async function preparePrivateNetworkUpdate(
  deps: Deps,
  view: StoreView,
  id: string,
  input: PrivateNetworkUpdate,
  ifMatch?: string,
): Promise<Prepared<PrivateNetwork>> {
  const before = await viewPrivateNetwork(view, id);
  checkIfMatch(ifMatch, before, `private network "${id}"`);
  const tunnel = await referencedTunnel(view, before.tunnelId);
  const after: Row = { ...before, comment: input.comment, version: before.version + 1, updatedAt: deps.now().toISOString() };
  return {
    result: toApiPrivateNetwork(after),
    rows: [{ table: 'privateNetworks', put: after }],
    write: {
      guards: [unchangedSince(privateNetworks, id, before.version, `private network "${id}"`)],
      statements: [
        deps.db
          .update(privateNetworks)
          .set({ comment: after.comment, version: after.version, updatedAt: after.updatedAt })
          .where(eq(privateNetworks.id, id)),
      ],
      audit: {
        action: 'update',
        entityType: 'private_network',
        entityId: id,
        before: toApiPrivateNetwork(before),
        after: toApiPrivateNetwork(after),
      },
      outbox: syncIntents(tunnel.account, after).slice(0, 1),
    },
  };
}

/** Changes the comment of a private network. */
export async function updatePrivateNetwork(deps: Deps, id: string, input: PrivateNetworkUpdate, ifMatch?: string): Promise<PrivateNetwork> {
  return commitPrepared(deps, preparePrivateNetworkUpdate(deps, storeView(deps.db), id, input, ifMatch));
}

/** Decides removing a private network; the sync deletes the teamnet route edgeplane created for it. */
export async function preparePrivateNetworkDelete(deps: Deps, view: StoreView, id: string, ifMatch?: string): Promise<Prepared<null>> {
  const before = await viewPrivateNetwork(view, id);
  checkIfMatch(ifMatch, before, `private network "${id}"`);
  const tunnel = await referencedTunnel(view, before.tunnelId);
  return {
    result: null,
    rows: [{ table: 'privateNetworks', delete: id }],
    write: {
      guards: [unchangedSince(privateNetworks, id, before.version, `private network "${id}"`)],
      statements: [deps.db.delete(privateNetworks).where(eq(privateNetworks.id, id))],
      audit: { action: 'delete', entityType: 'private_network', entityId: id, before: toApiPrivateNetwork(before) },
      outbox: syncIntents(tunnel.account, before),
    },
    affects: [tunnel.clusterId],
  };
}

/** Removes a private network; the sync deletes the teamnet route edgeplane created for it. */
export async function deletePrivateNetwork(deps: Deps, id: string, ifMatch?: string): Promise<void> {
  await commitPrepared(deps, preparePrivateNetworkDelete(deps, storeView(deps.db), id, ifMatch));
}
