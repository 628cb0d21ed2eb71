import fc from 'fast-check';
import type { Cluster, Route, RoutingMode, Tunnel } from '../../../src/shared/api';
import { type DesiredCluster, type DesiredTunnel, originKindOf } from '../../../src/shared/compiler';

// Small pools so generated hostnames and paths overlap a lot: that is where ordering mistakes would show.
export const LABELS = ['a', 'b', 'app', 'api', 'www'];
export const DOMAINS = ['example.com', 'example.org', 'a.example.com'];
/** Path segments including regex metacharacters that must be escaped. */
export const SEGMENTS = ['api', 'v1', 'x', 'a.b', 'c+d', '(e)', 'f$', 'apix'];

const meta = { etag: '"1.0"', createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z' };

/** A route hostname: exact or `*.` wildcard, 0–2 labels over a shared domain. */
export const hostnameArb = fc
  .tuple(fc.boolean(), fc.array(fc.constantFrom(...LABELS), { maxLength: 2 }), fc.constantFrom(...DOMAINS))
  .map(([wildcard, labels, domain]) => [...(wildcard ? ['*'] : []), ...labels, domain].join('.'));

/** A path prefix or none. */
export const pathArb = fc.option(
  fc.oneof(
    {
      arbitrary: fc.array(fc.constantFrom(...SEGMENTS), { minLength: 1, maxLength: 3 }).map((segments) => `/${segments.join('/')}`),
      weight: 9,
    },
    { arbitrary: fc.constant('/'), weight: 1 },
  ),
  { nil: null, freq: 3 },
);

const serviceRefArb = fc.record({
  namespace: fc.constantFrom('web', 'default', 'ml'),
  name: fc.constantFrom('app', 'api', 'label-studio', 'triton'),
  port: fc.integer({ min: 1, max: 65535 }),
});

/** A route origin: a Service, a URL or an http_status. */
export const originArb: fc.Arbitrary<Route['origin']> = fc.oneof(
  serviceRefArb.map((service) => ({ service })),
  fc.constantFrom('http://10.0.0.5:8000', 'https://gpu.internal:8443', 'http_status:418', 'tcp://db.local:5432').map((url) => ({ url })),
);

/** A set of routes of one tunnel, unique by (hostname, path) as the database enforces. */
export const routesArb = (tunnelId = 't1', maxLength = 30): fc.Arbitrary<Route[]> =>
  fc
    .uniqueArray(
      fc.record({ hostname: hostnameArb, path: pathArb, origin: originArb, noTLSVerify: fc.option(fc.boolean(), { nil: undefined }) }),
      {
        maxLength,
        selector: (r) => `${r.hostname} ${r.path ?? ''}`,
      },
    )
    .map((items) =>
      items.map((r, i): Route => ({
        id: `rt_${String(i).padStart(3, '0')}`,
        tunnel: tunnelId,
        hostname: r.hostname,
        path: r.path,
        pathRegex: null,
        origin: r.origin,
        originKind: originKindOf(r.origin, {}),
        originRequest: r.noTLSVerify === undefined ? {} : { noTLSVerify: r.noTLSVerify },
        dns: true,
        access: i % 7 === 3 ? { required: true, teamName: 'team', audTag: ['aud1'] } : null,
        ...meta,
      })),
    );

export const modeArb: fc.Arbitrary<RoutingMode> = fc.oneof(
  fc.constant({ type: 'direct' as const }),
  fc.constant({ type: 'ingress' as const, className: 'traefik', controller: { namespace: 'kube-system', name: 'traefik', port: 80 } }),
  fc.constant({
    type: 'gateway' as const,
    gateway: { namespace: 'gateways', name: 'public' },
    service: { namespace: 'gateways', name: 'public-gateway', port: 8080 },
  }),
);

export const placementArb: fc.Arbitrary<Tunnel['placement']> = fc.oneof(
  fc.integer({ min: 1, max: 5 }).map((replicas) => ({ type: 'cluster' as const, replicas })),
  fc.constantFrom('gpu-1', 'node-a').map((node) => ({ type: 'node' as const, node })),
);

/** Builds a tunnel as the API returns it. */
export function makeTunnel(id: string, overrides: Partial<Tunnel> = {}): Tunnel {
  return {
    id,
    cluster: 'oceanid',
    account: '0123456789abcdef0123456789abcdef',
    name: `oceanid-${id}`,
    cloudflareTunnelId: null,
    placement: { type: 'cluster', replicas: 2 },
    mode: { type: 'direct' },
    originRequest: {},
    catchAll: 'http_status:404',
    driftPolicy: 'alert',
    warpRouting: false,
    hasToken: false,
    ...meta,
    ...overrides,
  };
}

/** Builds a route as the API returns it. */
export function makeRoute(
  id: string,
  hostname: string,
  path: string | null,
  origin: Route['origin'],
  overrides: Partial<Route> = {},
): Route {
  const base = { id, tunnel: 't1', hostname, path, pathRegex: null, origin, originRequest: {}, dns: true, access: null, ...meta };
  const route = { ...base, ...overrides };
  return { ...route, originKind: overrides.originKind ?? originKindOf(route.origin, route.originRequest) };
}

/** Builds a cluster as the API returns it. */
export function makeCluster(id = 'oceanid'): Cluster {
  return {
    id,
    name: id,
    labels: {},
    nodes: [],
    desiredRevision: 1,
    appliedRevision: null,
    connection: 'never',
    lastSeenAt: null,
    agentVersion: null,
    kubernetesVersion: null,
    nodeCount: null,
    apiServerAddress: '10.43.0.1',
    prune: { maxDeletes: 25, windowMinutes: 10 },
    agentCredential: null,
    reregistrationRequestedAt: null,
    ...meta,
  };
}

/** A tunnel with its routes, default originRequest, private networks and maybe a token. */
export const desiredTunnelArb = (id = 't1'): fc.Arbitrary<DesiredTunnel> =>
  fc
    .record({
      routes: routesArb(id),
      mode: modeArb,
      placement: placementArb,
      privateNetworks: fc.nat({ max: 2 }),
      token: fc.option(fc.string({ minLength: 1, maxLength: 40 }), { nil: undefined }),
      connectTimeout: fc.option(fc.integer({ min: 1, max: 60 }), { nil: undefined }),
      catchAll: fc.constantFrom('http_status:404', 'http_status:503', 'http://fallback.default.svc.cluster.local:80'),
    })
    .map((g) => ({
      tunnel: makeTunnel(id, {
        mode: g.mode,
        placement: g.placement,
        catchAll: g.catchAll,
        originRequest: g.connectTimeout === undefined ? {} : { connectTimeout: g.connectTimeout },
      }),
      routes: g.routes,
      privateNetworks: Array.from({ length: g.privateNetworks }, (_, i) => ({
        id: `pn_${i}`,
        tunnel: id,
        cidr: `10.${42 + i}.0.0/16`,
        virtualNetworkId: null,
        comment: '',
        ...meta,
      })),
      ...(g.token === undefined ? {} : { connectorToken: g.token }),
    }));

/** A cluster with 0–3 tunnels. */
export const desiredClusterArb: fc.Arbitrary<DesiredCluster> = fc
  .uniqueArray(fc.constantFrom('t1', 'gpu', 'web-2', 'edge'), { maxLength: 3 })
  .chain((ids) => fc.tuple(...ids.map((id) => desiredTunnelArb(id))))
  .map((tunnels) => ({ cluster: makeCluster(), tunnels }));

/** A request Host header and URL path drawn from the same pools as the routes (plus ports, upper case, near misses). */
export const requestArb = fc.record({
  host: fc
    .tuple(
      fc.array(fc.constantFrom(...LABELS, 'zz'), { maxLength: 3 }),
      fc.constantFrom(...DOMAINS, 'example.net'),
      fc.boolean(),
      fc.boolean(),
    )
    .map(([labels, domain, port, upper]) => {
      const host = [...labels, domain].join('.');
      return `${upper ? host.toUpperCase() : host}${port ? ':443' : ''}`;
    }),
  path: fc
    .tuple(fc.array(fc.constantFrom(...SEGMENTS, 'apix', 'v1x', 'ab', 'cd'), { maxLength: 4 }), fc.boolean())
    .map(([segments, slash]) => `/${segments.join('/')}${slash && segments.length > 0 ? '/' : ''}`),
});
