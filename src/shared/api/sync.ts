import { z } from 'zod';

/** Body of POST /v1/sync: one account, or every account edgeplane knows. */
export const syncRequest = z.strictObject({
  account: z
    .string()
    .min(1)
    .max(32)
    .optional()
    .describe('a Cloudflare account id; default: every account with tunnels or split-tunnel entries'),
});
export type SyncRequest = z.infer<typeof syncRequest>;

/** Answer of POST /v1/sync. */
export const syncStarted = z.object({
  id: z.string().describe('the sync run id; GET /v1/sync shows it as lastRunId once the writer ran it'),
  accounts: z.array(z.string()),
  enqueued: z.number().int().describe('targets queued for reconciliation'),
});
export type SyncStarted = z.infer<typeof syncStarted>;

const drift = z.object({ detectedAt: z.string(), summary: z.string(), reverted: z.boolean() });

/** Sync state of one Cloudflare target (a tunnel, its config, a DNS name, a private network, a split-tunnel list). */
export const syncTarget = z.object({
  account: z.string(),
  kind: z.string(),
  target: z.string(),
  lastSuccessAt: z.string().nullable(),
  remoteName: z.string().nullable().describe("tunnel targets: the tunnel's name in Cloudflare as last read or written"),
  remoteVersion: z.number().int().nullable().describe('tunnel config version in Cloudflare'),
  pending: z.number().int().describe('outbox rows not yet done'),
  nextAttemptAt: z.string().nullable(),
  lastError: z.string().nullable(),
  attempts: z.number().int(),
  conflict: z.string().nullable().describe('a foreign object in the way, left untouched'),
  drift: drift.nullable(),
  driftCheckedAt: z.string().nullable(),
});
export type SyncTarget = z.infer<typeof syncTarget>;

/** Sync state of one account's writer. */
export const syncAccount = z.object({
  account: z.string(),
  pending: z.number().int(),
  rateLimitedUntil: z.string().nullable(),
  waiting: z.string().nullable().describe('"waiting for rate limit until T" while the writer holds back'),
  lastRunId: z.string().nullable(),
  lastError: z.string().nullable().describe('why the writer could not run at all, e.g. CLOUDFLARE_API_TOKEN is not set'),
});

/** Answer of GET /v1/sync. */
export const syncStatus = z.object({ accounts: z.array(syncAccount), targets: z.array(syncTarget) });
export type SyncStatus = z.infer<typeof syncStatus>;
