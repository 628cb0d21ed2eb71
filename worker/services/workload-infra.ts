import { eq } from 'drizzle-orm';
import type { WorkloadSpec } from '../../src/shared/api';
import { describeResolution, infraCandidates, resolveInfraRef, type InfraWorkload } from '../../src/shared/compiler';
import { instanceName, type InfraInstance } from '../../src/shared/kube/infra';
import { clusterInfra } from '../db/schema';
import { storeView, type StoreView } from '../db/view';
import type { Deps } from '../deps';
import { AppError } from '../errors';
import type { SealedEnv } from './workload-rows';

/** What the cluster's agent last discovered, and when (none yet: empty, null). */
export async function discoveredInfra(deps: Deps, clusterId: string): Promise<{ instances: InfraInstance[]; reportedAt: string | null }> {
  const row = await deps.db.query.clusterInfra.findFirst({ where: eq(clusterInfra.clusterId, clusterId) });
  return { instances: (row?.instances ?? []) as InfraInstance[], reportedAt: row?.reportedAt ?? null };
}

/**
 * What a reference in a workload of `clusterId` may resolve to: the agent's discoveries and the cluster's workloads that
 * run a known image, plus `extra` workloads written in the same request (a compose import), without the workload
 * being written itself (`except`: it cannot be its own database). A plan passes its view, so planned workloads count.
 */
export async function clusterCandidates(
  deps: Deps,
  clusterId: string,
  options: { except?: string; extra?: InfraWorkload[] } = {},
  view: StoreView = storeView(deps.db),
): Promise<InfraInstance[]> {
  const { instances } = await discoveredInfra(deps, clusterId);
  const rows = await view.workloadsOfCluster(clusterId);
  const own: InfraWorkload[] = [
    ...rows.map((r) => ({ id: r.id, namespace: r.namespace, spec: r.spec as WorkloadSpec })),
    ...(options.extra ?? []),
  ].filter((w) => w.id !== options.except);
  const ownIds = new Set(own.map((w) => `${w.namespace}/${w.id}`));
  // The workload being written is left out also as the agent saw it (by its Service name).
  const seen = instances.filter((i) => !(options.except !== undefined && i.workload === options.except && !ownIds.has(instanceName(i))));
  return infraCandidates(seen, own);
}

/**
 * Resolves every `{"infra": ...}` env reference and pins the instance it found, so a second database appearing later
 * can never re-wire the app. None, several, or a named instance that does not exist is a 422 per variable naming the
 * candidates; nothing is written.
 */
export function pinInfraRefs(env: SealedEnv, candidates: readonly InfraInstance[], at = 'body.env'): WorkloadSpec['env'] {
  const out: WorkloadSpec['env'] = {};
  const problems: { path: string; message: string }[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (typeof value !== 'object' || !('infra' in value)) {
      out[name] = value;
      continue;
    }
    const resolved = resolveInfraRef(value, candidates);
    if (resolved.ok) out[name] = { ...value, instance: instanceName(resolved.instance) };
    else problems.push({ path: `${at}.${name}`, message: describeResolution(value, resolved) });
  }
  const first = problems[0];
  if (first)
    throw new AppError(
      'validation_failed',
      `${first.path}: ${first.message}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''}`,
      { details: problems },
    );
  return out;
}
