import { and, eq, isNull, sql } from 'drizzle-orm';
import type { AgentRegister } from '../../src/shared/api/agent';
import { constantTimeEqual, hashSecret } from '../crypto';
import { toApiCluster } from '../db/mappers';
import { bootstrapTokens, clusters } from '../db/schema';
import type { Deps } from '../deps';
import { commit } from '../effects/commit';
import { AppError } from '../errors';
import { unauthorized } from './agent-auth';
import { loadCluster } from './clusters';

type ClusterRow = typeof clusters.$inferSelect;

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
export async function registerAgent(deps: Deps, token: string, input: AgentRegister): Promise<{ clusterId: string; replayed: boolean }> {
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
    await commit(deps, {
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
      agentCredentials: [cluster.id],
      audit: {
        action: 'agent.register',
        entityType: 'cluster',
        entityId: cluster.id,
        before: toApiCluster(cluster, deps.now().getTime()),
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
