import type { DesiredBundle, OriginCheckTarget } from '../../src/shared/api/agent';
import type { DesiredCluster } from '../../src/shared/compiler';
import { compileClusterBundle } from '../../src/shared/compiler';
import { loadDesiredCluster } from '../db/desired-state';
import { eq } from 'drizzle-orm';
import { clusters } from '../db/schema';
import type { Deps } from '../deps';
import { openApproval } from './prune-approvals';
import { pendingProbeRequests } from './probes';

type ClusterRow = typeof clusters.$inferSelect;

/**
 * Part of every ETag: bumped when the compiler's output for the same desired state changes, so a Worker deploy with a
 * new compiler makes agents fetch again even though no revision changed.
 */
const BUNDLE_FORMAT = 1;

/** `"<revision>.<format>"`: answering 304 needs only the cluster row the credential check already read. */
export const desiredEtag = (revision: number): string => `"${revision}.${BUNDLE_FORMAT}"`;

/** The revisions an If-None-Match header names in this bundle format (other tags, e.g. of an older format, match none). */
export function etagRevisions(ifNoneMatch: string): number[] {
  const revisions: number[] = [];
  for (const tag of ifNoneMatch.split(',')) {
    const match = /^"(\d{1,15})\.(\d+)"$/.exec(tag.trim());
    if (match && Number(match[2]) === BUNDLE_FORMAT) revisions.push(Number(match[1]));
  }
  return revisions;
}

/** The Services the agent checks: every Service origin of a route, and the ingress/gateway Service a mode routes through. */
function originTargets(desired: DesiredCluster): OriginCheckTarget[] {
  const targets: OriginCheckTarget[] = [];
  for (const { tunnel, routes: tunnelRoutes } of desired.tunnels) {
    for (const route of tunnelRoutes) {
      if ('service' in route.origin) targets.push({ route: route.id, hostname: route.hostname, ...route.origin.service });
    }
    const mode = tunnel.mode;
    if (tunnelRoutes.length > 0 && mode.type === 'ingress')
      targets.push({ route: `${tunnel.id}:controller`, hostname: '*', ...mode.controller });
    if (tunnelRoutes.length > 0 && mode.type === 'gateway') targets.push({ route: `${tunnel.id}:gateway`, hostname: '*', ...mode.service });
  }
  return targets;
}

/**
 * The cluster's whole desired bundle (the only response that carries connector tokens, to that cluster's agent). The
 * revision is the one read with the desired state, so content is never older than the revision it is labelled with.
 */
export async function desiredBundleFor(deps: Deps, row: Pick<ClusterRow, 'id'>): Promise<DesiredBundle> {
  const desired = await loadDesiredCluster(deps, row.id, { withTokens: true });
  const bundle = compileClusterBundle(desired);
  const breaker = await deps.db
    .select({ maxDeletes: clusters.pruneMaxDeletes, windowSeconds: clusters.pruneWindowSeconds })
    .from(clusters)
    .where(eq(clusters.id, row.id))
    .get();
  return {
    clusterId: row.id,
    revision: desired.revision,
    hash: bundle.hash,
    objects: bundle.objects,
    origins: originTargets(desired),
    // A cluster with no tunnels was emptied on purpose through the API: only then may an empty bundle prune everything.
    // Deletions are counted by the agent over the window (its own clock, kept in its state ConfigMap); more needs an
    // operator's approval of the exact set, which the bundle carries until the agent reports it used.
    prune: {
      maxDeletes: breaker?.maxDeletes ?? 0,
      windowSeconds: breaker?.windowSeconds ?? 600,
      allowEmpty: desired.tunnels.length === 0,
      approval: await openApproval(deps, row.id),
    },
    probes: await pendingProbeRequests(deps, row.id),
  };
}
