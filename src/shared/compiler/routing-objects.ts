import type { Route, ServiceRef } from '../api';
import { CLUSTER_LABEL, MANAGED_BY, TUNNEL_LABEL } from '../kube/labels';
import { objectName } from './names';
import { orderRoutes } from './rule-order';
import type { DesiredTunnel, KubeObject } from './types';

/** Gateway API allows at most 16 rules per HTTPRoute; longer lists are split over several HTTPRoutes. */
export const HTTPROUTE_MAX_RULES = 16;

interface Group {
  hostname: string;
  namespace: string;
  entries: { path: string; service: ServiceRef }[];
}

/**
 * Groups a tunnel's Service-origin routes by (hostname, Service namespace): an Ingress or HTTPRoute can only point at
 * Services of its own namespace. Paths are in compiled order (longest first); a route without a path is "/", and a
 * second entry for the same path (no path and "/") is dropped, as cloudflared would never reach it either.
 */
function groups(desired: DesiredTunnel): Group[] {
  const byKey = new Map<string, Group>();
  for (const route of orderRoutes(desired.routes)) {
    if (!('service' in route.origin)) continue;
    // Ingress and HTTPRoute match path prefixes only. The route API refuses a regex route to a Service in these modes;
    // one left from before a mode change is left out rather than widened to "/" (which would take the host's traffic).
    if (route.pathRegex) continue;
    const service = route.origin.service;
    const key = `${route.hostname}\u0000${service.namespace}`;
    let group = byKey.get(key);
    if (!group) {
      group = { hostname: route.hostname.toLowerCase(), namespace: service.namespace, entries: [] };
      byKey.set(key, group);
    }
    const path = pathOf(route);
    if (!group.entries.some((e) => e.path === path)) group.entries.push({ path, service });
  }
  return [...byKey.values()];
}

const pathOf = (route: Route): string => route.path ?? '/';

const labels = (clusterId: string, tunnelId: string) => ({ ...MANAGED_BY, [CLUSTER_LABEL]: clusterId, [TUNNEL_LABEL]: tunnelId });

/**
 * One `networking.k8s.io/v1` Ingress per hostname (and Service namespace) for a tunnel in `ingress` mode, with Prefix
 * paths (same whole-segment semantics as the compiled cloudflared regex). Note: a Kubernetes Ingress wildcard host
 * matches exactly one DNS label, while cloudflared's `*.example.com` also matches `a.b.example.com`; deeper names reach
 * the controller but find no Ingress rule.
 */
export function ingressObjects(clusterId: string, desired: DesiredTunnel): KubeObject[] {
  const mode = desired.tunnel.mode;
  if (mode.type !== 'ingress') return [];
  return groups(desired).map((group) => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: {
      name: objectName(['edgeplane', desired.tunnel.id, group.hostname]),
      namespace: group.namespace,
      labels: labels(clusterId, desired.tunnel.id),
    },
    spec: {
      ingressClassName: mode.className,
      rules: [
        {
          host: group.hostname,
          http: {
            paths: group.entries.map((e) => ({
              path: e.path,
              pathType: 'Prefix',
              backend: { service: { name: e.service.name, port: { number: e.service.port } } },
            })),
          },
        },
      ],
    },
  }));
}

/**
 * `gateway.networking.k8s.io/v1` HTTPRoutes for a tunnel in `gateway` mode: per hostname (and Service namespace), the
 * routes as PathPrefix matches, attached to the tunnel's Gateway. The Gateway's listener must allow routes from that
 * namespace (`allowedRoutes.namespaces`).
 */
export function httpRouteObjects(clusterId: string, desired: DesiredTunnel): KubeObject[] {
  const mode = desired.tunnel.mode;
  if (mode.type !== 'gateway') return [];
  const objects: KubeObject[] = [];
  for (const group of groups(desired)) {
    const chunks = Math.ceil(group.entries.length / HTTPROUTE_MAX_RULES);
    for (let chunk = 0; chunk < chunks; chunk++) {
      const entries = group.entries.slice(chunk * HTTPROUTE_MAX_RULES, (chunk + 1) * HTTPROUTE_MAX_RULES);
      const nameParts = ['edgeplane', desired.tunnel.id, group.hostname, ...(chunk > 0 ? [String(chunk + 1)] : [])];
      objects.push({
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'HTTPRoute',
        metadata: { name: objectName(nameParts), namespace: group.namespace, labels: labels(clusterId, desired.tunnel.id) },
        spec: {
          parentRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace: mode.gateway.namespace, name: mode.gateway.name }],
          hostnames: [group.hostname],
          rules: entries.map((e) => ({
            matches: [{ path: { type: 'PathPrefix', value: e.path } }],
            backendRefs: [{ group: '', kind: 'Service', name: e.service.name, port: e.service.port }],
          })),
        },
      });
    }
  }
  return objects;
}
