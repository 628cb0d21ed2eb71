import { ruleOriginRequestOf } from '../cloudflared/config';
import { type IngressCheck, type RawRule, validateIngress } from '../cloudflared/ingress';
import type { Route, Tunnel } from '../api';
import { catchAllRule, compileRule } from './tunnel-config';
import type { IngressRule, TunnelConfig } from './types';

// A compiled config goes through cloudflared's own validation (src/shared/cloudflared) before anything relies on it:
// the route write (for the rules it changes), the sync (the whole config, before the PUT) and the route tester.

/** A compiled rule as cloudflared reads it before validating (absent strings are ""). */
export const rawRule = (rule: IngressRule): RawRule => ({
  hostname: rule.hostname ?? '',
  path: rule.path ?? '',
  service: rule.service,
  originRequest: ruleOriginRequestOf(rule.originRequest),
});

/** Validates compiled rules with the config's top-level originRequest as cloudflared would on load. */
export function checkCompiledRules(rules: readonly IngressRule[], defaults?: Record<string, unknown>): IngressCheck {
  return validateIngress(rules.map(rawRule), ruleOriginRequestOf(defaults));
}

/** Validates a whole compiled tunnel config as cloudflared would load it from Cloudflare. */
export const checkTunnelConfig = (config: TunnelConfig): IngressCheck => checkCompiledRules(config.ingress, config.originRequest);

/**
 * Validates the rule one route compiles to, in its tunnel's config, as cloudflared would load that config: the rule,
 * then the tunnel's catch-all, with the tunnel's default originRequest. This is the whole-config verdict for that
 * rule: cloudflared's validateIngress checks each rule on its own, and its only check across rules (a catch-all
 * before the last place) cannot fail for a route (every route has a hostname; the compiler puts the catch-all last).
 * So a config of rules each accepted this way is accepted, and a write checks only the rule it changes.
 */
export function checkRouteRule(route: Route, tunnel: Tunnel): IngressCheck {
  return checkCompiledRules([compileRule(route, { tunnel }), catchAllRule(tunnel)], tunnel.originRequest);
}
