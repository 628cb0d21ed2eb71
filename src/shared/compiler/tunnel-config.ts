import type { Route } from '../api';
import { sortKeysDeep } from './canonical-json';
import { originService } from './origin';
import { pathPrefixRegex } from './path-regex';
import { orderRoutes } from './rule-order';
import type { DesiredTunnel, IngressRule, TunnelConfig } from './types';

/** A compiled rule with the route it came from (`routeId` is null for the catch-all). */
export interface TracedRule {
  routeId: string | null;
  rule: IngressRule;
}

const isEmpty = (value: Record<string, unknown>): boolean => Object.keys(value).length === 0;

/** The per-rule originRequest: the route's overrides plus its Access protection, keys in canonical order. */
function ruleOriginRequest(route: Route): Record<string, unknown> {
  if (!route.access && isEmpty(route.originRequest)) return {};
  const merged: Record<string, unknown> = { ...route.originRequest };
  if (route.access) merged.access = { required: route.access.required, teamName: route.access.teamName, audTag: [...route.access.audTag] };
  return sortKeysDeep(merged) as Record<string, unknown>;
}

/** The rule `path` of a route: its regex byte for byte, or its prefix as an anchored whole-segment regex. */
function rulePath(route: Pick<Route, 'path' | 'pathRegex'>): string | undefined {
  if (route.pathRegex) return route.pathRegex;
  return route.path ? pathPrefixRegex(route.path) : undefined;
}

/** Compiles one route into its ingress rule (keys in the fixed order hostname, path, service, originRequest). */
export function compileRule(route: Route, desired: Pick<DesiredTunnel, 'tunnel'>): IngressRule {
  const originRequest = ruleOriginRequest(route);
  const path = rulePath(route);
  return {
    hostname: route.hostname.toLowerCase(),
    ...(path !== undefined ? { path } : {}),
    service: originService(route.origin, desired.tunnel.mode),
    ...(isEmpty(originRequest) ? {} : { originRequest }),
  };
}

/** The last rule of every compiled config: the tunnel's catch-all service. */
export const catchAllRule = (tunnel: Pick<DesiredTunnel['tunnel'], 'catchAll'>): IngressRule => ({
  service: tunnel.catchAll || 'http_status:404',
});

/** Compiles the tunnel's rules in order, each traced to its route; the catch-all is last. */
export function compileTracedRules(desired: DesiredTunnel): TracedRule[] {
  const traced: TracedRule[] = orderRoutes(desired.routes).map((route) => ({ routeId: route.id, rule: compileRule(route, desired) }));
  traced.push({ routeId: null, rule: catchAllRule(desired.tunnel) });
  return traced;
}

/**
 * Compiles a tunnel's remote config exactly as it is PUT to Cloudflare: rules ordered most specific first, path
 * prefixes as anchored regexes, path regexes as given, the catch-all last, the tunnel's default originRequest at the top level (cloudflared
 * merges it into every rule) and warp-routing on when the tunnel has private networks. Deterministic: the same
 * desired state gives the same JSON.stringify output whatever the order of routes in the input.
 */
export function compileTunnelConfig(desired: DesiredTunnel): TunnelConfig {
  const config: TunnelConfig = { ingress: compileTracedRules(desired).map((t) => t.rule) };
  const defaults = sortKeysDeep(desired.tunnel.originRequest) as Record<string, unknown>;
  if (!isEmpty(defaults)) config.originRequest = defaults;
  config['warp-routing'] = { enabled: desired.privateNetworks.length > 0 };
  return config;
}

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Brings a tunnel config read back from Cloudflare (or compiled) to the compiler's canonical form, so the two compare
 * equal when they mean the same: empty `originRequest` objects dropped (top level and per rule), `warp-routing`
 * defaulted to `{ enabled: false }`, keys of `originRequest` sorted. Returns null when the value is not a config.
 */
export function normalizeTunnelConfig(value: unknown): TunnelConfig | null {
  if (!isRecord(value) || !Array.isArray(value.ingress)) return null;
  const ingress: IngressRule[] = [];
  for (const rule of value.ingress) {
    if (!isRecord(rule) || typeof rule.service !== 'string') return null;
    const originRequest = isRecord(rule.originRequest) ? (sortKeysDeep(rule.originRequest) as Record<string, unknown>) : {};
    ingress.push({
      ...(typeof rule.hostname === 'string' && rule.hostname !== '' ? { hostname: rule.hostname } : {}),
      ...(typeof rule.path === 'string' && rule.path !== '' ? { path: rule.path } : {}),
      service: rule.service,
      ...(isEmpty(originRequest) ? {} : { originRequest }),
    });
  }
  const config: TunnelConfig = { ingress };
  const defaults = isRecord(value.originRequest) ? (sortKeysDeep(value.originRequest) as Record<string, unknown>) : {};
  if (!isEmpty(defaults)) config.originRequest = defaults;
  const warp = value['warp-routing'];
  config['warp-routing'] = { enabled: isRecord(warp) && warp.enabled === true };
  return config;
}
