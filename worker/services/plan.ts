import { asc } from 'drizzle-orm';
import type { PlanClusterOptions } from '../../src/shared/api/cluster-dry-run';
import type { PlanChange, PlanReport, PlanResult } from '../../src/shared/api/plan';
import {
  compileClusterBundle,
  compileTunnelConfig,
  type DesiredCluster,
  diffBundles,
  diffTunnelConfig,
  type TunnelConfig,
} from '../../src/shared/compiler';
import { desiredClusterFromView } from '../db/desired-state';
import { clusters } from '../db/schema';
import { StagedView, storeView, type StoreView } from '../db/view';
import type { Deps } from '../deps';
import { AppError } from '../errors';
import type { Prepared } from './prepared';
import { prepareInferenceBackendCreate, prepareInferenceBackendDelete, prepareInferenceBackendUpdate } from './inference-backends';
import { prepareMlBackendCreate, prepareMlBackendDelete, prepareMlBackendUpdate } from './ml-backends';
import { runClusterDryRuns, type DryRunTarget } from './cluster-dry-run';
import { prepareClusterCreate, prepareClusterDelete, prepareClusterUpdate } from './clusters';
import { preparePrivateNetworkCreate, preparePrivateNetworkDelete, preparePrivateNetworkUpdate } from './private-networks';
import { prepareRouteCreate, prepareRouteDelete, prepareRouteUpdate } from './routes';
import { prepareSplitTunnelCreate, prepareSplitTunnelDelete, prepareSplitTunnelUpdate } from './split-tunnel';
import { prepareTunnelCreate, prepareTunnelDelete, prepareTunnelUpdate } from './tunnels';
import { prepareWorkloadCreate, prepareWorkloadDelete, prepareWorkloadUpdate } from './workloads';

/** A tunnel being deleted is left with a catch-all only config before it goes (as the sync does). */
const DELETED_CONFIG: TunnelConfig = { ingress: [{ service: 'http_status:404' }] };

/** The status each endpoint answers on success, by the verb its action ends with (`route.create` → 201). */
const SUCCESS = { create: 201, update: 200, delete: 204 } as const;
type Verb = keyof typeof SUCCESS;
const successOf = (action: PlanChange['action']): number => SUCCESS[action.slice(action.indexOf('.') + 1) as Verb];

/** Runs the endpoint's own decision for one change against `view` (the same function the endpoint commits). */
function prepare(deps: Deps, view: StoreView, change: PlanChange): Promise<Prepared<{ id: string } | null>> {
  switch (change.action) {
    case 'route.create':
      return prepareRouteCreate(deps, view, change.route);
    case 'route.update':
      return prepareRouteUpdate(deps, view, change.id, change.route);
    case 'route.delete':
      return prepareRouteDelete(deps, view, change.id);
    case 'tunnel.create':
      return prepareTunnelCreate(deps, view, change.tunnel);
    case 'tunnel.update':
      return prepareTunnelUpdate(deps, view, change.id, change.tunnel);
    case 'tunnel.delete':
      return prepareTunnelDelete(deps, view, change.id, { cascade: change.cascade });
    case 'cluster.create':
      return prepareClusterCreate(deps, view, change.cluster);
    case 'cluster.update':
      return prepareClusterUpdate(deps, view, change.id, change.cluster);
    case 'cluster.delete':
      return prepareClusterDelete(deps, view, change.id);
    case 'privateNetwork.create':
      return preparePrivateNetworkCreate(deps, view, change.privateNetwork);
    case 'privateNetwork.update':
      return preparePrivateNetworkUpdate(deps, view, change.id, change.privateNetwork);
    case 'privateNetwork.delete':
      return preparePrivateNetworkDelete(deps, view, change.id);
    case 'splitTunnel.create':
      return prepareSplitTunnelCreate(deps, view, change.splitTunnel);
    case 'splitTunnel.update':
      return prepareSplitTunnelUpdate(deps, view, change.id, change.splitTunnel);
    case 'splitTunnel.delete':
      return prepareSplitTunnelDelete(deps, view, change.id);
    case 'workload.create':
      return prepareWorkloadCreate(deps, view, change.workload);
    case 'workload.update':
      return prepareWorkloadUpdate(deps, view, change.id, change.workload);
    case 'workload.delete':
      return prepareWorkloadDelete(deps, view, change.id);
    case 'inferenceBackend.create':
      return prepareInferenceBackendCreate(deps, view, change.inferenceBackend);
    case 'inferenceBackend.update':
      return prepareInferenceBackendUpdate(deps, view, change.id, change.inferenceBackend);
    case 'inferenceBackend.delete':
      return prepareInferenceBackendDelete(deps, view, change.id);
    case 'mlBackend.create':
      return prepareMlBackendCreate(deps, view, change.mlBackend);
    case 'mlBackend.update':
      return prepareMlBackendUpdate(deps, view, change.id, change.mlBackend);
    case 'mlBackend.delete':
      return prepareMlBackendDelete(deps, view, change.id);
  }
}

const targetOf = (change: PlanChange): string | undefined => ('id' in change ? change.id : undefined);

/** Compiles every tunnel config and the bundle of one cluster's desired state. */
function compiled(desired: DesiredCluster) {
  const configs = new Map<string, TunnelConfig>();
  for (const t of desired.tunnels) configs.set(t.tunnel.id, compileTunnelConfig(t));
  return { configs, bundle: compileClusterBundle(desired) };
}

/**
 * What proposed changes would do. Each change runs through its endpoint's own decision code (`prepare*`, the same
 * functions POST / PATCH / DELETE commit) against the current store with the changes accepted before it laid over,
 * and stops before the commit: per change the status and error the endpoint would answer (a refused change changes
 * nothing, as a refused request would not); per affected tunnel the remote-config diff and per affected cluster the
 * objects created, changed and deleted. "Before" is the current desired state, not the live remote or cluster state.
 * Nothing is written; connector tokens are not read, except for the cluster pre-flight (`cluster.dryRun`), whose
 * bundle goes, secrets and all, to the cluster's own agent to server-side apply with dryRun=All (ADR 0015).
 */
export async function planChanges(deps: Deps, changes: PlanChange[], options: { cluster?: PlanClusterOptions } = {}): Promise<PlanReport> {
  const base = storeView(deps.db);
  const view = new StagedView(base);
  const results: PlanResult[] = [];
  const affected = new Set<string>();
  for (const [index, change] of changes.entries()) {
    try {
      const prepared = await prepare(deps, view, change);
      view.apply(prepared.rows);
      for (const id of [...(prepared.write.clusters ?? []), ...(prepared.affects ?? [])]) affected.add(id);
      const id = prepared.result?.id ?? targetOf(change);
      results.push({ index, action: change.action, status: successOf(change.action), ...(id ? { id } : {}) });
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      results.push({
        index,
        action: change.action,
        status: error.status,
        ...(targetOf(change) ? { id: targetOf(change) } : {}),
        error: { code: error.code, message: error.message, ...(error.details ? { details: error.details } : {}) },
      });
    }
  }
  const clusterIds =
    changes.length === 0
      ? (await deps.db.select({ id: clusters.id }).from(clusters).orderBy(asc(clusters.id))).map((c) => c.id)
      : [...affected].sort();

  const tunnelReports: PlanReport['tunnels'] = [];
  const clusterReports: PlanReport['clusters'] = [];
  const dryRunTargets: DryRunTarget[] = [];
  for (const clusterId of clusterIds) {
    const afterState = await desiredClusterFromView(deps, view, clusterId);
    if (!afterState) continue;
    // A cluster the plan creates is compared with the same cluster holding nothing yet.
    const beforeState = (await desiredClusterFromView(deps, base, clusterId)) ?? { ...afterState, tunnels: [], workloads: [] };
    const before = compiled(beforeState);
    const after = compiled(afterState);
    for (const id of [...new Set([...before.configs.keys(), ...after.configs.keys()])].sort()) {
      const was = before.configs.get(id);
      const now = after.configs.get(id);
      const diff = diffTunnelConfig(was ?? null, now ?? DELETED_CONFIG);
      const status = !was ? 'created' : !now ? 'deleted' : diff.noop ? 'unchanged' : 'changed';
      tunnelReports.push({ id, cluster: clusterId, status, diff });
    }
    const { hash: _hash, ...diff } = diffBundles(before.bundle, after.bundle);
    clusterReports.push({ id: clusterId, revision: afterState.revision, diff });
    if (options.cluster?.dryRun) {
      // The bundle the agent would get after these changes: the same view and compiler, with the secrets it carries.
      const withSecrets = await desiredClusterFromView(deps, view, clusterId, { withTokens: true });
      if (withSecrets)
        dryRunTargets.push({ cluster: clusterId, revision: withSecrets.revision, objects: compileClusterBundle(withSecrets).objects });
    }
  }
  if (dryRunTargets.length > 0) {
    const dryRuns = await runClusterDryRuns(deps, dryRunTargets, (options.cluster?.waitSeconds ?? 10) * 1000);
    for (const report of clusterReports) {
      const dryRun = dryRuns.get(report.id);
      if (dryRun) report.dryRun = dryRun;
    }
  }
  tunnelReports.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const refused = results.filter((r) => r.error).length;
  return {
    changes: changes.length,
    accepted: changes.length - refused,
    refused,
    results,
    tunnels: tunnelReports,
    clusters: clusterReports,
  };
}
