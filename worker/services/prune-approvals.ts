import { and, desc, eq, isNull, sql } from 'drizzle-orm';
import type { PruneApproval, PruneApprovalCreate } from '../../src/shared/api';
import { toApiPruneApproval } from '../db/mappers';
import { applyReports, pruneApprovals } from '../db/schema';
import type { Deps } from '../deps';
import { commit } from '../effects/commit';
import { AppError } from '../errors';
import { loadCluster } from './clusters';

/** Approvals listed per cluster, newest first. */
const APPROVALS_LISTED = 50;

/**
 * Approves the prune the cluster's agent refused at `input.revision`: the agent may delete exactly the objects it
 * named then (or fewer, if some came back), once, past the deletion window. Only the pending refusal (the latest
 * report's) can be approved, so an operator never approves a set they have not been shown. The approval bumps the
 * cluster's revision: it is part of the bundle, and the agent is told at once.
 */
export async function approvePrune(deps: Deps, clusterId: string, input: PruneApprovalCreate): Promise<PruneApproval> {
  await loadCluster(deps, clusterId);
  const latest = await deps.db
    .select({ id: applyReports.id, revision: applyReports.revision, objects: applyReports.pruneRefusedObjects })
    .from(applyReports)
    .where(eq(applyReports.clusterId, clusterId))
    .orderBy(desc(applyReports.id))
    .limit(1)
    .get();
  if (!latest?.objects?.length)
    throw new AppError('conflict', `cluster "${clusterId}" has no refused prune to approve: its agent's latest report refused nothing`);
  if (latest.revision !== input.revision)
    throw new AppError(
      'conflict',
      `the refused prune of cluster "${clusterId}" is at revision ${latest.revision}, not ${input.revision}; approve revision ${latest.revision} after reading its objects in GET /v1/clusters/${clusterId}/reports`,
      { details: [{ path: 'body.revision', message: `must be ${latest.revision}, the revision of the pending refusal` }] },
    );
  const pending = await deps.db
    .select({ id: pruneApprovals.id })
    .from(pruneApprovals)
    .where(and(eq(pruneApprovals.clusterId, clusterId), eq(pruneApprovals.revision, input.revision), isNull(pruneApprovals.usedAt)))
    .get();
  if (pending) throw new AppError('conflict', `the prune refused at revision ${input.revision} is already approved and not used yet`);
  const row = {
    clusterId,
    revision: input.revision,
    objects: latest.objects,
    approvedBy: deps.actor.id,
    approvedAt: deps.now().toISOString(),
    usedAt: null,
    usedRevision: null,
  };
  await commit(deps, {
    guards: [
      {
        // The refusal is still the latest report when the approval commits: a newer report may name another set.
        holds: sql`(SELECT max(${applyReports.id}) FROM ${applyReports} WHERE ${applyReports.clusterId} = ${clusterId}) = ${latest.id}`,
        error: new AppError(
          'conflict',
          `the agent of cluster "${clusterId}" reported again while this approval was processed; read it again`,
        ),
      },
    ],
    statements: [deps.db.insert(pruneApprovals).values(row)],
    audit: {
      action: 'approve_prune',
      entityType: 'cluster',
      entityId: clusterId,
      after: { revision: row.revision, objects: row.objects, approvedBy: row.approvedBy },
    },
    clusters: [clusterId],
  });
  return toApiPruneApproval({ id: 0, ...row });
}

/** The cluster's prune approvals, newest first. */
export async function listPruneApprovals(deps: Deps, clusterId: string): Promise<PruneApproval[]> {
  await loadCluster(deps, clusterId);
  const rows = await deps.db
    .select()
    .from(pruneApprovals)
    .where(eq(pruneApprovals.clusterId, clusterId))
    .orderBy(desc(pruneApprovals.id))
    .limit(APPROVALS_LISTED);
  return rows.map(toApiPruneApproval);
}

/** The approval an agent may still use (the newest unused one), as the bundle carries it. */
export async function openApproval(deps: Deps, clusterId: string): Promise<{ revision: number; objects: string[] } | null> {
  const row = await deps.db
    .select({ revision: pruneApprovals.revision, objects: pruneApprovals.objects })
    .from(pruneApprovals)
    .where(and(eq(pruneApprovals.clusterId, clusterId), isNull(pruneApprovals.usedAt)))
    .orderBy(desc(pruneApprovals.id))
    .limit(1)
    .get();
  return row ?? null;
}
