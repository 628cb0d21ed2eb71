import type { Api } from './api';
import type { ApplyReport, ClusterHealth, FieldConflict } from '../src/shared/api/agent';

/** The latest apply report of a cluster's agent, with its health read into the agent protocol's shape. */
export interface LatestReport {
  report: ApplyReport;
  health: ClusterHealth | null;
  conflicts: FieldConflict[];
}

function isHealth(value: unknown): value is ClusterHealth {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<ClusterHealth>;
  return typeof v.status === 'string' && Array.isArray(v.objects) && Array.isArray(v.origins) && typeof v.connectors === 'object';
}

function isConflict(value: Record<string, unknown>): value is Record<string, unknown> & FieldConflict {
  return typeof value.object === 'string' && typeof value.field === 'string' && typeof value.manager === 'string';
}

/** The newest report of one cluster, or null when its agent has not reported yet. */
export async function latestReport(api: Api, clusterId: string): Promise<LatestReport | null> {
  const { items } = await api.call<{ items: ApplyReport[] }>('GET', `/v1/clusters/${encodeURIComponent(clusterId)}/reports?limit=1`);
  const report = items[0];
  if (!report) return null;
  return { report, health: isHealth(report.health) ? report.health : null, conflicts: report.conflicts.filter(isConflict) };
}

/** The newest report of each cluster, keyed by cluster id (absent: never reported). */
export async function latestReports(api: Api, clusterIds: string[]): Promise<Map<string, LatestReport>> {
  const entries = await Promise.all(clusterIds.map(async (id) => [id, await latestReport(api, id)] as const));
  const reports = new Map<string, LatestReport>();
  for (const [id, report] of entries) if (report) reports.set(id, report);
  return reports;
}
