import { APIError } from 'cloudflare/core/error';
import type { RecordResponse } from 'cloudflare/resources/dns/records';
import type { Db, Deps } from '../deps';
import type { Config } from '../env';
import type { CloudflareClient } from './client';
import type { DnsPlan } from './dns-plan';
import { type Budget, RateLimitWait } from './rate-budget';

/** Everything one drain of an account's outbox (or one drift check) needs. */
export interface SyncContext {
  /** Service dependencies of the writer itself (actor `cloudflare-sync`), for shared loaders such as desired-state. */
  deps: Deps;
  db: Db;
  config: Config;
  cf: CloudflareClient;
  budget: Budget;
  account: string;
  now: () => Date;
  /** The account's zones, kept by the account's writer between drains (reloaded when stale or on a miss). */
  zones: ZoneCache;
  /** DNS records prefetched for this drain by zone id, then by name (a bulk change lists each zone once). */
  records: Map<string, Map<string, RecordResponse[]>>;
  /** Per-hostname DNS plans of this drain, each dropped once its hostname is reconciled. */
  dnsPlans: Map<string, DnsPlan>;
  /** Whether this account's token may use the DNS batch endpoint, kept by the account's writer (dns-batch.ts). */
  dnsBatch: DnsBatchMemory;
  runId: string;
}

/** An account where Cloudflare refused the DNS batch endpoint: single calls until `refusedUntil` (epoch ms), then a retry. */
export interface DnsBatchMemory {
  refusedUntil: number;
  /** Why it was refused (the API's answer, also logged as `dns_batch_refused`). */
  reason: string | null;
  /** Persists a refusal (the writer's Durable Object storage) so a restarted writer does not ask again at once. */
  save: (memory: { refusedUntil: number; reason: string | null }) => Promise<void>;
}

/** Zone name → id for one account, with when and by which run it was loaded. */
export interface ZoneCache {
  byName: Map<string, string>;
  loadedAt: number;
  loadedBy: string;
}

export const emptyZoneCache = (): ZoneCache => ({ byName: new Map(), loadedAt: 0, loadedBy: '' });

/** The HTTP status of a Cloudflare SDK error, or undefined for anything else (a timeout, a bug). */
export function statusOf(error: unknown): number | undefined {
  return error instanceof APIError && typeof error.status === 'number' ? error.status : undefined;
}

/** A RateLimitWait anywhere in an error's cause chain (the SDK wraps what its fetch throws). */
export function rateLimitWait(error: unknown, budget: Budget): RateLimitWait | undefined {
  let current: unknown = error;
  for (let depth = 0; current instanceof Error && depth < 5; depth++) {
    if (current instanceof RateLimitWait) return current;
    current = current.cause;
  }
  if (statusOf(error) === 429) {
    const until = budget.waitUntil();
    return new RateLimitWait(until ?? new Date(Date.now() + 60_000), 'Cloudflare answered 429');
  }
  return undefined;
}

/** A short, secret-free description of a failed call for last_error. */
export function describeError(error: unknown): string {
  if (error instanceof APIError) return `Cloudflare API ${error.status ?? 'connection'} error: ${error.message}`.slice(0, 500);
  // A failed D1 query's message lists its parameters (which can be a token's ciphertext): keep only the statement.
  if (error instanceof Error) return error.message.replace(/\nparams:[\s\S]*$/, '').slice(0, 500);
  return String(error).slice(0, 500);
}

/** A failure that is about the desired state or a foreign object, not a transient API problem. */
export class SyncProblem extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SyncProblem';
  }
}
