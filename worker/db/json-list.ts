import { type SQL, type SQLWrapper, sql } from 'drizzle-orm';
import type { OutboxIntent } from './write';

// D1 binds at most 100 parameters per statement, so `inArray(column, values)` fails once a list that grows with the
// data (a page's hostnames, a tunnel set, a batch of ids) passes 100. These pass the whole list as ONE parameter, a JSON
// array, and let SQLite unpack it with json_each: one statement at any size, and the column's index still serves the
// `IN (subquery)`.

/** `column IN (values)` with a single bound parameter, whatever the number of values. */
export function inList(column: SQLWrapper, values: readonly (string | number)[]): SQL {
  return sql`${column} IN (SELECT value FROM json_each(${JSON.stringify(values)}))`;
}

/** `column NOT IN (values)` with a single bound parameter, whatever the number of values. */
export function notInList(column: SQLWrapper, values: readonly (string | number)[]): SQL {
  return sql`${column} NOT IN (SELECT value FROM json_each(${JSON.stringify(values)}))`;
}

/**
 * The outbox rows of a write as one statement with one parameter: a full sync queues a row per tunnel, hostname,
 * private network and split-tunnel list, thousands at scale, where a VALUES list binds five parameters a row.
 * The SELECT yields every outbox column in table order (drizzle's INSERT … SELECT names them all).
 */
export function outboxRowsSelect(rows: readonly OutboxIntent[], createdAt: string): SQL {
  const json = JSON.stringify(rows.map((o) => ({ account: o.account, kind: o.kind, target: o.target, payload: o.payload ?? {} })));
  return sql`SELECT NULL, json_extract(value, '$.account'), json_extract(value, '$.kind'), json_extract(value, '$.target'),
    json(json_extract(value, '$.payload')), 'pending', 0, NULL, NULL, ${createdAt}, NULL
    FROM json_each(${json}) ORDER BY key`;
}
