import type { Origin, RoutingMode, ServiceRef } from '../api';

/** The in-cluster URL of a Service port: `http://<name>.<namespace>.svc.cluster.local:<port>`. */
export const serviceUrl = (ref: ServiceRef): string => `http://${ref.name}.${ref.namespace}.svc.cluster.local:${ref.port}`;

/**
 * The `service` cloudflared gets for a route's origin. A URL (or http_status:NNN) is used as given. A Service origin
 * depends on the tunnel's routing mode: `direct` goes straight to the Service; `ingress` goes to the ingress
 * controller's Service (the generated Ingress routes by Host and path); `gateway` goes to the Gateway's Service (the
 * generated HTTPRoute does the routing). cloudflared keeps the original Host header, which is what both route on.
 */
export function originService(origin: Origin, mode: RoutingMode): string {
  if ('url' in origin) return origin.url;
  switch (mode.type) {
    case 'direct':
      return serviceUrl(origin.service);
    case 'ingress':
      return serviceUrl(mode.controller);
    case 'gateway':
      return serviceUrl(mode.service);
  }
}
