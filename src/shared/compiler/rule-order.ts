import type { Route } from '../api';

// cloudflared takes the first rule that matches, so the compiler orders rules from most to least specific: for any
// request, the first rule that matches is then the one with the most specific hostname that matches, and among those
// the longest path prefix that matches. Why this is enough: two wildcards that both match one hostname are suffixes of
// it, so the one with more labels is the more specific; an exact hostname beats every wildcard.

/** How specific a route hostname is: exact names first, then wildcards by depth (more labels = more specific). */
export function hostnameRank(hostname: string): { wildcard: boolean; labels: number } {
  return { wildcard: hostname.startsWith('*.'), labels: hostname.split('.').length };
}

/** Sort order of two routes in the compiled config: negative when `a` must come before `b`. */
export function compareRoutes(a: Pick<Route, 'hostname' | 'path' | 'id'>, b: Pick<Route, 'hostname' | 'path' | 'id'>): number {
  const ra = hostnameRank(a.hostname);
  const rb = hostnameRank(b.hostname);
  if (ra.wildcard !== rb.wildcard) return ra.wildcard ? 1 : -1;
  if (ra.labels !== rb.labels) return rb.labels - ra.labels;
  if (a.hostname !== b.hostname) return a.hostname < b.hostname ? -1 : 1;
  // A missing path is the shortest prefix of all (it matches everything), so it goes last for its hostname.
  const pa = a.path ?? '';
  const pb = b.path ?? '';
  if (pa.length !== pb.length) return pb.length - pa.length;
  if (pa !== pb) return pa < pb ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

interface SortKey<R> {
  route: R;
  wildcard: boolean;
  labels: number;
  hostname: string;
  path: string;
  id: string;
}

function compareKeys<R>(a: SortKey<R>, b: SortKey<R>): number {
  if (a.wildcard !== b.wildcard) return a.wildcard ? 1 : -1;
  if (a.labels !== b.labels) return b.labels - a.labels;
  if (a.hostname !== b.hostname) return a.hostname < b.hostname ? -1 : 1;
  if (a.path.length !== b.path.length) return b.path.length - a.path.length;
  if (a.path !== b.path) return a.path < b.path ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** Returns the routes in compiled rule order (a new array; the input order never matters). Same order as `compareRoutes`. */
export function orderRoutes<R extends Pick<Route, 'hostname' | 'path' | 'id'>>(routes: readonly R[]): R[] {
  // Each route's sort key is computed once: splitting hostnames inside the comparator dominated compile time.
  const keys = routes.map((route): SortKey<R> => {
    const rank = hostnameRank(route.hostname);
    return { route, wildcard: rank.wildcard, labels: rank.labels, hostname: route.hostname, path: route.path ?? '', id: route.id };
  });
  keys.sort(compareKeys);
  return keys.map((k) => k.route);
}
