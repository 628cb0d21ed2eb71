// A test-only model of how cloudflared picks an ingress rule, read from cloudflared's ingress package
// (ingress/ingress.go FindMatchingRule + matchHost, ingress/rule.go Rule.Matches):
//
//   - the request host has its port removed with net.SplitHostPort (only when a port is present);
//   - rules are tried in order and the first whose hostname AND path match wins; if none matches, the last rule
//     (the catch-all) is used;
//   - a rule without hostname (or hostname "*") matches every host; otherwise the hostname must equal the request
//     host, or be `*.<suffix>` where the request host ends with `.<suffix>` (strings.TrimPrefix(ruleHost, "*") then
//     strings.HasSuffix): so `*.example.com` matches `a.example.com` and `a.b.example.com`, but not `example.com`;
//   - a rule without path matches every path; otherwise `path` is a Go regexp tested with MatchString (unanchored)
//     against the request's URL path.
//
// Two deliberate modelling choices: cloudflared compares hostnames byte for byte; the compiler only emits lower-case
// hostnames and DNS names are case-insensitive, so the model lower-cases the request host before matching (what a
// correct deployment must satisfy for any spelling of the Host). And it runs the Go pattern with JS RegExp, which is
// exact for the RE2 subset the compiler emits (`^`, `$`, escaped literals, `(/|$)`).
import type { IngressRule, TunnelConfig } from '../../../src/shared/compiler';

/** Go's net.SplitHostPort applied only when it succeeds: "[::1]:80" → "::1", "a.com:443" → "a.com", "a.com" → "a.com". */
export function stripPort(hostport: string): string {
  const v6 = /^\[([^\]]*)\]:(\d*)$/.exec(hostport);
  if (v6) return v6[1] ?? hostport;
  const parts = hostport.split(':');
  return parts.length === 2 ? (parts[0] ?? hostport) : hostport;
}

/** cloudflared's matchHost (current version: the "*" is trimmed, the dot stays in the suffix). */
export function matchHost(ruleHost: string, reqHost: string): boolean {
  if (ruleHost === reqHost) return true;
  if (ruleHost.startsWith('*.')) return reqHost.endsWith(ruleHost.slice(1));
  return false;
}

const regexCache = new Map<string, RegExp>();
const compiled = (pattern: string): RegExp => {
  let re = regexCache.get(pattern);
  if (!re) {
    re = new RegExp(pattern);
    regexCache.set(pattern, re);
  }
  return re;
};

/** cloudflared's Rule.Matches. */
export function ruleMatches(rule: IngressRule, host: string, path: string): boolean {
  const hostMatch = rule.hostname === undefined || rule.hostname === '' || rule.hostname === '*' || matchHost(rule.hostname, host);
  const pathMatch = rule.path === undefined || rule.path === '' || compiled(rule.path).test(path);
  return hostMatch && pathMatch;
}

/** cloudflared's Ingress.FindMatchingRule: the index of the rule a request with this Host header and URL path reaches. */
export function findMatchingRule(config: TunnelConfig, hostHeader: string, path: string): number {
  const host = stripPort(hostHeader).toLowerCase();
  for (const [i, rule] of config.ingress.entries()) {
    if (ruleMatches(rule, host, path)) return i;
  }
  return config.ingress.length - 1;
}
