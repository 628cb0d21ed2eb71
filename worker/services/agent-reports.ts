import { and, desc, eq, isNull, notInArray, sql } from 'drizzle-orm';
import type { AgentStatus, ApplyReport } from '../../src/shared/api/agent';
import { toApiApplyReport } from '../db/mappers';
import { applyReports, clusters, pruneApprovals } from '../db/schema';
import type { Deps } from '../deps';
import { AppError } from '../errors';
import type { AgentCluster } from './agent-auth';
import { probeReportStatements } from './probes';

/** Apply reports kept per cluster. */
const REPORTS_KEPT = 50;
/** Stores an agent's report and moves the cluster's applied revision, health and connection. */
export async function recordStatus(deps: Deps, row: AgentCluster, report: AgentStatus): Promise<void> {
  if (report.revision > row.desiredRevision) {
    throw new AppError(
      'validation_failed',
      `revision ${report.revision} is newer than the cluster's desired revision ${row.desiredRevision}`,
      {
        details: [{ path: 'body.revision', message: `must be ≤ ${row.desiredRevision}` }],
      },
    );
  }
  const at = deps.now().toISOString();
  const health = {
    status: report.health.status,
    connectors: report.health.connectors,
    conflicts: report.conflicts,
    brokenOrigins: report.health.origins.filter((o) => !o.ok),
    notReady: report.health.objects.filter((o) => o.status !== 'Current'),
    pruneRefused: report.pruneRefused ?? null,
    pruneRefusedObjects: report.pruneRefusedObjects ?? null,
    revision: report.revision,
    reportedAt: at,
  };
  // The approval the agent pruned under is recorded with the report (who approved which revision) and closed: the
  // bundle stops carrying it, so it can never cover a later set.
  const approval =
    report.pruneApproved === undefined
      ? undefined
      : await deps.db
          .select()
          .from(pruneApprovals)
          .where(
            and(eq(pruneApprovals.clusterId, row.id), eq(pruneApprovals.revision, report.pruneApproved), isNull(pruneApprovals.usedAt)),
          )
          .orderBy(desc(pruneApprovals.id))
          .limit(1)
          .get();
  const keep = deps.db
    .select({ id: applyReports.id })
    .from(applyReports)
    .where(eq(applyReports.clusterId, row.id))
    .orderBy(desc(applyReports.id))
    .limit(REPORTS_KEPT);
  // Egress probes the report completes commit with it (docs/diagnostics.md).
  const probeWrites = await probeReportStatements(deps, row.id, report.probes ?? []);
  await deps.db.batch([
    deps.db.insert(applyReports).values({
      clusterId: row.id,
      revision: report.revision,
      hash: report.hash,
      applied: report.applied,
      durationMs: Math.round(report.durationMs),
      results: report.results,
      conflicts: report.conflicts,
      pruned: report.pruned,
      pruneRefused: report.pruneRefused ?? null,
      pruneRefusedObjects: report.pruneRefusedObjects ?? null,
      pruneApproval: approval ? { revision: approval.revision, approvedBy: approval.approvedBy, approvedAt: approval.approvedAt } : null,
      health: report.health,
      agentVersion: report.agentVersion,
      receivedAt: at,
    }),
    deps.db
      .update(clusters)
      .set({
        // Applied revision only moves forward, and only for a revision applied completely.
        ...(report.applied ? { appliedRevision: sql`max(coalesce(${clusters.appliedRevision}, 0), ${report.revision})` } : {}),
        health,
        connection: 'connected',
        lastSeenAt: at,
        agentVersion: report.agentVersion,
      })
      .where(eq(clusters.id, row.id)),
    deps.db.delete(applyReports).where(and(eq(applyReports.clusterId, row.id), notInArray(applyReports.id, keep))),
    ...(approval
      ? [
          deps.db
            .update(pruneApprovals)
            .set({ usedAt: at, usedRevision: report.revision })
            .where(and(eq(pruneApprovals.id, approval.id), isNull(pruneApprovals.usedAt))),
        ]
      : []),
    ...probeWrites,
  ]);
}

/** The latest apply reports of a cluster, newest first, in the API's shape. */
export async function latestReports(deps: Deps, clusterId: string, limit = 10): Promise<ApplyReport[]> {
  const rows = await deps.db
    .select()
    .from(applyReports)
    .where(eq(applyReports.clusterId, clusterId))
    .orderBy(desc(applyReports.id))
    .limit(limit);
  return rows.map(toApiApplyReport);
}
