import type { z } from 'zod';
import type { ErrorDetail } from '../src/shared/api/common';
import { AppError } from './errors';

type Issue = z.core.$ZodIssue;

const joinPath = (prefix: string, path: readonly PropertyKey[]): string => [prefix, ...path.map(String)].filter((p) => p !== '').join('.');

/** Flattens zod issues into `{ path, message }` details; for a union, the branch that came closest explains. */
function flatten(issues: readonly Issue[], prefix: string): ErrorDetail[] {
  return issues.flatMap((issue): ErrorDetail[] => {
    const path = joinPath(prefix, issue.path);
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      const closest = [...issue.errors].sort((a, b) => score(a) - score(b))[0] ?? [];
      return flatten(closest, path);
    }
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ path: joinPath(path, [key]), message: `unknown field "${key}"` }));
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
  const details = flatten(error.issues, target === 'json' ? 'body' : target);
  const summary = details
    .slice(0, 3)
    .map((d) => `${d.path}: ${d.message}`)
    .join('; ');
  return new AppError('validation_failed', summary || 'request is invalid', { details });
}
