import type { Context } from 'hono';
import { DEFAULT_INFERENCE_SCOPES, type InferenceScope, inferenceScope } from '../../src/shared/api';
import type { AppEnv } from '../app-env';
import { secretHash } from '../crypto';
import { type Actor, openDb } from '../deps';
import type { Config } from '../env';
import { AppError } from '../errors';
import { cachedToken, type InferenceCacheDeps, markTokenUsed } from '../services/inference-cache';
import { RateLeases } from '../services/inference-rate';
import { DEV_ADMIN, isDevAdminHash } from './auth';

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

/**
 * What the inference path needs of a request. The proxy builds it without Hono (worker/routes/inference-proxy.ts:
 * its calls skip the API's app); the Label Studio adapter and the health endpoint from their Hono context.
 */
export interface InferenceRequest {
  request: Request;
  env: Env;
  config: Config;
  now: () => Date;
  requestId: string;
  /** waitUntil: work that outlives the response. */
  defer: (work: Promise<unknown>) => void;
}

/** The inference request of a Hono route. */
export const inferenceRequestOf = (c: Context<AppEnv>): InferenceRequest => ({
  request: c.req.raw,
  env: c.env,
  config: c.get('config'),
  now: c.get('now'),
  requestId: c.get('requestId'),
  defer: (work) => c.executionCtx.waitUntil(work),
});

/** The reads of the inference path for this request (cached per isolate, ADR 0014). */
export function inferenceCacheDeps(r: InferenceRequest): InferenceCacheDeps {
  return { db: openDb(r.env.DB), now: r.now, defer: r.defer, encryptionKey: r.config.EDGEPLANE_ENCRYPTION_KEY };
}

/**
 * The actor and scopes of a presented secret on the inference path. Unlike /v1 (resolveSecret, one D1 read a call),
 * the token comes from the per-isolate cache keyed by the secret's SHA-256, so a call in steady use reads no storage;
 * a revoked token stops working at once in the isolate that revoked it and within INFERENCE_CACHE_MAX_AGE_MS elsewhere.
 */
async function resolveInferenceSecret(r: InferenceRequest, secret: string): Promise<{ actor: Actor; scopes: string[] } | undefined> {
  const hash = secretHash(secret);
  if (isDevAdminHash(r.config, hash)) return { actor: DEV_ADMIN, scopes: [] };
  const deps = inferenceCacheDeps(r);
  const token = await cachedToken(deps, hash);
  const now = deps.now().getTime();
  if (!token || (token.expiresAt !== null && token.expiresAt <= now)) return undefined;
  markTokenUsed(deps, token);
  return { actor: { id: `token:${token.id}`, role: token.role }, scopes: token.scopes };
}

/** Authenticates a proxy or adapter call; 401 with the challenge stock clients expect when it cannot. */
export async function authenticateInference(r: InferenceRequest): Promise<InferenceCaller> {
  const header = r.request.headers.get('authorization') ?? '';
  const secret = presentedSecret(header);
  const resolved = secret ? await resolveInferenceSecret(r, secret) : undefined;
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

// Per isolate: each token's leases on its rate object (ADR 0014).
const leases = new RateLeases();

/** The rate object of a token: one Durable Object per actor id, counting its calls across isolates. */
const rateObject = (env: Env, key: string) => env.INFERENCE_RATE.get(env.INFERENCE_RATE.idFromName(key));

/**
 * Counts a call against the caller's rate (EDGEPLANE_INFERENCE_RATE_PER_MINUTE); 429 with Retry-After past it. In
 * steady use nothing is awaited: the isolate spends calls leased ahead from the token's rate object and asks for more
 * after the response (RateLeases); a call waits only when a chunk of calls is already on credit.
 */
export async function limitRate(r: InferenceRequest, caller: InferenceCaller, now: number = Date.now()): Promise<void> {
  const key = caller.actor.id;
  const limit = r.config.EDGEPLANE_INFERENCE_RATE_PER_MINUTE;
  const waiting = leases.admit(key, limit, now, (want) => rateObject(r.env, key).lease(want, limit), r.defer);
  if (waiting) await waiting;
}
