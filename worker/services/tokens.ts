import { asc, count, eq, gt, sql } from 'drizzle-orm';
import type { ListQuery, Token, TokenCreate } from '../../src/shared/api';
import { constantTimeEqual, secretHash, newSecret } from '../crypto';
import { apiTokens } from '../db/schema';
import { commit } from '../effects/commit';
import { toApiToken } from '../db/mappers';
import type { Deps } from '../deps';
import type { Guard } from '../db/write';
import type { Config } from '../env';
import { AppError, notFound } from '../errors';
import { newId } from '../ids';
import { forgetToken } from './inference-cache';
import { decodeCursor, toPage } from './pagination';

type Row = typeof apiTokens.$inferSelect;

/** Lists tokens. */
export async function listTokens(deps: Deps, query: ListQuery) {
  const after = decodeCursor(query.cursor);
  const rows = await deps.db
    .select()
    .from(apiTokens)
    .where(after ? gt(apiTokens.id, after) : undefined)
    .orderBy(asc(apiTokens.id))
    .limit(query.limit + 1);
  return toPage(rows, query.limit, toApiToken);
}

/** Creates a token; the secret is returned once and only its SHA-256 is stored. `guards` must hold when it commits. */
export async function createToken(deps: Deps, input: TokenCreate, guards: Guard[] = []): Promise<Token & { secret: string }> {
  const now = deps.now();
  const secret = newSecret(`ep_${input.role}`);
  const row: Row = {
    id: newId('tok', now),
    name: input.name,
    hash: secretHash(secret),
    role: input.role,
    scopes: input.scopes,
    expiresAt: input.expiresInDays ? new Date(now.getTime() + input.expiresInDays * 86_400_000).toISOString() : null,
    lastUsedAt: null,
    createdAt: now.toISOString(),
  };
  await commit(deps, {
    guards,
    statements: [deps.db.insert(apiTokens).values(row)],
    audit: { action: 'create', entityType: 'api_token', entityId: row.id, after: toApiToken(row) },
  });
  return { ...toApiToken(row), secret };
}

/** Revokes a token. */
export async function deleteToken(deps: Deps, id: string): Promise<void> {
  const row = await deps.db.query.apiTokens.findFirst({ where: eq(apiTokens.id, id) });
  if (!row) throw notFound('token', id);
  await commit(deps, {
    statements: [deps.db.delete(apiTokens).where(eq(apiTokens.id, id))],
    audit: { action: 'delete', entityType: 'api_token', entityId: id, before: toApiToken(row) },
  });
  // The inference path caches tokens per isolate: this one stops working here at once (elsewhere: ADR 0014).
  forgetToken(row.hash);
}

/**
 * Checks the secret of a POST /bootstrap against EDGEPLANE_BOOTSTRAP_TOKEN (constant time), before its body is read.
 */
export function checkBootstrapSecret(config: Config, presented: string | undefined): void {
  const expected = config.EDGEPLANE_BOOTSTRAP_TOKEN;
  if (!expected) {
    throw new AppError('forbidden', 'bootstrap is disabled: set it up with `wrangler secret put EDGEPLANE_BOOTSTRAP_TOKEN` first');
  }
  if (!presented) throw new AppError('unauthorized', 'send the bootstrap secret as Authorization: Bearer <EDGEPLANE_BOOTSTRAP_TOKEN>');
  if (!constantTimeEqual(presented, expected))
    throw new AppError('unauthorized', 'the bootstrap token does not match EDGEPLANE_BOOTSTRAP_TOKEN');
}

/**
 * Creates the first admin token on a fresh deployment (the caller has passed checkBootstrapSecret). It works only while
 * no admin token exists, so the secret is useless once the first admin has been made. The check is a guard of the
 * insert's own batch, not a read before it: of two concurrent calls exactly one commits.
 */
export async function bootstrapAdmin(deps: Deps, name: string): Promise<Token & { secret: string }> {
  const alreadyDone = new AppError(
    'conflict',
    'an admin token already exists; bootstrap works only once. Create more tokens with POST /v1/tokens',
  );
  const [admins] = await deps.db.select({ n: count() }).from(apiTokens).where(eq(apiTokens.role, 'admin'));
  if ((admins?.n ?? 0) > 0) throw alreadyDone;
  const noAdmin = sql`NOT EXISTS (SELECT 1 FROM ${apiTokens} WHERE ${apiTokens.role} = 'admin')`;
  return createToken({ ...deps, actor: { id: 'bootstrap', role: 'admin' } }, { name, role: 'admin', scopes: [] }, [
    { holds: noAdmin, error: alreadyDone },
  ]);
}
