/** The etag of a stored resource: its version plus its last write time, so a re-created id never matches. */
export const etagOf = (row: { version: number; updatedAt: string }): string => `"${row.version}.${Date.parse(row.updatedAt).toString(36)}"`;
