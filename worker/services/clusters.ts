import { and, asc, eq, gt, sql } from 'drizzle-orm';
import type { Cluster, ClusterCreate, ClusterUpdate, ListQuery } from '../../src/shared/api';
import { unchangedSince } from '../db/guards';
import { clusters, tunnels, workloads } from '../db/schema';
import { storeView, type StoreView } from '../db/view';
import { toApiCluster } from '../db/mappers';
import type { Deps } from '../deps';
import { AppError, notFound } from '../errors';
import { checkIfMatch } from './etag';
import { decodeCursor, toPage } from './pagination';
import { commitPrepared, type Prepared } from './prepared';
import { withWarpAccess } from './warp-access';

type Row = typeof clusters.$inferSelect;

/** The prune breaker of a new cluster: 25 deletions per 10 minutes without an approval. */
export const DEFAULT_PRUNE_MAX_DELETES = 25;
export const DEFAULT_PRUNE_WINDOW_SECONDS = 600;

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
  const page = toPage(rows, query.limit, (row) => toApiCluster(row, deps.now().getTime()));
  // The WARP path of the whole page in a fixed number of queries (not one set per row).
  return { ...page, items: await withWarpAccess(deps, page.items, rows.slice(0, query.limit)) };
}

/** Returns one cluster, with its WARP path check. */
export async function getCluster(deps: Deps, id: string): Promise<Cluster> {
  const row = await loadCluster(deps, id);
  const [item] = await withWarpAccess(deps, [toApiCluster(row, deps.now().getTime())], [row]);
  if (!item) throw notFound('cluster', id);
  return item;
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
    replacedCredentialHash: null,
    reregistrationRequestedAt: null,
    connection: 'never',
    lastSeenAt: null,
    agentVersion: null,
    kubernetesVersion: null,
    nodeCount: null,
    health: null,
    pruneMaxDeletes: DEFAULT_PRUNE_MAX_DELETES,
    pruneWindowSeconds: DEFAULT_PRUNE_WINDOW_SECONDS,
    apiServerAddress: input.apiServerAddress,
    clusterCa: null,
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
  return commitPrepared(deps, prepareClusterCreate(deps, storeView(deps.db), input));
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
  const { prune, ...fields } = input;
  const after: Row = {
    ...before,
    ...fields,
    pruneMaxDeletes: prune?.maxDeletes ?? before.pruneMaxDeletes,
    pruneWindowSeconds: prune?.windowMinutes !== undefined ? prune.windowMinutes * 60 : before.pruneWindowSeconds,
    version: before.version + 1,
    updatedAt: deps.now().toISOString(),
  };
  const revised: Row = { ...after, desiredRevision: before.desiredRevision + 1 };
  return {
    result: toApiCluster(revised, deps.now().getTime()),
    rows: [{ table: 'clusters', put: revised }],
    write: {
      guards: [versionGuard(id, before.version)],
      statements: [
        deps.db
          .update(clusters)
          .set({
            name: after.name,
            labels: after.labels,
            nodes: after.nodes,
            apiServerAddress: after.apiServerAddress,
            pruneMaxDeletes: after.pruneMaxDeletes,
            pruneWindowSeconds: after.pruneWindowSeconds,
            version: after.version,
            updatedAt: after.updatedAt,
          })
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

/** Updates name, labels, declared nodes or the prune breaker; bumps the cluster's revision because the bundle may change. */
export async function updateCluster(deps: Deps, id: string, input: ClusterUpdate, ifMatch?: string): Promise<Cluster> {
  return commitPrepared(deps, prepareClusterUpdate(deps, storeView(deps.db), id, input, ifMatch));
}

/** Workloads listed by name in a refusal (the count says how many more there are). */
const NAMED = 10;

/** Decides the delete of a cluster that no tunnel and no workload references any more. */
export async function prepareClusterDelete(deps: Deps, view: StoreView, id: string, ifMatch?: string): Promise<Prepared<null>> {
  const before = await viewCluster(view, id);
  checkIfMatch(ifMatch, before, `cluster "${id}"`);
  const used = (await view.tunnelsOfCluster(id)).slice(0, 5);
  if (used.length > 0) {
    throw new AppError('conflict', `cluster "${id}" still has tunnels (${used.map((t) => t.id).join(', ')}); delete or move them first`);
  }
  const deployed = await view.workloadsOfCluster(id);
  if (deployed.length > 0) {
    const n = deployed.length;
    const named = deployed.slice(0, NAMED).map((w) => w.id);
    throw new AppError(
      'conflict',
      `cluster "${id}" still has ${n} workload(s) (${named.join(', ')}${n > named.length ? `, and ${n - named.length} more` : ''}); delete them first with DELETE /v1/workloads/{id} (the agent prunes their objects)`,
      {
        details: deployed
          .slice(0, NAMED)
          .map((w) => ({ path: `workloads.${w.id}`, message: `workload "${w.id}" in namespace "${w.namespace}"` })),
      },
    );
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
        {
          holds: sql`NOT EXISTS (SELECT 1 FROM ${workloads} WHERE ${workloads.clusterId} = ${id})`,
          error: new AppError('conflict', `cluster "${id}" gained a workload while it was being deleted`),
        },
      ],
      statements: [deps.db.delete(clusters).where(eq(clusters.id, id))],
      agentCredentials: [id],
      audit: { action: 'delete', entityType: 'cluster', entityId: id, before: toApiCluster(before, deps.now().getTime()) },
    },
  };
}

/** Deletes a cluster that no tunnel and no workload references any more. */
export async function deleteCluster(deps: Deps, id: string, ifMatch?: string): Promise<void> {
  await commitPrepared(deps, prepareClusterDelete(deps, storeView(deps.db), id, ifMatch));
}

const versionGuard = (id: string, version: number) => unchangedSince(clusters, id, version, `cluster "${id}"`);
