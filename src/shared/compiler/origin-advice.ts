import type { Origin } from '../api';
import { checkDns1123Label } from '../validation/kubernetes';

/** What an imported cloudflared `service` becomes as a route origin, and why it may not work from a pod. */
export interface OriginAdvice {
  origin: Origin;
  warning?: string;
  /** The in-cluster origin to use instead, when one can be named. */
  suggestedOrigin?: Origin;
}

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[?::1\]?|0\.0\.0\.0)$/i;
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;
/** k3s installs Traefik as kube-system/traefik; any other Docker name is assumed to be a Service in "default". */
const KNOWN_NAMESPACES: Record<string, string> = { traefik: 'kube-system', 'ingress-nginx-controller': 'ingress-nginx' };

const defaultPort = (scheme: string): number => (scheme === 'https' ? 443 : 80);

/**
 * Turns an imported cloudflared service string into a route origin. In-cluster Service URLs
 * (`http://<name>.<ns>.svc[.cluster.local]:<port>`) become Service origins; names that cannot work from a pod — a Docker
 * network name such as `traefik`, `localhost` (unless the connector runs on the node with host networking),
 * `host.docker.internal`, a unix socket — keep their URL but carry a warning and the in-cluster equivalent to use.
 */
export function adviseOrigin(service: string, placement: 'cluster' | 'node' = 'cluster'): OriginAdvice {
  const asUrl: Origin = { url: service };
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(service)?.[1]?.toLowerCase();
  if (!scheme || service.startsWith('http_status:')) return { origin: asUrl };
  if (scheme === 'unix' || scheme === 'unix+tls') {
    return {
      origin: asUrl,
      warning: `"${service}" is a socket in the cloudflared container's own filesystem, which a pod does not share with your app; expose the app as a Service and use that`,
    };
  }
  let url: URL;
  try {
    url = new URL(service);
  } catch {
    return { origin: asUrl };
  }
  const host = url.hostname.toLowerCase();
  const port = url.port === '' ? defaultPort(scheme) : Number(url.port);
  const inCluster = /^([a-z0-9-]+)\.([a-z0-9-]+)\.svc(\.cluster\.local)?$/.exec(host);
  if (inCluster && scheme === 'http') {
    const [, name = '', namespace = ''] = inCluster;
    return { origin: { service: { namespace, name, port } } };
  }
  if (LOOPBACK.test(host)) {
    if (placement === 'node') return { origin: asUrl };
    return {
      origin: asUrl,
      warning:
        `"${service}": ${host} inside the cloudflared pod is the pod itself, not the node or your app; point the route at the app's Service, ` +
        'or pin this tunnel to the node that serves it (placement {"type":"node","node":"<node>"} runs cloudflared with host networking)',
    };
  }
  if (host === 'host.docker.internal' || host === 'gateway.docker.internal') {
    return {
      origin: asUrl,
      warning:
        `"${service}": ${host} exists only under Docker; in k3s use the app's Service, or pin this tunnel to the node ` +
        `(placement {"type":"node"}) and use http://localhost:${port}`,
    };
  }
  if (!host.includes('.') && !IPV4.test(host) && !host.includes(':')) {
    const namespace = KNOWN_NAMESPACES[host] ?? 'default';
    const guess = KNOWN_NAMESPACES[host] ? '' : ` (namespace "${namespace}" is a guess: use the namespace the Service runs in)`;
    const named = checkDns1123Label(host, 'service name');
    if (!named.ok) {
      return {
        origin: asUrl,
        warning: `"${service}": "${host}" is a Docker network name, which does not resolve from a pod; use the app's Service (${named.message})`,
      };
    }
    const suggestedOrigin: Origin =
      scheme === 'http'
        ? { service: { namespace, name: host, port } }
        : { url: `${scheme}://${host}.${namespace}.svc.cluster.local:${port}` };
    return {
      origin: asUrl,
      suggestedOrigin,
      warning:
        `"${service}": "${host}" is a Docker network name, which does not resolve from a pod; in Kubernetes use ` +
        `${scheme}://${host}.${namespace}.svc.cluster.local:${port}, i.e. origin ${JSON.stringify(suggestedOrigin)}${guess}`,
    };
  }
  return { origin: asUrl };
}
