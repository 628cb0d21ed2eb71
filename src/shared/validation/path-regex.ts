import { compilePathRegex } from '../cloudflared/path-regex';
import { type Checked, fail, ok } from './result';

/** The longest path regex a route takes (the same bound as a path prefix). */
export const PATH_REGEX_MAX = 1024;

/**
 * Checks a route's cloudflared path regex the way cloudflared does when it loads the rule (Go's regexp.Compile, RE2
 * syntax, through re2js): the message carries Go's reason. The value is kept byte for byte — no trimming — since the
 * compiler hands it to cloudflared unchanged. An empty regex would match every path, which is a route without a path.
 */
export function checkPathRegex(input: string): Checked<string> {
  if (input === '') return fail('pathRegex is empty; an empty regex matches every path: leave both "path" and "pathRegex" out instead');
  if (input.length > PATH_REGEX_MAX) return fail(`pathRegex is ${input.length} characters long; the limit is ${PATH_REGEX_MAX}`);
  const compiled = compilePathRegex(input);
  if (!compiled.ok) {
    return fail(
      `pathRegex "${input}" is not a Go (RE2) regular expression, which cloudflared requires: ${compiled.message} (RE2 has no lookaround and no backreferences)`,
    );
  }
  return ok(input);
}
