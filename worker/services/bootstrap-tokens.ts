import { and, asc, eq, isNull, lt, sql } from 'drizzle-orm';
import type { BootstrapToken, Reregistration, ReregistrationRequest } from '../../src/shared/api';
import { constantTimeEqual, secretHash, newSecret } from '../crypto';
import { fingerprintOf, toApiBootstrapToken } from '../db/mappers';
import { bootstrapTokens, clusters } from '../db/schema';
import type { Deps } from '../deps';
import { commit } from '../effects/commit';
import { AppError, notFound } from '../errors';
import { loadCluster } from './clusters';

type ClusterRow = typeof clusters.$inferSelect;

/** How long an install manifest's bootstrap token stays valid unless asked otherwise. */
export const BOOTSTRAP_TTL_HOURS = 24;

/** A registered cluster installs again only through a re-registration request, which names the credential it replaces. */
const needsReregistration = (cluster: ClusterRow): AppError =>
  new AppError(
    'conflict',
    `cluster "${cluster.id}" already has a registered agent (credential ${fingerprintOf(cluster.agentCredentialHash ?? '')}); to install another agent, request re-registration first: POST /v1/clusters/${cluster.id}/reregistration with {"replacesCredential": "${fingerprintOf(cluster.agentCredentialHash ?? '')}"}`,
  );

/** The cluster may take a new agent: it has none yet, or an admin asked to replace the one it has. */
const mayRegister = (clusterId: string) =>
  sql`EXISTS (SELECT 1 FROM ${clusters} WHERE ${clusters.id} = ${clusterId} AND (${clusters.agentCredentialHash} IS NULL OR ${clusters.reregistrationRequestedAt} IS NOT NULL))`;

/**
 * Creates a one-time bootstrap token for a cluster's install manifest; only its hash is stored. A cluster that has an
 * agent gets one only while a re-registration request is open, so no spare token for a registered cluster exists.
 */
export async function issueBootstrapToken(
  deps: Deps,
  clusterId: string,
  ttlHours = BOOTSTRAP_TTL_HOURS,
  // An install link derives its token from the link's nonce (services/install-links.ts) instead of a random one.
  token = newSecret('epb'),
): Promise<{ token: string; expiresAt: string; id: string }> {
  const cluster = await loadCluster(deps, clusterId);
  if (cluster.agentCredentialHash && !cluster.reregistrationRequestedAt) throw needsReregistration(cluster);
  const now = deps.now();
  const row = {
    hash: secretHash(token),
    clusterId,
    createdBy: deps.actor.id,
    createdAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + ttlHours * 3_600_000).toISOString(),
    usedAt: null,
  };
  await commit(deps, {
    guards: [{ holds: mayRegister(clusterId), error: needsReregistration(cluster) }],
    statements: [deps.db.insert(bootstrapTokens).values(row)],
    audit: { action: 'bootstrap_token.create', entityType: 'cluster', entityId: clusterId, after: toApiBootstrapToken(row, now.getTime()) },
  });
  return { token, expiresAt: row.expiresAt, id: fingerprintOf(row.hash) };
}

/** Removes expired, unused bootstrap tokens (called opportunistically when a new one is issued). */
export async function purgeExpiredBootstrapTokens(deps: Deps): Promise<void> {
  await deps.db.delete(bootstrapTokens).where(and(isNull(bootstrapTokens.usedAt), lt(bootstrapTokens.expiresAt, deps.now().toISOString())));
}

/** Lists a cluster's bootstrap tokens (unused, used and expired ones not yet purged), oldest first. */
export async function listBootstrapTokens(deps: Deps, clusterId: string): Promise<{ items: BootstrapToken[] }> {
  await loadCluster(deps, clusterId);
  const rows = await deps.db
    .select()
    .from(bootstrapTokens)
    .where(eq(bootstrapTokens.clusterId, clusterId))
    .orderBy(asc(bootstrapTokens.createdAt));
  const now = deps.now().getTime();
  return { items: rows.map((row) => toApiBootstrapToken(row, now)) };
}

/** Revokes an unused bootstrap token by its id (the fingerprint of its hash); a used one has nothing left to revoke. */
export async function revokeBootstrapToken(deps: Deps, clusterId: string, id: string): Promise<void> {
  await loadCluster(deps, clusterId);
  const rows = await deps.db.select().from(bootstrapTokens).where(eq(bootstrapTokens.clusterId, clusterId));
  const row = rows.find((r) => constantTimeEqual(fingerprintOf(r.hash), id));
  if (!row) throw notFound('bootstrap token', id);
  if (row.usedAt) throw new AppError('conflict', `bootstrap token "${id}" was used at ${row.usedAt}; it registers nothing more`);
  await commit(deps, {
    statements: [deps.db.delete(bootstrapTokens).where(and(eq(bootstrapTokens.hash, row.hash), isNull(bootstrapTokens.usedAt)))],
    audit: {
      action: 'bootstrap_token.revoke',
      entityType: 'cluster',
      entityId: clusterId,
      before: toApiBootstrapToken(row, deps.now().getTime()),
    },
  });
}

/**
 * An admin's request to replace a cluster's registered agent: it names the credential it replaces (so it cannot
 * replace a credential the admin has not seen), revokes the cluster's unused bootstrap tokens (a new manifest follows),
 * and is audited. Until the next registration, install.yaml issues tokens for the cluster again; the agent registering
 * with one replaces the named credential, which is refused from then on.
 */
export async function requestReregistration(deps: Deps, clusterId: string, input: ReregistrationRequest): Promise<Reregistration> {
  const cluster = await loadCluster(deps, clusterId);
  const current = cluster.agentCredentialHash;
  if (!current)
    throw new AppError(
      'conflict',
      `cluster "${clusterId}" has no registered agent; install one with GET /v1/clusters/${clusterId}/install.yaml`,
    );
  if (!constantTimeEqual(fingerprintOf(current), input.replacesCredential))
    throw new AppError(
      'conflict',
      `cluster "${clusterId}"'s agent credential is ${fingerprintOf(current)}, not ${input.replacesCredential}`,
      {
        details: [{ path: 'body.replacesCredential', message: `must be the current agentCredential, ${fingerprintOf(current)}` }],
      },
    );
  const unused = await deps.db
    .select({ hash: bootstrapTokens.hash })
    .from(bootstrapTokens)
    .where(and(eq(bootstrapTokens.clusterId, clusterId), isNull(bootstrapTokens.usedAt)));
  const requestedAt = deps.now().toISOString();
  const answer = { clusterId, replacesCredential: input.replacesCredential, requestedAt, revokedTokens: unused.length };
  await commit(deps, {
    guards: [
      {
        holds: sql`EXISTS (SELECT 1 FROM ${clusters} WHERE ${clusters.id} = ${clusterId} AND ${clusters.agentCredentialHash} = ${current})`,
        error: new AppError('conflict', `cluster "${clusterId}" registered another agent meanwhile; read it again and retry`),
      },
    ],
    statements: [
      deps.db.delete(bootstrapTokens).where(and(eq(bootstrapTokens.clusterId, clusterId), isNull(bootstrapTokens.usedAt))),
      deps.db.update(clusters).set({ reregistrationRequestedAt: requestedAt }).where(eq(clusters.id, clusterId)),
    ],
    // Audit keys that the secret redaction leaves readable (it hides anything named *credential* or *token*).
    audit: {
      action: 'agent.reregistration_request',
      entityType: 'cluster',
      entityId: clusterId,
      after: { replacesFingerprint: input.replacesCredential, requestedAt, revokedBootstraps: unused.length },
    },
  });
  return answer;
}
