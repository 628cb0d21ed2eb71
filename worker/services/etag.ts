import { etagOf } from '../db/etag';
import { AppError } from '../errors';

/** Answers 412 when the client sent an If-Match that no longer names the current version. */
export function checkIfMatch(ifMatch: string | undefined, row: { version: number; updatedAt: string }, what: string): void {
  if (ifMatch === undefined || ifMatch.trim() === '*') return;
  const wanted = ifMatch.split(',').map((t) => t.trim().replace(/^W\//, ''));
  const current = etagOf(row);
  if (!wanted.includes(current)) {
    throw new AppError(
      'precondition_failed',
      `${what} has changed since you read it (If-Match ${ifMatch}, current ${current}); fetch it again`,
    );
  }
}
