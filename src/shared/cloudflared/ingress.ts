import type { RE2JS } from 're2js';
import { checkCidr } from '../validation/cidr';
import { punycodeAlias, ruleHostnameProblem } from './hostname';
import { type OriginKind, parseOriginService } from './origin-service';
import { compilePathRegex } from './path-regex';

// cloudflared's validateIngress (ingress/ingress.go), check for check and in its order: for each rule the service,
// then socks-proxy ipRules, then originRequest.access, then the hostname (port, wildcard, catch-all placement), then
// the path regex. The first refusal stops the whole config, as in cloudflared.

/** The originRequest fields cloudflared's validation reads (the rest only tune the proxy). */
export interface RuleOriginRequest {
  bastionMode?: boolean;
  access?: { required?: boolean; teamName?: string; audTag?: string[] };
  ipRules?: { prefix?: string; ports?: number[]; allow?: boolean }[];
}

/** A rule as read from a config, before validation (cloudflared's UnvalidatedIngressRule; absent strings are ""). */
export interface RawRule {
  hostname: string;
  path: string;
  service: string;
  originRequest: RuleOriginRequest;
}

/** A rule cloudflared would run: its origin typed, its punycode alias and its compiled path regex. */
export interface ValidRule {
  hostname: string;
  punycodeHostname?: string;
  path: string;
  regex: RE2JS | null;
  service: string;
  origin: OriginKind;
}

/** Where and why cloudflared refuses a config: `index` is the 0-based rule, null for the config as a whole. */
export interface IngressProblem {
  index: number | null;
  field: 'ingress' | 'service' | 'hostname' | 'path' | 'originRequest.access' | 'originRequest.ipRules' | '';
  message: string;
}

/** Outcome of validating an ingress list. */
export type IngressCheck = { ok: true; rules: ValidRule[] } | { ok: false; problem: IngressProblem };

/** cloudflared's rule numbering in its messages: 1-based ("Rule #3"). */
export const ruleLabel = (index: number): string => `rule #${index + 1}`;

/** True when a rule matches every request: no hostname (or "*") and no path. */
export const isCatchAll = (rule: Pick<RawRule, 'hostname' | 'path'>): boolean =>
  (rule.hostname === '' || rule.hostname === '*') && rule.path === '';

/** Go's net.ParseCIDR acceptance (host bits and non-canonical IPv6 spellings are fine there). */
function isGoCidr(prefix: string): boolean {
  if (!prefix.includes('/')) return false;
  const checked = checkCidr(prefix);
  return checked.ok || /host bits set|canonical form/.test(checked.message);
}

function ipRulesProblem(rules: NonNullable<RuleOriginRequest['ipRules']>): string | undefined {
  for (const [i, rule] of rules.entries()) {
    if (!rule.prefix) return `ipRules[${i}]: no prefix provided`;
    if (!isGoCidr(rule.prefix)) return `ipRules[${i}]: unable to parse cidr: ${rule.prefix}`;
    const bad = (rule.ports ?? []).find((p) => p < 1 || p > 65535);
    if (bad !== undefined) return `ipRules[${i}]: invalid port ${bad}, needs to be between 1 and 65535`;
  }
  return undefined;
}

/**
 * Validates an ingress list exactly as cloudflared does when it loads a config, returning the rules it would run or
 * its first refusal (with the rule it concerns). `defaults` is the top-level originRequest: its `bastionMode` applies
 * to every rule. An empty list is refused here; callers reading a remote config treat it as valid (cloudflared then
 * answers 503 to everything) before calling.
 */
export function validateIngress(rules: readonly RawRule[], defaults: RuleOriginRequest = {}): IngressCheck {
  if (rules.length === 0)
    return { ok: false, problem: { index: null, field: 'ingress', message: "the config doesn't contain any ingress rules" } };
  const valid: ValidRule[] = [];
  for (const [i, r] of rules.entries()) {
    const refuse = (field: IngressProblem['field'], message: string): IngressCheck => ({
      ok: false,
      problem: { index: i, field, message: `${ruleLabel(i)}: ${message}` },
    });
    const bastionMode = r.originRequest.bastionMode ?? defaults.bastionMode ?? false;
    const parsed = parseOriginService(r.service, bastionMode);
    if (!parsed.ok) return refuse('service', parsed.message);
    if (parsed.origin.kind === 'socks_proxy') {
      const problem = ipRulesProblem(r.originRequest.ipRules ?? []);
      if (problem) return refuse('originRequest.ipRules', `unable to create ip rule for socks-proxy: ${problem}`);
    }
    const access = r.originRequest.access;
    if (access?.required && !access.teamName && (access.audTag ?? []).length > 0) {
      return refuse('originRequest.access', 'access.teamName cannot be blank when access.audTag is present and access is required');
    }
    const hostProblem = ruleHostnameProblem(r.hostname);
    if (hostProblem) return refuse('hostname', hostProblem);
    const last = i === rules.length - 1;
    if (last && !isCatchAll(r)) {
      return refuse('', 'the last ingress rule must match all URLs (i.e. it should not have a hostname or path filter)');
    }
    if (!last && isCatchAll(r)) {
      return refuse(
        '',
        `matches every hostname${r.hostname ? ` ("${r.hostname}")` : ''}, meaning the rules which follow it will never be triggered; only the last rule may match everything`,
      );
    }
    let regex: RE2JS | null = null;
    if (r.path !== '') {
      const compiled = compilePathRegex(r.path);
      if (!compiled.ok) return refuse('path', `invalid path regex "${r.path}": ${compiled.message}`);
      regex = compiled.regex;
    }
    const alias = isCatchAll(r) ? undefined : punycodeAlias(r.hostname);
    valid.push({
      hostname: r.hostname,
      ...(alias ? { punycodeHostname: alias } : {}),
      path: r.path,
      regex,
      service: r.service,
      origin: parsed.origin,
    });
  }
  return { ok: true, rules: valid };
}
