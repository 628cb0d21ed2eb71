import { type SQL, sql } from 'drizzle-orm';
import type { BatchItem } from 'drizzle-orm/batch';
import { inList } from '../db/json-list';
import { cfDnsRecords, cfSync } from '../db/schema';
import type { SyncContext } from './context';
import type { OwnedRecord } from './dns-plan';
import { type SyncFields, syncKey } from './sync-state';

// What a DNS reconcile records in D1 after its Cloudflare write: the ownership row (cf_dns_records) and the
// hostname's sync state (cf_sync). A batch of 200 hostnames would be 400 statements one by one; here each kind of row
// is one statement whose rows travel as one JSON parameter (json_each, as json-list.ts does for IN lists), so a bulk
// change's bookkeeping costs a handful of statements in one D1 batch, whatever its size.

/** One hostname's bookkeeping. */
export interface DnsBookkeeping {
  hostname: string;
  /** The ownership row to write (insert, or update of an existing one), or `forget` to delete it; absent: unchanged. */
  owned?: OwnedRecord | 'forget';
  /** Recorded as the hostname's successful reconcile, with these fields (the others are left as they are). */
  success: SyncFields;
}

/** The cf_sync columns a DNS reconcile sets, by field (a fixed list: the SQL below names them literally). */
const SYNC_COLUMNS: Partial<Record<keyof SyncFields, string>> = {
  pushedHash: 'pushed_hash',
  conflict: 'conflict',
  drift: 'drift',
  driftCheckedAt: 'drift_checked_at',
};

const column = (field: keyof SyncFields): string => {
  const name = SYNC_COLUMNS[field];
  if (!name) throw new Error(`DNS bookkeeping does not record the sync field "${field}"`);
  return name;
};

/** Ownership rows as one upsert; a row that exists keeps its account and created_at (as a single upsert does). */
function ownedStatement(ctx: SyncContext, rows: OwnedRecord[]) {
  // The SELECT yields every cf_dns_records column in table order (drizzle's INSERT … SELECT names them all); `WHERE true`
  // keeps SQLite from reading ON CONFLICT as part of the SELECT's join.
  const select = sql`SELECT json_extract(value, '$.hostname'), json_extract(value, '$.account'), json_extract(value, '$.zoneId'),
      json_extract(value, '$.recordId'), json_extract(value, '$.tunnelId'), json_extract(value, '$.content'),
      json_extract(value, '$.createdAt'), json_extract(value, '$.updatedAt')
    FROM json_each(${JSON.stringify(rows)}) WHERE true`;
  return ctx.db
    .insert(cfDnsRecords)
    .select(select)
    .onConflictDoUpdate({
      target: cfDnsRecords.hostname,
      set: {
        zoneId: sql`excluded.zone_id`,
        recordId: sql`excluded.record_id`,
        tunnelId: sql`excluded.tunnel_id`,
        content: sql`excluded.content`,
        updatedAt: sql`excluded.updated_at`,
      },
    });
}

/** Successes that set the same fields, as one upsert of cf_sync (clears the error and attempts, as successStatement). */
function successStatement(ctx: SyncContext, fields: (keyof SyncFields)[], entries: DnsBookkeeping[]) {
  const at = ctx.now().toISOString();
  const rows = entries.map((e) => {
    const values: Record<string, unknown> = { key: syncKey('dns', e.hostname), target: e.hostname };
    for (const field of fields) {
      const value = e.success[field];
      // JSON columns hold JSON text, as drizzle writes them.
      values[field] = field === 'drift' && value !== null && value !== undefined ? JSON.stringify(value) : (value ?? null);
    }
    return values;
  });
  const pick = (field: keyof SyncFields): SQL => (fields.includes(field) ? sql`json_extract(value, ${`$.${field}`})` : sql`NULL`);
  // Every cf_sync column in table order; a new row gets NULL where this reconcile says nothing, an existing one keeps it.
  const select = sql`SELECT json_extract(value, '$.key'), ${ctx.account}, 'dns', json_extract(value, '$.target'), ${at},
      NULL, NULL, ${pick('pushedHash')}, NULL, NULL, 0, ${pick('conflict')}, ${pick('drift')}, ${pick('driftCheckedAt')},
      NULL, ${ctx.runId}, ${at}
    FROM json_each(${JSON.stringify(rows)}) WHERE true`;
  const set: Record<string, SQL | null | number> = {
    lastSuccessAt: sql`excluded.last_success_at`,
    lastError: null,
    attempts: 0,
    lastRunId: sql`excluded.last_run_id`,
    updatedAt: sql`excluded.updated_at`,
  };
  for (const field of fields) set[field] = sql.raw(`excluded.${column(field)}`);
  return ctx.db.insert(cfSync).select(select).onConflictDoUpdate({ target: cfSync.key, set });
}

/** The statements recording many hostnames' results: at most one per kind of row and set of sync fields. */
export function bookkeepingStatements(ctx: SyncContext, entries: DnsBookkeeping[]): BatchItem<'sqlite'>[] {
  const statements: BatchItem<'sqlite'>[] = [];
  const forget = entries.filter((e) => e.owned === 'forget').map((e) => e.hostname);
  if (forget.length) statements.push(ctx.db.delete(cfDnsRecords).where(inList(cfDnsRecords.hostname, forget)));
  const owned = entries.flatMap((e) => (e.owned && e.owned !== 'forget' ? [e.owned] : []));
  if (owned.length) statements.push(ownedStatement(ctx, owned));
  const bySignature = new Map<string, DnsBookkeeping[]>();
  for (const entry of entries) {
    const signature = Object.keys(entry.success).sort().join(',');
    const group = bySignature.get(signature);
    if (group) group.push(entry);
    else bySignature.set(signature, [entry]);
  }
  for (const [signature, group] of bySignature) {
    const fields = signature ? (signature.split(',') as (keyof SyncFields)[]) : [];
    statements.push(successStatement(ctx, fields, group));
  }
  return statements;
}
