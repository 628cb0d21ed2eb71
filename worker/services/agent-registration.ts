import { and, eq, isNull, ne, sql } from 'drizzle-orm';
import type { AgentRegister } from '../../src/shared/api/agent';
import { constantTimeEqual, secretHash } from '../crypto';
import { fingerprintOf, toApiCluster } from '../db/mappers';
import { bootstrapTokens, clusters } from '../db/schema';
import type { Deps } from '../deps';
import { commit } from '../effects/commit';
import { AppError } from '../errors';
import { unauthorized } from './agent-auth';
import { loadCluster } from './clusters';

type ClusterRow = typeof clusters.$inferSelect;
/** A stored bootstrap token, as findBootstrapToken returns it. */
export type BootstrapTokenRow = typeof bootstrapTokens.$inferSelect;

/** The bootstrap token presented as a bearer, looked up before the request body is read (docs/security.md). */
export async function findBootstrapToken(deps: Deps, token: string): Promise<BootstrapTokenRow> {
  const hash = secretHash(token);
  const row = await deps.db.query.bootstrapTokens.findFirst({ where: eq(bootstrapTokens.hash, hash) });
  if (!row || !constantTimeEqual(row.hash, hash))
    throw unauthorized('the bootstrap token is not valid; get a new install manifest from GET /v1/clusters/{id}/install.yaml');
  return row;
}

/** The refusal of a registration for a cluster that has an agent and no re-registration request; it names no identity. */
export const alreadyRegistered = (clusterId: string): AppError =>
  new AppError(
    'conflict',
    `cluster "${clusterId}" already has a registered agent; another agent can register only after an admin requests re-registration (POST /v1/clusters/${clusterId}/reregistration) and installs the manifest it leads to`,
  );

/**
 * Exchanges a one-time bootstrap token (already found by findBootstrapToken) for the cluster's agent credential, which
 * the agent made and sent (only its hash is kept). Refuses a used or expired token, a token of another cluster, a
 * credential that names another cluster, and any registration of a cluster that already has an agent unless an admin
 * asked for re-registration. Refusals never name the registered agent's identity.
 *
 * One batch commits: the token's use, the new credential hash, the end of a re-registration request (the replaced
 * credential is remembered so only it may later mark the cluster unauthorized), and the revocation of every other
 * unused token of the cluster — a spare token from an earlier manifest can register nothing afterwards. Guards make two
 * racing registrations, or a registration racing a re-registration request, fail rather than both succeed.
 *
 * The same registration sent again (its token, its credential, its identity) answers `replayed: true` and changes
 * nothing: an agent killed after this commit but before it read the answer registers again on restart with the
 * credential it stored beforehand, and must not find its one-time token spent. Anyone else reusing the token is refused.
 */
export async function registerAgent(
  deps: Deps,
  row: BootstrapTokenRow,
  input: AgentRegister,
): Promise<{ clusterId: string; replayed: boolean }> {
  const credentialHash = secretHash(input.credential);
  if (row.clusterId !== input.clusterId)
    throw new AppError('forbidden', `this bootstrap token is for cluster "${row.clusterId}", not "${input.clusterId}"`);
  if (!input.credential.startsWith(`epa.${input.clusterId}.`))
    throw new AppError('validation_failed', `the credential names another cluster than "${input.clusterId}"`, {
      details: [{ path: 'body.credential', message: `must start with "epa.${input.clusterId}."` }],
    });
  const cluster = await loadCluster(deps, row.clusterId);
  const answer = { clusterId: cluster.id };
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
  const replaced = cluster.agentCredentialHash;
  if (replaced && !cluster.reregistrationRequestedAt) throw alreadyRegistered(cluster.id);

  const at = deps.now().toISOString();
  const usedMeanwhile = unauthorized(
    'this bootstrap token was used by another registration a moment ago (or revoked); a bootstrap token registers one agent once',
  );
  // The cluster's registration is still the one read above: no agent, or the agent an admin asked to replace.
  const unchanged = replaced
    ? sql`${clusters.agentCredentialHash} = ${replaced} AND ${clusters.reregistrationRequestedAt} IS NOT NULL`
    : sql`${clusters.agentCredentialHash} IS NULL`;
  try {
    await commit(deps, {
      guards: [
        {
          holds: sql`EXISTS (SELECT 1 FROM ${bootstrapTokens} WHERE ${bootstrapTokens.hash} = ${row.hash} AND ${bootstrapTokens.usedAt} IS NULL)`,
          error: usedMeanwhile,
        },
        {
          holds: sql`EXISTS (SELECT 1 FROM ${clusters} WHERE ${clusters.id} = ${cluster.id} AND ${unchanged})`,
          error: alreadyRegistered(cluster.id),
        },
      ],
      statements: [
        deps.db
          .update(bootstrapTokens)
          .set({ usedAt: at })
          .where(and(eq(bootstrapTokens.hash, row.hash), isNull(bootstrapTokens.usedAt))),
        deps.db
          .delete(bootstrapTokens)
          .where(and(eq(bootstrapTokens.clusterId, cluster.id), ne(bootstrapTokens.hash, row.hash), isNull(bootstrapTokens.usedAt))),
        deps.db
          .update(clusters)
          .set({
            agentCredentialHash: credentialHash,
            ...(replaced ? { replacedCredentialHash: replaced } : {}),
            reregistrationRequestedAt: null,
            identity: input.identity,
            kubernetesVersion: input.kubernetesVersion,
            nodeCount: input.nodeCount,
            agentVersion: input.agentVersion,
            connection: 'connected',
            lastSeenAt: at,
          })
          .where(eq(clusters.id, cluster.id)),
      ],
      agentCredentials: [cluster.id],
      audit: {
        action: replaced ? 'agent.reregister' : 'agent.register',
        entityType: 'cluster',
        entityId: cluster.id,
        before: toApiCluster(cluster, deps.now().getTime()),
        // Fingerprints, not the identity: the audit log is readable by viewers.
        after: {
          agentFingerprint: fingerprintOf(credentialHash),
          ...(replaced ? { replacedFingerprint: fingerprintOf(replaced) } : {}),
          bootstrapId: fingerprintOf(row.hash),
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
