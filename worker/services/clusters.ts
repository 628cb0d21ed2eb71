import { and, asc, eq, gt, sql } from 'drizzle-orm';
import type { Cluster, ClusterCreate, ClusterUpdate, ListQuery } from '../../src/shared/api';
import { unchangedSince } from '../db/guards';
import { commit } from '../effects/commit';
import { clusters, tunnels } from '../db/schema';
import { storeView, type StoreView } from '../db/view';
import { toApiCluster } from '../db/mappers';
import type { Deps } from '../deps';
import { AppError, notFound } from '../errors';
import { checkIfMatch } from './etag';
import { decodeCursor, toPage } from './pagination';
import type { Prepared } from './prepared';

type Row = typeof clusters.$inferSelect;

/** Loads a cluster row or answers 404. */
export async function loadCluster(deps: Deps, id: string): Promise<Row> {
  const row = await deps.db.query.clusters.findFirst({ where: eq(clusters.id, id) });
  if (!row) throw notFound('cluster', id);
  return row;
}

/** Lists clusters by id, a page at a time. */
export async function listClusters(deps: Deps, query: ListQuery) {
  const after = decodeCursor(query.cursor);
  const rows = await deps.db
    .select()
    .from(clusters)
    .where(after ? gt(clusters.id, after) : undefined)
    .orderBy(asc(clusters.id))
    .limit(query.limit + 1);
  return toPage(rows, query.limit, (row) => toApiCluster(row, deps.now().getTime()));
}

/** Returns one cluster. */
export async function getCluster(deps: Deps, id: string): Promise<Cluster> {
  return toApiCluster(await loadCluster(deps, id), deps.now().getTime());
}

async function viewCluster(view: StoreView, id: string): Promise<Row> {
  const row = await view.cluster(id);
  if (!row) throw notFound('cluster', id);
  return row;
}

/** Decides a cluster create against `view`; its id must be new. */
export async function prepareClusterCreate(deps: Deps, view: StoreView, input: ClusterCreate): Promise<Prepared<Cluster>> {
  if (await view.cluster(input.id))
    throw new AppError('conflict', `cluster "${input.id}" already exists`, { details: [{ path: 'body.id', message: 'already in use' }] });
  const at = deps.now().toISOString();
  const row: Row = {
    id: input.id,
    name: input.name,
    labels: input.labels,
    nodes: input.nodes,
    desiredRevision: 1,
    appliedRevision: null,
    agentCredentialHash: null,
    identity: null,
    connection: 'never',
    lastSeenAt: null,
    agentVersion: null,
    kubernetesVersion: null,
    nodeCount: null,
    health: null,
    version: 1,
    createdAt: at,
    updatedAt: at,
  };
  const created = toApiCluster(row, deps.now().getTime());
  return {
    result: created,
    rows: [{ table: 'clusters', put: row }],
    write: {
      statements: [deps.db.insert(clusters).values(row)],
      audit: { action: 'create', entityType: 'cluster', entityId: row.id, after: created },
    },
    affects: [row.id],
  };
}

/** Creates a cluster; its id must be new. */
export async function createCluster(deps: Deps, input: ClusterCreate): Promise<Cluster> {
  const prepared = await prepareClusterCreate(deps, storeView(deps.db), input);
  await commit(deps, prepared.write);
  return prepared.result;
}

/** Decides an update of name, labels or declared nodes; the revision goes up because the bundle may change. */
export async function prepareClusterUpdate(
  deps: Deps,
  view: StoreView,
  id: string,
  input: ClusterUpdate,
  ifMatch?: string,
): Promise<Prepared<Cluster>> {
  const before = await viewCluster(view, id);
  checkIfMatch(ifMatch, before, `cluster "${id}"`);
  const after: Row = { ...before, ...input, version: before.version + 1, updatedAt: deps.now().toISOString() };
  const revised: Row = { ...after, desiredRevision: before.desiredRevision + 1 };
  return {
    result: toApiCluster(revised, deps.now().getTime()),
    rows: [{ table: 'clusters', put: revised }],
    write: {
      guards: [versionGuard(id, before.version)],
      statements: [
        deps.db
          .update(clusters)
          .set({ name: after.name, labels: after.labels, nodes: after.nodes, version: after.version, updatedAt: after.updatedAt })
          .where(and(eq(clusters.id, id), eq(clusters.version, before.version))),
      ],
      audit: {
        action: 'update',
        entityType: 'cluster',
        entityId: id,
        before: toApiCluster(before, deps.now().getTime()),
        after: toApiCluster(after, deps.now().getTime()),
      },
      clusters: [id],
    },
  };
}

/** Updates name, labels or declared nodes; bumps the cluster's revision because the bundle may change. */
export async function updateCluster(deps: Deps, id: string, input: ClusterUpdate, ifMatch?: string): Promise<Cluster> {
  const prepared = await prepareClusterUpdate(deps, storeView(deps.db), id, input, ifMatch);
  await commit(deps, prepared.write);
  return prepared.result;
}

/** Decides the delete of a cluster that no tunnel references any more. */
export async function prepareClusterDelete(deps: Deps, view: StoreView, id: string, ifMatch?: string): Promise<Prepared<null>> {
  const before = await viewCluster(view, id);
  checkIfMatch(ifMatch, before, `cluster "${id}"`);
  const used = (await view.tunnelsOfCluster(id)).slice(0, 5);
  if (used.length > 0) {
    throw new AppError('conflict', `cluster "${id}" still has tunnels (${used.map((t) => t.id).join(', ')}); delete or move them first`);
  }
  return {
    result: null,
    rows: [{ table: 'clusters', delete: id }],
    write: {
      guards: [
        versionGuard(id, before.version),
        {
          holds: sql`NOT EXISTS (SELECT 1 FROM ${tunnels} WHERE ${tunnels.clusterId} = ${id})`,
          error: new AppError('conflict', `cluster "${id}" gained a tunnel while it was being deleted`),
        },
      ],
      statements: [deps.db.delete(clusters).where(eq(clusters.id, id))],
      audit: { action: 'delete', entityType: 'cluster', entityId: id, before: toApiCluster(before, deps.now().getTime()) },
    },
  };
}

/** Deletes a cluster that no tunnel references any more. */
export async function deleteCluster(deps: Deps, id: string, ifMatch?: string): Promise<void> {
  const prepared = await prepareClusterDelete(deps, storeView(deps.db), id, ifMatch);
  await commit(deps, prepared.write);
}

const versionGuard = (id: string, version: number) => unchangedSince(clusters, id, version, `cluster "${id}"`);
