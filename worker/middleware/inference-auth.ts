import type { Context } from 'hono';
import { DEFAULT_INFERENCE_SCOPES, type InferenceScope, inferenceScope } from '../../src/shared/api';
import type { AppEnv } from '../app-env';
import { constantTimeEqual, hashSecret } from '../crypto';
import { type Actor, openDb } from '../deps';
import { AppError } from '../errors';
import { cachedToken, type InferenceCacheDeps, markTokenUsed } from '../services/inference-cache';
import { resolveSecret } from './auth';

/** Who calls the inference proxy or the Label Studio adapter, and which Triton endpoint groups they may use. */
export interface InferenceCaller {
  actor: Actor;
  scopes: ReadonlySet<InferenceScope>;
}

const ALL = new Set(inferenceScope.options);
const VIEWER: ReadonlySet<InferenceScope> = new Set(['health', 'metadata', 'statistics']);

/**
 * The secret of `Authorization: Bearer <token>`, or of HTTP Basic as Label Studio sends it for an ML backend with
 * basic auth (the token as password; as user name when the password is empty).
 */
function presentedSecret(header: string): string | undefined {
  const bearer = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
  if (bearer) return bearer;
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header)?.[1];
  if (!basic) return undefined;
  let decoded: string;
  try {
    decoded = atob(basic);
  } catch {
    return undefined;
  }
  const colon = decoded.indexOf(':');
  const user = colon < 0 ? decoded : decoded.slice(0, colon);
  const password = colon < 0 ? '' : decoded.slice(colon + 1);
  return password || user || undefined;
}

/** The scopes a token has on the proxy: admins and editors all, viewers the read-only groups, inference tokens theirs. */
export function scopesOf(role: Actor['role'], stored: string[]): ReadonlySet<InferenceScope> {
  if (role === 'admin' || role === 'editor') return ALL;
  if (role === 'viewer') return VIEWER;
  const known = stored.filter((s): s is InferenceScope => (ALL as Set<string>).has(s));
  return new Set(known.length > 0 ? known : DEFAULT_INFERENCE_SCOPES);
}

/** The reads of the inference path for this request (cached per isolate, ADR 0014). */
export function inferenceCacheDeps(c: Context<AppEnv>): InferenceCacheDeps {
  return {
    db: openDb(c.env.DB),
    now: c.get('now'),
    defer: (work) => c.executionCtx.waitUntil(work),
    encryptionKey: c.get('config').EDGEPLANE_ENCRYPTION_KEY,
  };
}

/**
 * The actor and scopes of a presented secret on the inference path. Unlike /v1 (resolveSecret, one D1 read a call),
 * the token comes from the per-isolate cache keyed by the secret's SHA-256, so a call in steady use reads no storage;
 * a revoked token stops working at once in the isolate that revoked it and within INFERENCE_CACHE_MAX_AGE_MS elsewhere.
 */
async function resolveInferenceSecret(c: Context<AppEnv>, secret: string): Promise<{ actor: Actor; scopes: string[] } | undefined> {
  const config = c.get('config');
  if (config.development && config.EDGEPLANE_DEV_ADMIN_TOKEN && constantTimeEqual(secret, config.EDGEPLANE_DEV_ADMIN_TOKEN)) {
    return resolveSecret(c, secret);
  }
  const deps = inferenceCacheDeps(c);
  const hash = await hashSecret(secret);
  const token = await cachedToken(deps, hash);
  const now = deps.now().getTime();
  if (!token || (token.expiresAt !== null && token.expiresAt <= now)) return undefined;
  markTokenUsed(deps, token);
  return { actor: { id: `token:${token.id}`, role: token.role }, scopes: token.scopes };
}

/** Authenticates a proxy or adapter call; 401 with the challenge stock clients expect when it cannot. */
export async function authenticateInference(c: Context<AppEnv>): Promise<InferenceCaller> {
  const header = c.req.header('authorization') ?? '';
  const secret = presentedSecret(header);
  const resolved = secret ? await resolveInferenceSecret(c, secret) : undefined;
  if (!resolved) {
    throw new AppError(
      'unauthorized',
      secret
        ? 'the token is not valid (unknown, revoked or expired)'
        : 'missing Authorization: Bearer <token> (or Basic with the token as password)',
      { headers: { 'www-authenticate': 'Bearer realm="edgeplane inference"' } },
    );
  }
  return { actor: resolved.actor, scopes: scopesOf(resolved.actor.role, resolved.scopes) };
}

// The binding counts in windows of its period (60 s) aligned to the clock.
const RATE_WINDOW_MS = 60_000;
// Per isolate: until when (ms) the binding has said a key is over its rate. Bounded by the keys refused in a window.
const refusedUntil = new Map<string, number>();

/**
 * Counts a call against the caller's rate (the Workers rate-limiting binding); 429 with Retry-After past it. The
 * binding is asked after the response (`defer`) and its "over" verdict refuses the key's later calls in this isolate
 * until its window ends (ADR 0014): nothing is awaited on the request path, at the price that calls already in flight
 * when the verdict arrives (usually one) pass the limit.
 */
export function limitRate(env: Env, caller: InferenceCaller, defer: (work: Promise<unknown>) => void, now: number = Date.now()): void {
  const key = caller.actor.id;
  const until = refusedUntil.get(key);
  if (until !== undefined && now < until) {
    const retryAfter = Math.max(1, Math.ceil((until - now) / 1000));
    throw new AppError('rate_limited', `too many requests for token ${key}; retry in ${retryAfter} s`, {
      headers: { 'retry-after': String(retryAfter) },
    });
  }
  if (until !== undefined) refusedUntil.delete(key);
  defer(
    env.INFERENCE_RATE_LIMITER.limit({ key }).then(
      ({ success }) => {
        if (!success) refusedUntil.set(key, (Math.floor(now / RATE_WINDOW_MS) + 1) * RATE_WINDOW_MS);
      },
      (error: unknown) => console.warn(JSON.stringify({ event: 'inference_rate_limiter_failed', error: String(error) })),
    ),
  );
}
