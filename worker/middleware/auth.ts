import { eq } from 'drizzle-orm';
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../app-env';
import { bearerSecret } from '../bearer';
import { constantTimeEqual, secretHash } from '../crypto';
import { apiTokens } from '../db/schema';
import type { Actor } from '../deps';
import type { Config } from '../env';
import { openDb } from '../deps';
import { AppError } from '../errors';
import { ACCESS_HEADER, accessConfigured, verifyAccess } from './access';

const LAST_USED_GRANULARITY_MS = 5 * 60_000;

// The dev admin token's SHA-256 per parsed config (one per isolate: configOf), computed on first use.
const devTokenHashes = new WeakMap<Config, string>();

/**
 * Whether the secret whose SHA-256 is `hash` is the dev admin token: only in development. The digests are compared,
 * not the secrets, so where a comparison stops tells nothing about the token (finding a secret from a digest's prefix
 * is a preimage search); every caller hashes the secret anyway to look up API tokens. It replaced a constant-time
 * comparison of the secrets through crypto.subtle on every call in development (docs/benchmarks.md).
 */
export function isDevAdminHash(config: Config, hash: string): boolean {
  if (!config.development || config.EDGEPLANE_DEV_ADMIN_TOKEN === undefined) return false;
  let dev = devTokenHashes.get(config);
  if (dev === undefined) {
    dev = secretHash(config.EDGEPLANE_DEV_ADMIN_TOKEN);
    devTokenHashes.set(config, dev);
  }
  return hash === dev;
}

/** Who the dev admin token (development only) acts as. */
export const DEV_ADMIN: Actor = { id: 'dev-admin', role: 'admin' };

/**
 * The actor and scopes of a presented token secret, or undefined when it is unknown, revoked or expired. API tokens
 * are looked up by their SHA-256; the dev admin token is honoured only when the Worker runs with ENVIRONMENT=development.
 */
export async function resolveSecret(c: Context<AppEnv>, secret: string): Promise<{ actor: Actor; scopes: string[] } | undefined> {
  const config = c.get('config');
  const hash = secretHash(secret);
  if (isDevAdminHash(config, hash)) return { actor: DEV_ADMIN, scopes: [] };
  const db = openDb(c.env.DB);
  const now = c.get('now')();
  const row = await db.query.apiTokens.findFirst({ where: eq(apiTokens.hash, hash) });
  // The lookup is by hash; compare again in constant time so equality never short-circuits on a prefix.
  if (!row || !constantTimeEqual(row.hash, hash) || (row.expiresAt && Date.parse(row.expiresAt) <= now.getTime())) return undefined;
  const lastUsed = row.lastUsedAt ? Date.parse(row.lastUsedAt) : 0;
  if (now.getTime() - lastUsed > LAST_USED_GRANULARITY_MS) {
    c.executionCtx.waitUntil(db.update(apiTokens).set({ lastUsedAt: now.toISOString() }).where(eq(apiTokens.id, row.id)).run());
  }
  return { actor: { id: `token:${row.id}`, role: row.role }, scopes: row.scopes };
}

/**
 * Resolves `Authorization: Bearer <token>` to an actor (see resolveSecret); without an Authorization header, and when
 * the Worker expects Cloudflare Access, the Access assertion the edge adds (the console's calls ride on it).
 */
export const authenticate = createMiddleware<AppEnv>(async (c, next) => {
  const header = c.req.header('authorization') ?? '';
  const config = c.get('config');
  if (!header && accessConfigured(config) && c.req.header(ACCESS_HEADER) !== undefined) {
    const result = await verifyAccess(config, c.req.header(ACCESS_HEADER), c.get('now')());
    if (!result.ok) throw new AppError('unauthorized', result.message);
    // Access rides on a cookie the browser sends with any request to this host, so a state-changing call must come
    // from the console's own origin (a cross-site form or fetch carries another Origin, or none).
    if (!READ_METHODS.has(c.req.method) && c.req.header('origin') !== new URL(c.req.url).origin) {
      throw new AppError(
        'forbidden',
        'cross-site request refused: a change signed in by Cloudflare Access must come from the edgeplane console (Origin header)',
      );
    }
    c.set('actor', result.identity.actor);
    await next();
    return;
  }
  const secret = bearerSecret(header);
  if (!secret) {
    const expected = accessConfigured(config)
      ? 'a Cloudflare Access sign-in (Cf-Access-Jwt-Assertion) or Authorization: Bearer <token>'
      : 'Authorization: Bearer <token>';
    throw new AppError('unauthorized', header ? 'Authorization header must be "Bearer <token>"' : `missing ${expected}`, {
      headers: { 'www-authenticate': 'Bearer realm="edgeplane"' },
    });
  }
  const actor = (await resolveSecret(c, secret))?.actor;
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
