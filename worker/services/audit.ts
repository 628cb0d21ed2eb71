import { and, desc, eq, lt } from 'drizzle-orm';
import type { ListQuery } from '../../src/shared/api';
import { audit } from '../db/schema';
import { toApiAudit } from '../db/mappers';
import type { Deps } from '../deps';
import { AppError } from '../errors';

/** Lists the audit log, newest first; the cursor is the id of the last entry seen. */
export async function listAudit(deps: Deps, query: ListQuery & { entityType?: string; entityId?: string }) {
  let before: number | undefined;
  if (query.cursor !== undefined) {
    before = Number(query.cursor);
    if (!Number.isInteger(before) || before < 1) {
      throw new AppError('bad_request', 'query.cursor is not a cursor this API issued; pass nextCursor from the previous page');
    }
  }
  const rows = await deps.db
    .select()
    .from(audit)
    .where(
      and(
        before ? lt(audit.id, before) : undefined,
        query.entityType ? eq(audit.entityType, query.entityType) : undefined,
        query.entityId ? eq(audit.entityId, query.entityId) : undefined,
      ),
    )
    .orderBy(desc(audit.id))
    .limit(query.limit + 1);
  const more = rows.length > query.limit;
  const items = (more ? rows.slice(0, query.limit) : rows).map(toApiAudit);
  const last = items[items.length - 1];
  return { items, nextCursor: more && last ? String(last.id) : null };
}
