import type { Origin, OriginKindName, RoutingMode, ServiceRef } from '../api';
import { parseOriginService } from '../cloudflared/origin-service';

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

/**
 * The kind of origin cloudflared runs for a route, read from its service as cloudflared reads it (a route's own
 * `bastionMode` makes any service a bastion). A Service origin always compiles to an `http://` URL.
 */
export function originKindOf(origin: Origin, originRequest: Record<string, unknown>): OriginKindName {
  if (!('url' in origin)) return 'http';
  const parsed = parseOriginService(origin.url, originRequest.bastionMode === true);
  // Stored origins passed the same parser on write; an unreadable one can only be older data, shown as plain http.
  return parsed.ok ? parsed.origin.kind : 'http';
}
