import { matchHost, splitHostPort } from './hostname';
import type { ValidRule } from './ingress';
import { regexMatches } from './path-regex';

// Which rule serves a request, as cloudflared's Ingress.FindMatchingRule and Rule.Matches decide it
// (ingress/ingress.go, ingress/rule.go): the port is dropped from the Host only when net.SplitHostPort succeeds;
// rules are tried in order; a rule matches when its hostname is empty or "*", equals the host byte for byte (no case
// folding), or is a "*." wildcard whose remainder ends the host (any depth) — or its punycode alias does — and its
// path regex, if any, matches anywhere in the decoded URL path. When nothing matches, the last rule answers.

/** A request as cloudflared sees it: the Host header and the decoded URL path. */
export interface MatchRequest {
  host: string;
  path: string;
}

/** Why a rule did not serve a request. */
export interface Miss {
  index: number;
  reason: string;
}

/** The rule that serves a request and, when the catch-all answers, the nearest rule that did not and why. */
export interface MatchOutcome {
  index: number;
  catchAll: boolean;
  host: string;
  path: string;
  nearestMiss?: Miss;
}

/** A URL read into the Host cloudflared compares and the decoded path it tests; the reason when it cannot be read. */
export type RequestParse = { ok: true; request: MatchRequest } | { ok: false; message: string };

/**
 * Reads a URL the way it reaches cloudflared: the authority (without user info) is the Host header, kept as typed (a
 * browser would lower-case it and punycode it; Cloudflare's edge passes what it received), and the path is
 * percent-decoded as Go's url.URL.Path is. A missing path is "/".
 */
export function parseRequestUrl(url: string): RequestParse {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)([^?#]*)/.exec(url.trim());
  if (!m) return { ok: false, message: `"${url}" is not an absolute URL; expected e.g. "https://app.example.com/api"` };
  const authority = m[2] ?? '';
  const host = authority.slice(authority.lastIndexOf('@') + 1);
  if (host === '') return { ok: false, message: `"${url}" has no host` };
  const raw = m[3] || '/';
  let path: string;
  try {
    path = decodeURIComponent(raw);
  } catch {
    return { ok: false, message: `"${url}": the path has an invalid percent-escape` };
  }
  return { ok: true, request: { host, path } };
}

/** cloudflared's Rule.Matches split in its two halves. */
function hostMatches(rule: ValidRule, host: string): boolean {
  if (rule.hostname === '' || rule.hostname === '*') return true;
  return matchHost(rule.hostname, host) || (rule.punycodeHostname !== undefined && matchHost(rule.punycodeHostname, host));
}

const pathMatches = (rule: ValidRule, path: string): boolean => rule.regex === null || regexMatches(rule.regex, path);

/** cloudflared's FindMatchingRule: the index of the rule that serves the request (the last one when none matches). */
export function findMatchingRule(rules: readonly ValidRule[], request: MatchRequest): number {
  const host = splitHostPort(request.host) ?? request.host;
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i];
    if (rule && hostMatches(rule, host) && pathMatches(rule, request.path)) return i;
  }
  return rules.length - 1;
}

/** A rule hostname's labels, last first, lower-cased (computed once per rule: the miss search visits every rule). */
const ruleLabels = new WeakMap<ValidRule, string[]>();
function labelsOf(rule: ValidRule): string[] {
  let labels = ruleLabels.get(rule);
  if (!labels) {
    labels = rule.hostname.toLowerCase().replace(/^\*\./, '').split('.').reverse();
    ruleLabels.set(rule, labels);
  }
  return labels;
}

/** The number of trailing DNS labels a host (its labels, last first) shares with a rule, to find the "nearest" rule. */
function sharedSuffixLabels(x: readonly string[], rule: ValidRule): number {
  const y = labelsOf(rule);
  let n = 0;
  while (n < x.length && n < y.length && x[n] === y[n] && x[n] !== '') n++;
  return n;
}

function pathReason(rule: ValidRule, path: string): string {
  const anchored = rule.path.startsWith('^');
  const hint = anchored
    ? ' (it is anchored with "^": the path must start there)'
    : ' (the regex is unanchored: it may match anywhere in the path, but did not)';
  return `hostname matched, but path regex "${rule.path}" does not match the path "${path}"${hint}`;
}

/** The nearest rule that did not serve the request and why: a path miss first, then the closest hostname. */
function nearestMiss(rules: readonly ValidRule[], host: string, path: string): Miss | undefined {
  let best: { index: number; score: number; reason: string } | undefined;
  const hostLabels = host.toLowerCase().split('.').reverse();
  const lowerHost = host.toLowerCase();
  for (let i = 0; i < rules.length - 1; i++) {
    const rule = rules[i];
    if (!rule) continue;
    let score: number;
    let reason: string;
    if (hostMatches(rule, host)) {
      score = 1000;
      reason = pathReason(rule, path);
    } else if (
      (rule.hostname.length === lowerHost.length && rule.hostname.toLowerCase() === lowerHost) ||
      rule.punycodeHostname?.toLowerCase() === lowerHost
    ) {
      score = 900;
      reason = `hostname "${rule.hostname}" differs from "${host}" only in letter case; cloudflared compares hostnames byte for byte`;
    } else if (rule.hostname.startsWith('*.') && host === rule.hostname.slice(2)) {
      score = 800;
      reason = `wildcard "${rule.hostname}" matches names below "${host}" (at any depth) but not "${host}" itself`;
    } else {
      score = sharedSuffixLabels(hostLabels, rule);
      if (score === 0 || (best && score <= best.score)) continue;
      reason = rule.hostname.startsWith('*.')
        ? `wildcard "${rule.hostname}" does not match "${host}": the host must end with "${rule.hostname.slice(1)}"`
        : `hostname "${rule.hostname}" is not "${host}"`;
    }
    if (!best || score > best.score) best = { index: i, score, reason };
  }
  return best ? { index: best.index, reason: best.reason } : undefined;
}

/** Which rule serves the request, with the nearest miss explained when the catch-all answers. */
export function matchRequest(rules: readonly ValidRule[], request: MatchRequest): MatchOutcome {
  const host = splitHostPort(request.host) ?? request.host;
  const index = findMatchingRule(rules, request);
  const last = rules[rules.length - 1];
  const catchAll = index === rules.length - 1 && !(last && last.hostname !== '' && last.hostname !== '*');
  const outcome: MatchOutcome = { index, catchAll, host, path: request.path };
  if (catchAll) {
    const miss = nearestMiss(rules, host, request.path);
    if (miss) outcome.nearestMiss = miss;
  }
  return outcome;
}
