import { and, desc, eq, getTableName, isNull, lt, notInArray, sql } from 'drizzle-orm';
import type { AgentRegister, AgentStatus, DesiredBundle, OriginCheckTarget } from '../../src/shared/api/agent';
import type { DesiredCluster } from '../../src/shared/compiler';
import { compileClusterBundle } from '../../src/shared/compiler';
import { constantTimeEqual, hashSecret, newSecret } from '../crypto';
import { inList } from '../db/json-list';
import { applyReports, bootstrapTokens, clusters } from '../db/schema';
import { commitWrite } from '../db/write';
import type { Deps } from '../deps';
import { AppError } from '../errors';
import { connectionOf, loadCluster, toApiCluster } from './clusters';
import { loadDesiredCluster } from './desired-state';

type ClusterRow = typeof clusters.$inferSelect;

/**
 * The columns of its cluster an agent request needs (the credential check, the ETag, last seen, the status report's
 * revision bound): a 304 reads this one narrow row and nothing else — not the labels, nodes or health JSON.
 */
const agentColumns = {
  id: clusters.id,
  agentCredentialHash: clusters.agentCredentialHash,
  desiredRevision: clusters.desiredRevision,
  connection: clusters.connection,
  lastSeenAt: clusters.lastSeenAt,
};
export type AgentCluster = Pick<ClusterRow, keyof typeof agentColumns>;

/**
 * `SELECT <agentColumns> FROM clusters WHERE id = ?`, the one D1 read of a 304, as plain D1 rather than a drizzle
 * query: drizzle would rebuild the SQL and map the row on every request, allocations that show up in the p99 of the
 * 304 (docs/benchmarks.md). The text is written once from the drizzle columns, so it follows the schema; none of these
 * columns has a drizzle decoder (no JSON, no booleans, no dates), so D1's row is already the typed row.
 */
const agentLookupSql = `SELECT ${Object.entries(agentColumns)
  .map(([key, column]) => `"${column.name}" AS "${key}"`)
  .join(', ')} FROM "${getTableName(clusters)}" WHERE "${clusters.id.name}" = ? LIMIT 1`;

/** How long an install manifest's bootstrap token stays valid unless asked otherwise. */
export const BOOTSTRAP_TTL_HOURS = 24;
/** The agent's poll interval while its notify socket is down (its resync interval with the socket up is 120 s). */
export const POLL_INTERVAL_SECONDS = 30;
/** Most objects an agent may prune in one pass; more is refused and reported (circuit breaker). */
export const MAX_DELETES_PER_PASS = 25;
/** Apply reports kept per cluster. */
const REPORTS_KEPT = 50;
/**
 * last_seen_at is refreshed at most this often, after the response, so an idle agent's 304 polls do not each write to
 * D1: on the default 120 s resync one poll in two writes, while polling every 30 s one in five. It must stay below
 * UNREACHABLE_AFTER_MS (6 min) minus the resync interval, so a healthy agent's stored last seen (at most this plus one
 * interval, ≈ 4.5 min) never reads as unreachable.
 */
export const LAST_SEEN_GRANULARITY_MS = 150_000;
/**
 * Part of every ETag: bumped when the compiler's output for the same desired state changes, so a Worker deploy with a
 * new compiler makes agents fetch again even though no revision changed.
 */
const BUNDLE_FORMAT = 1;

/** `"<revision>.<format>"`: answering 304 needs only the cluster row the credential check already read. */
export const desiredEtag = (revision: number): string => `"${revision}.${BUNDLE_FORMAT}"`;

/** Creates a one-time bootstrap token for a cluster's install manifest; only its hash is stored. */
export async function issueBootstrapToken(
  deps: Deps,
  clusterId: string,
  ttlHours = BOOTSTRAP_TTL_HOURS,
): Promise<{ token: string; expiresAt: string }> {
  await loadCluster(deps, clusterId);
  const token = newSecret('epb');
  const now = deps.now();
  const expiresAt = new Date(now.getTime() + ttlHours * 3_600_000).toISOString();
  await deps.db
    .insert(bootstrapTokens)
    .values({ hash: await hashSecret(token), clusterId, createdBy: deps.actor.id, createdAt: now.toISOString(), expiresAt });
  return { token, expiresAt };
}

const unauthorized = (message: string) =>
  new AppError('unauthorized', message, { headers: { 'www-authenticate': 'Bearer realm="edgeplane-agent"' } });

/** The bearer secret of an agent request, or a 401 naming what is missing. */
export function bearer(header: string | undefined): string {
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  if (!match?.[1])
    throw unauthorized(header ? 'Authorization header must be "Bearer <token>"' : 'missing Authorization: Bearer <agent credential>');
  return match[1];
}

/**
 * Exchanges a one-time bootstrap token for the cluster's agent credential, which the agent made and sent (only its hash
 * is kept). Refuses an unknown, expired or already used token, a token of another cluster, a credential that names
 * another cluster, and an agent in a different Kubernetes cluster (kube-system UID) than the one registered first. The
 * token's use and the new credential hash commit in one batch, so two racing registrations cannot both succeed.
 *
 * The same registration sent again (its token, its credential, its identity) answers `replayed: true` and changes
 * nothing: an agent killed after this commit but before it read the answer registers again on restart with the
 * credential it stored beforehand, and must not find its one-time token spent. Anyone else reusing the token is refused.
 */
export async function registerAgent(
  deps: Deps,
  token: string,
  input: AgentRegister,
): Promise<{ clusterId: string; pollIntervalSeconds: number; replayed: boolean }> {
  const [hash, credentialHash] = await Promise.all([hashSecret(token), hashSecret(input.credential)]);
  const row = await deps.db.query.bootstrapTokens.findFirst({ where: eq(bootstrapTokens.hash, hash) });
  if (!row || !constantTimeEqual(row.hash, hash))
    throw unauthorized('the bootstrap token is not valid; get a new install manifest from GET /v1/clusters/{id}/install.yaml');
  if (row.clusterId !== input.clusterId)
    throw new AppError('forbidden', `this bootstrap token is for cluster "${row.clusterId}", not "${input.clusterId}"`);
  if (!input.credential.startsWith(`epa.${input.clusterId}.`))
    throw new AppError('validation_failed', `the credential names another cluster than "${input.clusterId}"`, {
      details: [{ path: 'body.credential', message: `must start with "epa.${input.clusterId}."` }],
    });
  const cluster = await loadCluster(deps, row.clusterId);
  const answer = { clusterId: cluster.id, pollIntervalSeconds: POLL_INTERVAL_SECONDS };
  /** Whether the cluster is registered to exactly this registration: its credential, its identity. */
  const registeredHere = (c: ClusterRow) =>
    c.agentCredentialHash !== null && constantTimeEqual(c.agentCredentialHash, credentialHash) && c.identity === input.identity;
  if (row.usedAt) {
    if (registeredHere(cluster)) return { ...answer, replayed: true };
    throw unauthorized(
      `this bootstrap token was already used at ${row.usedAt}; a bootstrap token registers one agent once. Get a new install manifest from GET /v1/clusters/${row.clusterId}/install.yaml`,
    );
  }
  if (Date.parse(row.expiresAt) <= deps.now().getTime())
    throw unauthorized(
      `this bootstrap token expired at ${row.expiresAt}; get a new install manifest from GET /v1/clusters/${row.clusterId}/install.yaml`,
    );
  const identityError = new AppError(
    'conflict',
    `cluster "${cluster.id}" is registered to another Kubernetes cluster (kube-system UID ${cluster.identity ?? '?'}); this agent runs in ${input.identity}. Install into the original cluster, or create a new edgeplane cluster for this one`,
  );
  if (cluster.identity && cluster.identity !== input.identity) throw identityError;

  const at = deps.now().toISOString();
  const usedMeanwhile = unauthorized(
    'this bootstrap token was used by another registration a moment ago; a bootstrap token registers one agent once',
  );
  try {
    await commitWrite(deps, {
      guards: [
        {
          holds: sql`EXISTS (SELECT 1 FROM ${bootstrapTokens} WHERE ${bootstrapTokens.hash} = ${hash} AND ${bootstrapTokens.usedAt} IS NULL)`,
          error: usedMeanwhile,
        },
        {
          holds: sql`EXISTS (SELECT 1 FROM ${clusters} WHERE ${clusters.id} = ${cluster.id} AND (${clusters.identity} IS NULL OR ${clusters.identity} = ${input.identity}))`,
          error: identityError,
        },
      ],
      statements: [
        deps.db
          .update(bootstrapTokens)
          .set({ usedAt: at })
          .where(and(eq(bootstrapTokens.hash, hash), isNull(bootstrapTokens.usedAt))),
        deps.db
          .update(clusters)
          .set({
            agentCredentialHash: credentialHash,
            identity: input.identity,
            kubernetesVersion: input.kubernetesVersion,
            nodeCount: input.nodeCount,
            agentVersion: input.agentVersion,
            connection: 'connected',
            lastSeenAt: at,
          })
          .where(eq(clusters.id, cluster.id)),
      ],
      audit: {
        action: 'agent.register',
        entityType: 'cluster',
        entityId: cluster.id,
        before: toApiCluster(cluster),
        after: {
          identity: input.identity,
          kubernetesVersion: input.kubernetesVersion,
          nodeCount: input.nodeCount,
          agentVersion: input.agentVersion,
        },
      },
    });
  } catch (error) {
    // The token was spent between the read above and this commit: by this same registration sent twice (an agent
    // restarted while its first request was still in flight), which is then done, or by anyone else, who wins.
    if (error === usedMeanwhile && registeredHere(await loadCluster(deps, cluster.id))) return { ...answer, replayed: true };
    throw error;
  }
  return { ...answer, replayed: false };
}

/**
 * Resolves an agent credential (`epa.<cluster>.<secret>`) to its cluster with one indexed D1 read (the hash is computed
 * meanwhile). The credential names its cluster, so a credential can only ever read and report for that one; a wrong
 * secret for a registered cluster whose agent has gone silent (`unreachable`) marks it `unauthorized` (e.g. an agent
 * still holding a credential replaced by a re-registration). Nothing is cached: a replaced credential is refused on its
 * very next request.
 */
export async function authenticateAgent(deps: Deps, credential: string): Promise<AgentCluster> {
  const [prefix, clusterId, secret] = credential.split('.');
  if (prefix !== 'epa' || !clusterId || !secret)
    throw unauthorized('the agent credential is malformed; it must be the value returned by POST /agent/v1/register');
  const [row, hash] = await Promise.all([
    deps.env.DB.prepare(agentLookupSql).bind(clusterId).first<AgentCluster>(),
    hashSecret(credential),
  ]);
  if (!row?.agentCredentialHash || !constantTimeEqual(row.agentCredentialHash, hash)) {
    // A refused credential says nothing while the real agent is still heard from: marking the cluster then would let
    // anyone who knows its id flip a working cluster's status with a made-up secret.
    if (row?.agentCredentialHash && connectionOf(row, deps.now().getTime()) === 'unreachable') {
      deps.defer(deps.db.update(clusters).set({ connection: 'unauthorized' }).where(eq(clusters.id, row.id)).run());
    }
    throw unauthorized('the agent credential is not valid (unknown, or replaced by a newer registration); re-install the agent');
  }
  return row;
}

/**
 * Records that the agent was heard from: `connected` and last seen now, written after the response (`deps.defer`) and
 * skipped while the stored value is `connected` and younger than LAST_SEEN_GRANULARITY_MS.
 */
export function touch(deps: Deps, row: AgentCluster, extra: Partial<Pick<ClusterRow, 'agentVersion'>> = {}): void {
  const last = row.lastSeenAt ? Date.parse(row.lastSeenAt) : 0;
  const now = deps.now();
  if (now.getTime() - last < LAST_SEEN_GRANULARITY_MS && row.connection === 'connected' && !extra.agentVersion) return;
  deps.defer(
    deps.db
      .update(clusters)
      .set({ lastSeenAt: now.toISOString(), connection: 'connected', ...extra })
      .where(eq(clusters.id, row.id))
      .run(),
  );
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
  return {
    clusterId: row.id,
    revision: desired.revision,
    hash: bundle.hash,
    objects: bundle.objects,
    origins: originTargets(desired),
    // A cluster with no tunnels was emptied on purpose through the API: only then may an empty bundle prune everything.
    prune: { maxDeletes: MAX_DELETES_PER_PASS, allowEmpty: desired.tunnels.length === 0 },
  };
}

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
    revision: report.revision,
    reportedAt: at,
  };
  const keep = deps.db
    .select({ id: applyReports.id })
    .from(applyReports)
    .where(eq(applyReports.clusterId, row.id))
    .orderBy(desc(applyReports.id))
    .limit(REPORTS_KEPT);
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
  ]);
}

/** The latest apply reports of a cluster, newest first (admin page and tests). */
export async function latestReports(deps: Deps, clusterId: string, limit = 10) {
  return deps.db.select().from(applyReports).where(eq(applyReports.clusterId, clusterId)).orderBy(desc(applyReports.id)).limit(limit);
}

/** Removes expired, unused bootstrap tokens (called opportunistically when a new one is issued). */
export async function purgeExpiredBootstrapTokens(deps: Deps): Promise<void> {
  await deps.db.delete(bootstrapTokens).where(and(isNull(bootstrapTokens.usedAt), lt(bootstrapTokens.expiresAt, deps.now().toISOString())));
}

/** Tells the clusters' notifiers their new desired revisions (after a committed write; failures only delay the agent). */
export async function notifyClusters(deps: Pick<Deps, 'db' | 'env'>, clusterIds: string[]): Promise<void> {
  if (clusterIds.length === 0) return;
  const rows = await deps.db
    .select({ id: clusters.id, revision: clusters.desiredRevision })
    .from(clusters)
    .where(inList(clusters.id, clusterIds));
  await Promise.all(
    rows.map(async (r) => {
      try {
        await deps.env.CLUSTER_NOTIFIER.get(deps.env.CLUSTER_NOTIFIER.idFromName(r.id)).notify(r.revision);
      } catch (error) {
        console.warn(
          JSON.stringify({ msg: 'cluster notify failed; the agent will catch up by polling', cluster: r.id, error: String(error) }),
        );
      }
    }),
  );
}
