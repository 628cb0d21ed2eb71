import { type Checked, fail, ok } from './result';

/**
 * Checks a route path prefix: starts with "/", no query or fragment, no whitespace, no "//" or dot segments.
 * A trailing "/" is removed (except for "/" itself) so "/api/" and "/api" mean the same prefix.
 */
export function checkPathPrefix(input: string): Checked<string> {
  if (!input.startsWith('/')) return fail(`path "${input}" must start with "/", e.g. "/${input.replace(/^\/*/, '')}"`);
  if (/[?#]/.test(input))
    return fail(`path "${input}" contains a query or fragment; a path prefix is only the path, e.g. "${input.split(/[?#]/)[0] ?? '/'}"`);
  if (/\s/.test(input)) return fail(`path "${input}" contains whitespace; percent-encode it (%20)`);
  if (input.includes('//')) return fail(`path "${input}" contains "//"; use single slashes`);
  if (input.split('/').some((s) => s === '.' || s === '..')) return fail(`path "${input}" contains "." or ".." segments`);
  if (input.length > 1024) return fail(`path is ${input.length} characters long; the limit is 1024`);
  // eslint-disable-next-line no-control-regex -- control characters are what is being rejected
  if (/[\x00-\x1f\x7f]/.test(input)) return fail(`path "${input}" contains control characters`);
  const value = input.length > 1 ? input.replace(/\/+$/, '') : input;
  return ok(value);
}
