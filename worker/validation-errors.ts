import type { z } from 'zod';
import type { ErrorDetail } from '../src/shared/api/common';
import { excerpt } from '../src/shared/validation/excerpt';
import { AppError } from './errors';

type Issue = z.core.$ZodIssue;

// A path segment can be a key the client sent (a record key, an unknown field): quoted as an excerpt only.
const joinPath = (prefix: string, path: readonly PropertyKey[]): string =>
  [prefix, ...path.map((p) => excerpt(String(p)))].filter((p) => p !== '').join('.');

/** At most this many details: 70,000 unknown keys are reported as the first ones and a count, not 70,000 lines. */
const MAX_DETAILS = 20;
/** A message built from an input is cut here whatever its validator wrote, so an error never grows with the input. */
const MAX_MESSAGE = 300;

/** Flattens zod issues into `{ path, message }` details; for a union, the branch that came closest explains. */
function flatten(issues: readonly Issue[], prefix: string): ErrorDetail[] {
  return issues.flatMap((issue): ErrorDetail[] => {
    const path = joinPath(prefix, issue.path);
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      const closest = [...issue.errors].sort((a, b) => score(a) - score(b))[0] ?? [];
      return flatten(closest, path);
    }
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.slice(0, MAX_DETAILS + 1).map((key) => ({ path: joinPath(path, [key]), message: 'unknown field' }));
    }
    if (issue.code === 'invalid_type' && issue.message.includes('received undefined')) {
      return [{ path, message: `"${path.split('.').pop() ?? path}" is required` }];
    }
    return [{ path, message: issue.message }];
  });
}

/** Fewer and less structural issues first: a branch that only failed a value check beats a wrong shape. */
function score(issues: readonly Issue[]): number {
  return issues.reduce((sum, i) => sum + (i.code === 'unrecognized_keys' || i.code === 'invalid_type' ? 10 : 1), 0);
}

/** Turns a failed zod parse of one request part into the 422 envelope, naming every field. */
export function validationError(error: z.ZodError, target: string): AppError {
  const all = flatten(error.issues, target === 'json' ? 'body' : target).map((d) => ({
    path: d.path,
    message: excerpt(d.message, MAX_MESSAGE),
  }));
  const details =
    all.length > MAX_DETAILS ? [...all.slice(0, MAX_DETAILS), { path: target, message: 'more problems not listed; fix these first' }] : all;
  const summary = details
    .slice(0, 3)
    .map((d) => `${d.path}: ${d.message}`)
    .join('; ');
  return new AppError('validation_failed', summary || 'request is invalid', { details });
}
