import { and, desc, eq, isNull, notInArray, sql } from 'drizzle-orm';
import type { AgentStatus, ApplyReport } from '../../src/shared/api/agent';
import { toApiApplyReport } from '../db/mappers';
import { applyReports, clusterInfra, clusters, pruneApprovals, workloads } from '../db/schema';
import { canonicalJson } from '../../src/shared/compiler';
import { notifyClusters } from '../effects/notify-clusters';
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
    // Every workload's pod health (GET /v1/workloads/{id} shows its entry), including the healthy ones.
    workloads: report.health.workloads ?? [],
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
  const infra = report.infra ? await infraChange(deps, row.id, report.infra) : { changed: false, rebuild: false };
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
        // The CA for the WARP kubeconfig (docs/diagnostics.md); a report without one keeps the last.
        ...(report.clusterCa !== undefined ? { clusterCa: report.clusterCa } : {}),
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
    ...(report.infra && infra.changed
      ? [
          deps.db
            .insert(clusterInfra)
            .values({ clusterId: row.id, instances: report.infra, reportedAt: at })
            .onConflictDoUpdate({ target: clusterInfra.clusterId, set: { instances: report.infra, reportedAt: at } }),
        ]
      : []),
    // Infra references compile against the discovered instances: a change that moves one gives the agent a new bundle.
    ...(infra.rebuild
      ? [
          deps.db
            .update(clusters)
            .set({ desiredRevision: sql`${clusters.desiredRevision} + 1` })
            .where(eq(clusters.id, row.id)),
        ]
      : []),
  ]);
  if (infra.rebuild) deps.defer(notifyClusters(deps, [row.id]));
}

/**
 * Whether a scan differs from the stored one, and whether the bundle must be rebuilt for it: only when some workload of
 * the cluster references infra (an agent rescanning an unchanged cluster writes nothing, and bumps nothing).
 */
async function infraChange(deps: Deps, clusterId: string, instances: NonNullable<AgentStatus['infra']>) {
  const stored = await deps.db.query.clusterInfra.findFirst({ where: eq(clusterInfra.clusterId, clusterId) });
  if (stored && canonicalJson(stored.instances) === canonicalJson(instances)) return { changed: false, rebuild: false };
  const specs = await deps.db.select({ spec: workloads.spec }).from(workloads).where(eq(workloads.clusterId, clusterId));
  const rebuild = specs.some((w) =>
    Object.values((w.spec as { env?: Record<string, unknown> }).env ?? {}).some((v) => typeof v === 'object' && v !== null && 'infra' in v),
  );
  return { changed: true, rebuild };
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
