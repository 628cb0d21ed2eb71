import type { Route } from '../api';

// cloudflared takes the first rule that matches, so the compiler orders rules from most to least specific: for any
// request, the first rule that matches is then the one with the most specific hostname that matches, and among those
// the longest path prefix that matches. Why this is enough: two wildcards that both match one hostname are suffixes of
// it, so the one with more labels is the more specific; an exact hostname beats every wildcard.
//
// Path regexes (a route's `pathRegex`) have no specificity that can be computed: two regexes, or a regex and a prefix,
// may overlap in any way. The decision: within one hostname, regex routes come before every prefix route and the
// no-path route. A regex is the narrow, deliberate filter ("\.php$", "^/u/[0-9]+/avatar"); placed after a prefix it
// would be shadowed by it (a "/" route would make it unreachable), and RE2 has no lookahead with which a user could
// carve the prefix out of it. Among themselves regexes go longest first, then by their bytes, then by id: deterministic
// and independent of the input order, but not a claim of specificity — overlapping regexes on one hostname should be
// checked with the route tester. Hostname ranking still comes first: a regex never moves a rule past another hostname.

/** How specific a route hostname is: exact names first, then wildcards by depth (more labels = more specific). */
export function hostnameRank(hostname: string): { wildcard: boolean; labels: number } {
  return { wildcard: hostname.startsWith('*.'), labels: hostname.split('.').length };
}

/** What ordering reads of a route (`pathRegex` absent means none). */
export type Orderable = Pick<Route, 'hostname' | 'path' | 'id'> & { pathRegex?: string | null };

interface SortKey<R> {
  route: R;
  wildcard: boolean;
  labels: number;
  hostname: string;
  regex: boolean;
  /** The regex when `regex`, else the prefix ("" for no path). */
  path: string;
  id: string;
}

function keyOf<R extends Orderable>(route: R): SortKey<R> {
  const rank = hostnameRank(route.hostname);
  const regex = typeof route.pathRegex === 'string' && route.pathRegex !== '';
  return {
    route,
    wildcard: rank.wildcard,
    labels: rank.labels,
    hostname: route.hostname,
    regex,
    path: regex ? (route.pathRegex ?? '') : (route.path ?? ''),
    id: route.id,
  };
}

function compareKeys<R>(a: SortKey<R>, b: SortKey<R>): number {
  if (a.wildcard !== b.wildcard) return a.wildcard ? 1 : -1;
  if (a.labels !== b.labels) return b.labels - a.labels;
  if (a.hostname !== b.hostname) return a.hostname < b.hostname ? -1 : 1;
  if (a.regex !== b.regex) return a.regex ? -1 : 1;
  // A missing path is the shortest prefix of all (it matches everything), so it goes last for its hostname.
  if (a.path.length !== b.path.length) return b.path.length - a.path.length;
  if (a.path !== b.path) return a.path < b.path ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** Sort order of two routes in the compiled config: negative when `a` must come before `b`. */
export function compareRoutes(a: Orderable, b: Orderable): number {
  return compareKeys(keyOf(a), keyOf(b));
}

/** Returns the routes in compiled rule order (a new array; the input order never matters). Same order as `compareRoutes`. */
export function orderRoutes<R extends Orderable>(routes: readonly R[]): R[] {
  // Each route's sort key is computed once: splitting hostnames inside the comparator dominated compile time.
  const keys = routes.map(keyOf);
  keys.sort(compareKeys);
  return keys.map((k) => k.route);
}
