import { eq } from 'drizzle-orm';
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../app-env';
import { bearerSecret } from '../bearer';
import { constantTimeEqual, hashSecret } from '../crypto';
import { apiTokens } from '../db/schema';
import type { Actor } from '../deps';
import { openDb } from '../deps';
import { AppError } from '../errors';

const LAST_USED_GRANULARITY_MS = 5 * 60_000;

/**
 * Resolves `Authorization: Bearer <token>` to an actor. API tokens are looked up by their SHA-256; the dev admin
 * token is honoured only when the Worker runs with ENVIRONMENT=development.
 */
export const authenticate = createMiddleware<AppEnv>(async (c, next) => {
  const header = c.req.header('authorization') ?? '';
  const secret = bearerSecret(header);
  if (!secret) {
    throw new AppError('unauthorized', header ? 'Authorization header must be "Bearer <token>"' : 'missing Authorization: Bearer <token>', {
      headers: { 'www-authenticate': 'Bearer realm="edgeplane"' },
    });
  }
  const config = c.get('config');
  const now = c.get('now')();
  let actor: Actor | undefined;
  if (config.development && config.EDGEPLANE_DEV_ADMIN_TOKEN && constantTimeEqual(secret, config.EDGEPLANE_DEV_ADMIN_TOKEN)) {
    actor = { id: 'dev-admin', role: 'admin' };
  } else {
    const hash = await hashSecret(secret);
    const db = openDb(c.env.DB);
    const row = await db.query.apiTokens.findFirst({ where: eq(apiTokens.hash, hash) });
    // The lookup is by hash; compare again in constant time so equality never short-circuits on a prefix.
    if (row && constantTimeEqual(row.hash, hash) && !(row.expiresAt && Date.parse(row.expiresAt) <= now.getTime())) {
      actor = { id: `token:${row.id}`, role: row.role };
      const lastUsed = row.lastUsedAt ? Date.parse(row.lastUsedAt) : 0;
      if (now.getTime() - lastUsed > LAST_USED_GRANULARITY_MS) {
        c.executionCtx.waitUntil(db.update(apiTokens).set({ lastUsedAt: now.toISOString() }).where(eq(apiTokens.id, row.id)).run());
      }
    }
  }
  if (!actor) {
    throw new AppError('unauthorized', 'the bearer token is not valid (unknown, revoked or expired)', {
      headers: { 'www-authenticate': 'Bearer realm="edgeplane", error="invalid_token"' },
    });
  }
  c.set('actor', actor);
  await next();
});

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** POST endpoints that never write, so a viewer may call them. */
const READ_ONLY_POSTS = new Set(['/v1/plan']);

/**
 * Role rules for /v1: viewer reads, editor reads and writes desired state, admin also manages tokens and
 * agent installs; the inference role only reaches the inference proxy, never /v1.
 */
export const authorizeV1 = createMiddleware<AppEnv>(async (c, next) => {
  const { role } = c.get('actor');
  if (role === 'inference') throw new AppError('forbidden', 'an inference token can only call the inference proxy (/v2, /inference)');
  const readOnly = READ_METHODS.has(c.req.method) || (c.req.method === 'POST' && READ_ONLY_POSTS.has(c.req.path));
  if (role === 'viewer' && !readOnly) throw new AppError('forbidden', 'a viewer token cannot change anything');
  await next();
});

/** Requires the admin role (tokens, agent install manifests). */
export const requireAdmin = createMiddleware<AppEnv>(async (c, next) => {
  if (c.get('actor').role !== 'admin') throw new AppError('forbidden', 'this endpoint needs an admin token');
  await next();
});
