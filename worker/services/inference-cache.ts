import { eq } from 'drizzle-orm';
import { apiTokens, inferenceBackends, mlBackends } from '../db/schema';
import type { Actor, Db } from '../deps';
import { IsolateCache } from './isolate-cache';
import { upstreamAuthHeaders } from './upstream-auth';

/**
 * How old a cached token, backend or ML backend may be when it is used on the inference path (ADR 0014): a token
 * revoked, or a backend changed or deleted, in another isolate stops working within this; in the isolate that wrote
 * it, at once.
 */
export const INFERENCE_CACHE_MAX_AGE_MS = 10_000;

type BackendRow = typeof inferenceBackends.$inferSelect;
type MlRow = typeof mlBackends.$inferSelect;

/** What the inference path needs of a token: its principal, scopes and expiry. Keyed by the secret's SHA-256. */
export interface CachedToken {
  id: string;
  role: Actor['role'];
  scopes: string[];
  expiresAt: number | null;
  /** When last_used_at was last written (ms), so it is refreshed at most every few minutes. */
  lastUsedAt: number;
}

/** A backend row with its upstream credentials already decrypted: kept only in this isolate's memory. */
export interface CachedBackend {
  row: BackendRow;
  authHeaders: Record<string, string>;
}

/** The reads of the inference path: D1, the clock, work after the response, the key to decrypt credentials. */
export interface InferenceCacheDeps {
  db: Db;
  now: () => Date;
  defer: (work: Promise<unknown>) => void;
  encryptionKey: string | undefined;
}

// A few thousand tokens and backends at most; the bounds only stop an isolate from growing without limit.
const tokens = new IsolateCache<CachedToken>(INFERENCE_CACHE_MAX_AGE_MS, 10_000);
const backends = new IsolateCache<CachedBackend>(INFERENCE_CACHE_MAX_AGE_MS, 1_000);
const ml = new IsolateCache<MlRow>(INFERENCE_CACHE_MAX_AGE_MS, 1_000);
// Backend ids are [a-z0-9-]; this key cannot be one.
const DEFAULT_KEY = '\0default';

/** The token whose secret hashes to `hash`, or undefined when there is none (never cached: a new token works at once). */
export function cachedToken(deps: InferenceCacheDeps, hash: string): Promise<CachedToken | undefined> {
  return tokens.get(
    hash,
    async () => {
      const row = await deps.db.query.apiTokens.findFirst({ where: eq(apiTokens.hash, hash) });
      if (!row || row.hash !== hash) return undefined;
      return {
        id: row.id,
        role: row.role,
        scopes: row.scopes,
        expiresAt: row.expiresAt ? Date.parse(row.expiresAt) : null,
        lastUsedAt: row.lastUsedAt ? Date.parse(row.lastUsedAt) : 0,
      };
    },
    deps.now().getTime(),
    deps.defer,
  );
}

const LAST_USED_GRANULARITY_MS = 5 * 60_000;

/** Records that a token was used (last_used_at, after the response), at most once every few minutes per isolate. */
export function markTokenUsed(deps: InferenceCacheDeps, token: CachedToken): void {
  const now = deps.now().getTime();
  if (now - token.lastUsedAt <= LAST_USED_GRANULARITY_MS) return;
  // Marked on the cached entry first, so concurrent calls in this isolate write it once.
  token.lastUsedAt = now;
  deps.defer(
    deps.db
      .update(apiTokens)
      .set({ lastUsedAt: new Date(now).toISOString() })
      .where(eq(apiTokens.id, token.id))
      .run(),
  );
}

/** A backend by id, or the default one (`id` undefined); undefined when there is none. */
export function cachedBackend(deps: InferenceCacheDeps, id: string | undefined): Promise<CachedBackend | undefined> {
  return backends.get(
    id ?? DEFAULT_KEY,
    async () => {
      const row = await deps.db.query.inferenceBackends.findFirst({
        where: id === undefined ? eq(inferenceBackends.isDefault, true) : eq(inferenceBackends.id, id),
      });
      return row ? { row, authHeaders: await upstreamAuthHeaders(deps.encryptionKey, row) } : undefined;
    },
    deps.now().getTime(),
    deps.defer,
  );
}

/** An ML backend by id; undefined when there is none. */
export function cachedMlBackend(deps: InferenceCacheDeps, id: string): Promise<MlRow | undefined> {
  return ml.get(id, async () => deps.db.query.mlBackends.findFirst({ where: eq(mlBackends.id, id) }), deps.now().getTime(), deps.defer);
}

/** A token was revoked in this isolate. */
export const forgetToken = (hash: string): void => tokens.forget(hash);

/** A backend was created, changed or deleted in this isolate: any of them may have become or stopped being the default. */
export const forgetInferenceBackends = (): void => backends.clear();

/** An ML backend was changed or deleted in this isolate. */
export const forgetMlBackend = (id: string): void => ml.forget(id);

/** Drops every cached entry (tests that write D1 behind the API's back). */
export function clearInferenceCaches(): void {
  tokens.clear();
  backends.clear();
  ml.clear();
}
