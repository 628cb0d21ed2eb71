import { eq, sql } from 'drizzle-orm';
import type { Db } from '../deps';
import { cfSync } from '../db/schema';
import type { SyncContext } from './context';

type SyncRow = typeof cfSync.$inferSelect;
export type SyncFields = Partial<
  Pick<SyncRow, 'remoteName' | 'remoteVersion' | 'pushedHash' | 'owned' | 'conflict' | 'drift' | 'driftCheckedAt'>
>;

/** The cf_sync key of a target: `<kind>:<target>`; split-tunnel and account keys carry the account. */
export const syncKey = (kind: string, target: string): string => `${kind}:${target}`;

/** Reads a target's sync state. */
export async function readSync(ctx: SyncContext, key: string): Promise<SyncRow | undefined> {
  return ctx.db.query.cfSync.findFirst({ where: eq(cfSync.key, key) });
}

/** The statement recording a successful reconcile of a target (clears its error), for batching with other writes. */
export function successStatement(ctx: SyncContext, kind: string, target: string, fields: SyncFields = {}) {
  const at = ctx.now().toISOString();
  const values = { lastSuccessAt: at, lastError: null, attempts: 0, lastRunId: ctx.runId, updatedAt: at, ...fields };
  return ctx.db
    .insert(cfSync)
    .values({ key: syncKey(kind, target), account: ctx.account, kind, target, ...values })
    .onConflictDoUpdate({ target: cfSync.key, set: values });
}

/** Records a successful reconcile of a target (clears its error). */
export async function markSuccess(ctx: SyncContext, kind: string, target: string, fields: SyncFields = {}): Promise<void> {
  await successStatement(ctx, kind, target, fields);
}

/** Records fields of a target without touching its success or error state (drift checks, conflicts). */
export async function noteSync(ctx: SyncContext, kind: string, target: string, fields: SyncFields): Promise<void> {
  const at = ctx.now().toISOString();
  await ctx.db
    .insert(cfSync)
    .values({ key: syncKey(kind, target), account: ctx.account, kind, target, updatedAt: at, ...fields })
    .onConflictDoUpdate({ target: cfSync.key, set: { updatedAt: at, ...fields } });
}

/** Records a failed reconcile of a target: its error and one more attempt. */
export async function markFailure(ctx: SyncContext, kind: string, target: string, message: string): Promise<void> {
  const at = ctx.now().toISOString();
  await ctx.db
    .insert(cfSync)
    .values({
      key: syncKey(kind, target),
      account: ctx.account,
      kind,
      target,
      lastError: message,
      attempts: 1,
      lastRunId: ctx.runId,
      updatedAt: at,
    })
    .onConflictDoUpdate({
      target: cfSync.key,
      set: { lastError: message, attempts: sql`${cfSync.attempts} + 1`, lastRunId: ctx.runId, updatedAt: at },
    });
}

/** Forgets a target that no longer exists on either side. */
export async function dropSync(ctx: SyncContext, kind: string, target: string): Promise<void> {
  await ctx.db.delete(cfSync).where(eq(cfSync.key, syncKey(kind, target)));
}

/** Records why an account's writer could not run at all (e.g. no API token); cleared by its next run. */
export async function noteAccountError(db: Db, account: string, message: string): Promise<void> {
  const at = new Date().toISOString();
  await db
    .insert(cfSync)
    .values({ key: syncKey('account', account), account, kind: 'account', target: account, lastError: message, attempts: 1, updatedAt: at })
    .onConflictDoUpdate({ target: cfSync.key, set: { lastError: message, attempts: sql`${cfSync.attempts} + 1`, updatedAt: at } });
}
