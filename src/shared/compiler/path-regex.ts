// cloudflared compiles a rule's `path` with Go's regexp.Compile and tests it with MatchString against the request's
// URL path (decoded, without query), unanchored: `/api` alone would also match `/v1/api` and `/apix`. A route's path
// prefix therefore becomes `^<prefix>(/|$)`, with the prefix quoted the way Go's regexp.QuoteMeta does.

/** The characters Go's regexp.QuoteMeta escapes (RE2 syntax); the same escapes mean the same literal in JS. */
const META = /[\\.+*?()|[\]{}^$]/g;

/** Escapes every regex metacharacter, as Go's regexp.QuoteMeta does. */
export const quoteMeta = (literal: string): string => literal.replace(META, '\\$&');

/** Decodes %XX escapes, since cloudflared matches the decoded URL path; leaves the text as is if it is not valid. */
function decodePath(prefix: string): string {
  if (!prefix.includes('%')) return prefix;
  try {
    return decodeURIComponent(prefix);
  } catch {
    return prefix;
  }
}

/**
 * Compiles a path prefix into the Go regular expression cloudflared gets: `/api` → `^/api(/|$)` (matches `/api`,
 * `/api/x`; not `/apix`, not `/v1/api`). The prefix `/` matches every path: `^/`.
 */
export function pathPrefixRegex(prefix: string): string {
  const literal = decodePath(prefix);
  if (literal === '/' || literal === '') return '^/';
  return `^${quoteMeta(literal.replace(/\/+$/, ''))}(/|$)`;
}

/** Terminators that make an anchored literal mean exactly "this prefix as whole path segments". */
const SEGMENT_END = ['(/|$)', '($|/)', '(?:/|$)', '(?:$|/)', '(/.*)?$', '(?:/.*)?$', '(/.*|$)', '($|/.*)'];

/** Regexes that match every URL path (cloudflared's paths always start with "/"). */
const MATCH_ALL = new Set(['', '/', '^/', '.*', '^.*', '^.*$', '^/.*', '^/.*$', '.+', '^.+$', '^/.*?']);

/** Result of reading a cloudflared path regex back as a prefix. */
export type PathRegexReading =
  { kind: 'all' } | { kind: 'prefix'; prefix: string } | { kind: 'regex'; nearestPrefix?: string; reason: string };

/** Unescapes a quoted literal; undefined when it still holds an unescaped metacharacter. */
function unquote(text: string): string | undefined {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] ?? '';
    if (ch === '\\') {
      const next = text[i + 1];
      // Only escaped punctuation is a literal; \d, \w, \b... are classes or assertions.
      if (next === undefined || /[A-Za-z0-9]/.test(next)) return undefined;
      out += next;
      i++;
    } else if ('.+*?()|[]{}^$'.includes(ch)) return undefined;
    else out += ch;
  }
  return out;
}

/**
 * Reads a cloudflared `path` regex back as a route path prefix when it means exactly that (`^/api(/|$)`,
 * `^/api(/.*)?$`, ...), or as "match all"; anything else is a regex that a prefix cannot express, with the nearest
 * prefix suggested where there is an obvious one.
 */
export function readPathRegex(pattern: string): PathRegexReading {
  const trimmed = pattern.trim();
  if (MATCH_ALL.has(trimmed)) return { kind: 'all' };
  if (trimmed.startsWith('^')) {
    for (const end of SEGMENT_END) {
      if (!trimmed.endsWith(end)) continue;
      const literal = unquote(trimmed.slice(1, trimmed.length - end.length));
      if (literal !== undefined && literal.startsWith('/') && !literal.endsWith('/')) return { kind: 'prefix', prefix: literal };
    }
  }
  const literal = unquote(trimmed.replace(/^\^/, '').replace(/(\/\.\*|\.\*|\/)?\$?$/, ''));
  const nearest = literal !== undefined && literal.startsWith('/') ? literal : undefined;
  const reason = trimmed.startsWith('^')
    ? `path regex "${pattern}" is not a whole-segment prefix (a prefix "/api" matches /api and /api/x but not /apix)`
    : `path regex "${pattern}" is unanchored: cloudflared matches it anywhere in the path${nearest ? ` (also /v1${nearest}, ${nearest}x)` : ''}`;
  return nearest ? { kind: 'regex', nearestPrefix: nearest, reason } : { kind: 'regex', reason };
}
