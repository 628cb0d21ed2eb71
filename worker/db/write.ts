import { type SQL, sql } from 'drizzle-orm';
import type { BatchItem } from 'drizzle-orm/batch';
import { AppError } from '../errors';
import type { Deps } from '../deps';
import { inList, outboxRowsSelect } from './json-list';
import { audit, clusters, outbox, writeGuards } from './schema';
import { redactSecrets } from './redact';

/** A condition that must still hold when the write commits, and the error to report when it does not. */
export interface Guard {
  holds: SQL;
  error: AppError;
}

/** Cloudflare-side work a write leaves for the sync writer. */
export interface OutboxIntent {
  account: string;
  kind: 'tunnel' | 'tunnel_config' | 'dns' | 'split_tunnel' | 'private_network';
  target: string;
  payload?: Record<string, unknown>;
}

/** One API write: the entity statements plus everything that must commit with them or not at all. */
export interface Write {
  guards?: Guard[];
  statements: BatchItem<'sqlite'>[];
  audit: { action: string; entityType: string; entityId: string; before?: unknown; after?: unknown };
  outbox?: OutboxIntent[];
  /** Clusters whose desired revision this write changes. */
  clusters?: string[];
  /**
   * Clusters whose agent credential this write replaces or removes (registration, cluster delete): `commit` fences their
   * notifiers' 304 copies around the batch (ADR 0013). The batch itself does nothing with it.
   */
  agentCredentials?: string[];
}

const GUARD_FAILED = /CHECK constraint failed: write_guard/;
const UNIQUE_FAILED = /UNIQUE constraint failed: ([\w.]+(?:, [\w.]+)*)/;
const FK_FAILED = /FOREIGN KEY constraint failed/;

/**
 * Commits a write as one D1 batch (a single transaction): guards, revision bumps, the audit entry, outbox rows
 * and the entity statements. If any statement fails, none of them is applied. What follows a commit (waking the
 * Cloudflare writers and the clusters' agents) is not the store's business: callers go through `commit` in
 * `worker/effects/commit.ts`.
 */
export async function commitWrite(deps: Deps, write: Write): Promise<void> {
  const { db } = deps;
  const at = deps.now().toISOString();
  const guards = (write.guards ?? []).map((g) => db.insert(writeGuards).select(sql`SELECT 'failed' AS reason WHERE NOT (${g.holds})`));
  const affected = [...new Set(write.clusters ?? [])];
  const bumps = affected.length
    ? [
        db
          .update(clusters)
          .set({ desiredRevision: sql`${clusters.desiredRevision} + 1` })
          .where(inList(clusters.id, affected)),
      ]
    : [];
  const auditRow = db.insert(audit).values({
    at,
    actor: deps.actor.id,
    action: write.audit.action,
    entityType: write.audit.entityType,
    entityId: write.audit.entityId,
    before: redactSecrets(write.audit.before ?? null),
    after: redactSecrets(write.audit.after ?? null),
    requestId: deps.requestId,
  });
  const outboxRows = write.outbox?.length ? [db.insert(outbox).select(outboxRowsSelect(write.outbox, at))] : [];
  const items = [...guards, ...bumps, auditRow, ...outboxRows, ...write.statements] as [BatchItem<'sqlite'>, ...BatchItem<'sqlite'>[]];
  try {
    await db.batch(items);
  } catch (error) {
    throw await explainFailure(deps, write, error);
  }
}

async function explainFailure(deps: Deps, write: Write, error: unknown): Promise<unknown> {
  const message = errorText(error);
  if (GUARD_FAILED.test(message)) {
    for (const guard of write.guards ?? []) {
      const row = await deps.db.get<{ ok: number }>(sql`SELECT (${guard.holds}) AS ok`);
      if (!row?.ok) return guard.error;
    }
    return new AppError('conflict', 'the resource changed while this request was being processed; read it again and retry');
  }
  const unique = UNIQUE_FAILED.exec(message);
  if (unique) return new AppError('conflict', `a resource with the same ${unique[1] ?? 'key'} already exists`);
  if (FK_FAILED.test(message)) return new AppError('conflict', 'a referenced resource does not exist or is still referenced');
  return error;
}

/** D1 wraps SQLite errors in `cause` chains; collect every message so the constraint name is found. */
function errorText(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current && depth < 5; depth++) {
    if (current instanceof Error) {
      parts.push(current.message);
      current = current.cause;
    } else {
      parts.push(String(current));
      break;
    }
  }
  return parts.join(' | ');
}
