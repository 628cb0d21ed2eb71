import { eq, getTableName } from 'drizzle-orm';
import { bearerSecret } from '../bearer';
import { constantTimeEqual, secretHash } from '../crypto';
import { connectionOf } from '../db/mappers';
import { clusters } from '../db/schema';
import type { Deps } from '../deps';
import { AppError } from '../errors';

type ClusterRow = typeof clusters.$inferSelect;

/**
 * The columns of its cluster an agent request needs (the credential check, the ETag, last seen, the status report's
 * revision bound): a 304 reads this one narrow row and nothing else — not the labels, nodes or health JSON.
 */
const agentColumns = {
  id: clusters.id,
  agentCredentialHash: clusters.agentCredentialHash,
  replacedCredentialHash: clusters.replacedCredentialHash,
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

/**
 * last_seen_at is refreshed at most this often, after the response, so an idle agent's 304 polls do not each write to
 * D1: on the default 120 s resync one poll in two writes, while polling every 30 s one in five. It must stay below
 * UNREACHABLE_AFTER_MS (6 min) minus the resync interval, so a healthy agent's stored last seen (at most this plus one
 * interval, ≈ 4.5 min) never reads as unreachable.
 */
export const LAST_SEEN_GRANULARITY_MS = 150_000;
export const unauthorized = (message: string): AppError =>
  new AppError('unauthorized', message, { headers: { 'www-authenticate': 'Bearer realm="edgeplane-agent"' } });

/** The bearer secret of an agent request, or a 401 naming what is missing. */
export function bearer(header: string | undefined): string {
  const secret = bearerSecret(header);
  if (!secret)
    throw unauthorized(header ? 'Authorization header must be "Bearer <token>"' : 'missing Authorization: Bearer <agent credential>');
  return secret;
}

/**
 * Resolves an agent credential (`epa.<cluster>.<secret>`) to its cluster with one indexed D1 read (the hash is computed
 * meanwhile). The credential names its cluster, so a credential can only ever read and report for that one. The
 * credential a re-registration replaced, presented while the cluster's agent is silent (`unreachable`), marks the cluster
 * `unauthorized`: an agent was left behind with it. Any other refused credential changes nothing, so whoever knows a
 * cluster's id cannot change its state with a made-up secret. Nothing is cached here: a replaced credential is refused on
 * its very next request (the 304 answered by the cluster's notifier is fenced by every credential change: ADR 0013).
 */
export async function authenticateAgent(deps: Deps, credential: string): Promise<AgentCluster> {
  const [prefix, clusterId, secret] = credential.split('.');
  if (prefix !== 'epa' || !clusterId || !secret)
    throw unauthorized('the agent credential is malformed; it must be the value returned by POST /agent/v1/register');
  const hash = secretHash(credential);
  const row = await deps.env.DB.prepare(agentLookupSql).bind(clusterId).first<AgentCluster>();
  if (!row?.agentCredentialHash || !constantTimeEqual(row.agentCredentialHash, hash)) {
    // Only a credential once valid for this cluster (the one a re-registration replaced) may mark it, and only while the
    // real agent is not heard from.
    if (
      row?.replacedCredentialHash &&
      constantTimeEqual(row.replacedCredentialHash, hash) &&
      connectionOf(row, deps.now().getTime()) === 'unreachable'
    ) {
      deps.defer(deps.db.update(clusters).set({ connection: 'unauthorized' }).where(eq(clusters.id, row.id)).run());
    }
    throw unauthorized('the agent credential is not valid (unknown, or replaced by a newer registration); re-install the agent');
  }
  return row;
}

/**
 * Records that the agent was heard from: `connected` and last seen now, written after the response (`deps.defer`) and
 * skipped while the stored value is `connected` and younger than LAST_SEEN_GRANULARITY_MS. Returns the last seen time
 * (ms) the row holds once the write lands.
 */
export function touch(deps: Deps, row: AgentCluster, extra: Partial<Pick<ClusterRow, 'agentVersion'>> = {}): number {
  const last = row.lastSeenAt ? Date.parse(row.lastSeenAt) : 0;
  const now = deps.now();
  if (now.getTime() - last < LAST_SEEN_GRANULARITY_MS && row.connection === 'connected' && !extra.agentVersion) return last;
  deps.defer(
    deps.db
      .update(clusters)
      .set({ lastSeenAt: now.toISOString(), connection: 'connected', ...extra })
      .where(eq(clusters.id, row.id))
      .run(),
  );
  return now.getTime();
}
