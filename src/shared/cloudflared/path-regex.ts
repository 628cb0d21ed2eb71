import { RE2JS } from 're2js';

// cloudflared compiles a rule's `path` with Go's regexp.Compile, whose syntax is RE2's: no lookaround, no
// backreferences, repetition counts up to 1000. JavaScript's RegExp accepts patterns RE2 refuses and reads some
// differently, so paths are parsed and matched with re2js, a port of RE2 whose parser gives Go's own messages.

/** A compiled path regex, or the reason Go's regexp.Compile refuses it. */
export type PathRegexCheck = { ok: true; regex: RE2JS } | { ok: false; message: string };

const cache = new Map<string, PathRegexCheck>();
const CACHE_LIMIT = 5000;

/** Compiles a Go (RE2) regular expression as cloudflared does; the message is Go's (`missing closing ]: \`[a\``). */
export function compilePathRegex(pattern: string): PathRegexCheck {
  const hit = cache.get(pattern);
  if (hit) return hit;
  let result: PathRegexCheck;
  try {
    result = { ok: true, regex: RE2JS.compile(pattern) };
  } catch (error) {
    const message = error instanceof Error ? error.message.replace(/^error parsing regexp: /, '') : String(error);
    result = { ok: false, message };
  }
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(pattern, result);
  return result;
}

/** Go's Regexp.MatchString: true when the pattern matches anywhere in the text (unanchored). */
export function regexMatches(regex: RE2JS, text: string): boolean {
  return regex.matcher(text).find();
}
