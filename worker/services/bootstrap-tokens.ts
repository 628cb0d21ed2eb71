import { and, isNull, lt } from 'drizzle-orm';
import { hashSecret, newSecret } from '../crypto';
import { bootstrapTokens } from '../db/schema';
import type { Deps } from '../deps';
import { loadCluster } from './clusters';

/** How long an install manifest's bootstrap token stays valid unless asked otherwise. */
export const BOOTSTRAP_TTL_HOURS = 24;
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

/** Removes expired, unused bootstrap tokens (called opportunistically when a new one is issued). */
export async function purgeExpiredBootstrapTokens(deps: Deps): Promise<void> {
  await deps.db.delete(bootstrapTokens).where(and(isNull(bootstrapTokens.usedAt), lt(bootstrapTokens.expiresAt, deps.now().toISOString())));
}
