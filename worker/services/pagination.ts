import { AppError } from '../errors';

/** Encodes the last id of a page as an opaque cursor. */
export const encodeCursor = (lastId: string): string => btoa(JSON.stringify({ after: lastId })).replace(/=+$/, '');

/** Decodes a cursor from `encodeCursor`; a tampered one is a 400 naming the parameter. */
export function decodeCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(atob(cursor));
    if (value && typeof value === 'object' && 'after' in value && typeof value.after === 'string') return value.after;
  } catch {
    // fall through to the error below
  }
  throw new AppError('bad_request', 'query.cursor is not a cursor this API issued; pass nextCursor from the previous page', {
    details: [{ path: 'query.cursor', message: 'not a valid cursor' }],
  });
}

/** Cuts a fetched `limit + 1` rows into a page and the cursor of the next one. */
export function toPage<R extends { id: string }, T>(
  rows: R[],
  limit: number,
  map: (row: R) => T,
): { items: T[]; nextCursor: string | null } {
  const more = rows.length > limit;
  const pageRows = more ? rows.slice(0, limit) : rows;
  const last = pageRows[pageRows.length - 1];
  return { items: pageRows.map(map), nextCursor: more && last ? encodeCursor(last.id) : null };
}
