import { sql } from 'drizzle-orm';
import type { SQLiteColumn, SQLiteTable } from 'drizzle-orm/sqlite-core';
import { AppError } from '../errors';
import type { Guard } from './write';

type Versioned = SQLiteTable & { id: SQLiteColumn; version: SQLiteColumn };

/** The row still has the version the request read: a concurrent write in between makes this one fail with 412. */
export const unchangedSince = (t: Versioned, id: string, version: number, what: string): Guard => ({
  holds: sql`EXISTS (SELECT 1 FROM ${t} WHERE ${t.id} = ${id} AND ${t.version} = ${version})`,
  error: new AppError('precondition_failed', `${what} changed while this request was processed; fetch it again and retry`),
});

/** A referenced row exists when the write commits. */
export const stillExists = (table: SQLiteTable, idColumn: SQLiteColumn, id: string, error: AppError): Guard => ({
  holds: sql`EXISTS (SELECT 1 FROM ${table} WHERE ${idColumn} = ${id})`,
  error,
});
