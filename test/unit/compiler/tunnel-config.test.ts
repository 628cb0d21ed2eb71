import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Route } from '../../../src/shared/api';
import {
  compileTracedRules,
  compileTunnelConfig,
  type DesiredTunnel,
  hostnameRank,
  normalizeTunnelConfig,
  pathPrefixRegex,
} from '../../../src/shared/compiler';
import { desiredTunnelArb, makeRoute, makeTunnel, requestArb, routesArb } from './arbitraries';
import { findMatchingRule, stripPort } from './cloudflared-matcher';

/** What the user means, written independently of the compiler: the most specific matching hostname, then the longest matching prefix. */
function intendedRoute(routes: Route[], hostHeader: string, path: string): string | null {
  const host = stripPort(hostHeader).toLowerCase();
  const hostLabels = host.split('.');
  const hostMatches = (pattern: string): boolean => {
    if (!pattern.startsWith('*.')) return pattern === host;
    const suffix = pattern.split('.').slice(1);
    return hostLabels.length > suffix.length && hostLabels.slice(hostLabels.length - suffix.length).join('.') === suffix.join('.');
  };
  const prefixMatches = (prefix: string | null): boolean =>
    prefix === null || prefix === '/' || path === prefix || path.startsWith(`${prefix}/`);
  const score = (r: Route): [number, number, number] => [
    r.hostname.startsWith('*.') ? 0 : 1,
    r.hostname.split('.').length,
    r.path === null ? 0 : r.path.length,
  ];
  let best: Route | undefined;
  for (const route of routes) {
    if (!hostMatches(route.hostname) || !prefixMatches(route.path)) continue;
    if (!best) {
      best = route;
      continue;
    }
    const [a, b] = [score(route), score(best)];
    if (a[0] > b[0] || (a[0] === b[0] && (a[1] > b[1] || (a[1] === b[1] && a[2] > b[2])))) best = route;
  }
  return best?.id ?? null;
}

const desiredOf = (routes: Route[], overrides: Partial<DesiredTunnel> = {}): DesiredTunnel => ({
  tunnel: makeTunnel('t1'),
  routes,
  privateNetworks: [],
  ...overrides,
});

describe('compileTunnelConfig: rule order', () => {
  it('puts exact hostnames before wildcards, deeper wildcards first, longer prefixes first and the catch-all last', () => {
    fc.assert(
      fc.property(desiredTunnelArb(), (desired) => {
        const rules = compileTunnelConfig(desired).ingress;
        const last = rules[rules.length - 1];
        expect(last).toEqual({ service: desired.tunnel.catchAll });
        expect(rules).toHaveLength(desired.routes.length + 1);
        const body = rules.slice(0, -1);
        for (const rule of body) expect(rule.hostname).toBeTruthy();
        for (let i = 1; i < body.length; i++) {
          const a = body[i - 1];
          const b = body[i];
          if (!a?.hostname || !b?.hostname) throw new Error('a rule before the catch-all has no hostname');
          const ra = hostnameRank(a.hostname);
          const rb = hostnameRank(b.hostname);
          expect(ra.wildcard && !rb.wildcard, `${a.hostname} (wildcard) before ${b.hostname} (exact)`).toBe(false);
          if (ra.wildcard && rb.wildcard) expect(ra.labels).toBeGreaterThanOrEqual(rb.labels);
          if (a.hostname === b.hostname) {
            expect(a.path === undefined && b.path !== undefined, `no-path rule before a path rule for ${a.hostname}`).toBe(false);
          }
        }
        // Prefix lengths (before escaping) never grow within one hostname.
        const byId = new Map(desired.routes.map((r) => [r.id, r]));
        const ordered = compileTracedRules(desired).flatMap((t) => (t.routeId ? [byId.get(t.routeId)] : []));
        expect(ordered).toHaveLength(desired.routes.length);
        for (let i = 1; i < ordered.length; i++) {
          const a = ordered[i - 1];
          const b = ordered[i];
          if (a && b && a.hostname === b.hostname) expect((a.path ?? '').length).toBeGreaterThanOrEqual((b.path ?? '').length);
        }
      }),
    );
  });

  it('is deterministic: the same routes in any order give byte-identical JSON', () => {
    fc.assert(
      fc.property(
        desiredTunnelArb().chain((desired) =>
          fc.tuple(
            fc.constant(desired),
            fc.shuffledSubarray(desired.routes, { minLength: desired.routes.length, maxLength: desired.routes.length }),
          ),
        ),
        ([desired, shuffled]) => {
          const a = JSON.stringify(compileTunnelConfig(desired));
          const b = JSON.stringify(compileTunnelConfig({ ...desired, routes: shuffled }));
          expect(b).toBe(a);
          expect(JSON.stringify(compileTunnelConfig(desired))).toBe(a);
        },
      ),
    );
  });
});

describe('compileTunnelConfig: every request reaches the route the user meant (through a model of cloudflared)', () => {
  it('holds for generated route sets and requests', () => {
    fc.assert(
      fc.property(routesArb('t1', 40), fc.array(requestArb, { minLength: 20, maxLength: 60 }), (routes, requests) => {
        const desired = desiredOf(routes);
        const config = compileTunnelConfig(desired);
        const traced = compileTracedRules(desired);
        for (const { host, path } of requests) {
          const index = findMatchingRule(config, host, path);
          expect(traced[index]?.routeId ?? null, `${host}${path}`).toBe(intendedRoute(routes, host, path));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('holds for requests aimed at each route (its own hostname and prefix, plus near misses)', () => {
    fc.assert(
      fc.property(
        routesArb('t1', 40),
        fc.constantFrom('', '/', '/x', 'x', '/v1/api'),
        fc.constantFrom('app', 'zz.a'),
        (routes, tail, label) => {
          const desired = desiredOf(routes);
          const config = compileTunnelConfig(desired);
          const traced = compileTracedRules(desired);
          for (const route of routes) {
            const host = route.hostname.replace('*', label);
            const joined = `${route.path === '/' || route.path === null ? '' : route.path}${tail}`;
            const path = joined.startsWith('/') ? joined : `/${joined}`;
            const index = findMatchingRule(config, host, path);
            expect(traced[index]?.routeId ?? null, `${host}${path}`).toBe(intendedRoute(routes, host, path));
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('a prefix "/api" matches /api and /api/x but not /apix or /v1/api', () => {
    const api = makeRoute('api', 'app.example.com', '/api', { service: { namespace: 'web', name: 'api', port: 8080 } });
    const web = makeRoute('web', 'app.example.com', null, { service: { namespace: 'web', name: 'web', port: 80 } });
    const desired = desiredOf([web, api]);
    const config = compileTunnelConfig(desired);
    expect(config.ingress[0]).toEqual({
      hostname: 'app.example.com',
      path: '^/api(/|$)',
      service: 'http://api.web.svc.cluster.local:8080',
    });
    const reached = (path: string) => compileTracedRules(desired)[findMatchingRule(config, 'app.example.com', path)]?.routeId;
    expect(['/api', '/api/', '/api/x', '/apix', '/v1/api', '/'].map(reached)).toEqual(['api', 'api', 'api', 'web', 'web', 'web']);
  });

  it('escapes regex metacharacters in prefixes', () => {
    expect(pathPrefixRegex('/v1.0')).toBe('^/v1\\.0(/|$)');
    expect(pathPrefixRegex('/a+b(c)[d]{e}|f^g$h*i?j\\k')).toBe('^/a\\+b\\(c\\)\\[d\\]\\{e\\}\\|f\\^g\\$h\\*i\\?j\\\\k(/|$)');
    expect(new RegExp(pathPrefixRegex('/v1.0')).test('/v1x0')).toBe(false);
    expect(pathPrefixRegex('/')).toBe('^/');
    expect(pathPrefixRegex('/a%20b')).toBe('^/a b(/|$)');
  });

  it('a wildcard does not match its parent domain and a deeper wildcard wins', () => {
    const routes = [
      makeRoute('wide', '*.example.com', null, { url: 'http_status:201' }),
      makeRoute('deep', '*.a.example.com', null, { url: 'http_status:202' }),
      makeRoute('exact', 'x.a.example.com', null, { url: 'http_status:203' }),
    ];
    const desired = desiredOf(routes);
    const config = compileTunnelConfig(desired);
    const reached = (host: string) => compileTracedRules(desired)[findMatchingRule(config, host, '/')]?.routeId ?? null;
    expect(['example.com', 'b.example.com', 'y.a.example.com', 'z.y.a.example.com', 'X.A.example.com:8443'].map(reached)).toEqual([
      null,
      'wide',
      'deep',
      'deep',
      'exact',
    ]);
  });
});

describe('compileTunnelConfig: origins, originRequest, warp-routing', () => {
  const svc = { service: { namespace: 'ml', name: 'triton', port: 8000 } };

  it('sends a Service origin directly, through the ingress controller or through the Gateway by mode', () => {
    const routes = [
      makeRoute('r', 'gpu.example.com', null, svc),
      makeRoute('u', 'raw.example.com', null, { url: 'https://10.0.0.5:8443' }),
    ];
    const services = (mode: DesiredTunnel['tunnel']['mode']) =>
      compileTunnelConfig(desiredOf(routes, { tunnel: makeTunnel('t1', { mode }) })).ingress.map((r) => r.service);
    expect(services({ type: 'direct' })).toEqual(['http://triton.ml.svc.cluster.local:8000', 'https://10.0.0.5:8443', 'http_status:404']);
    expect(
      services({ type: 'ingress', className: 'traefik', controller: { namespace: 'kube-system', name: 'traefik', port: 80 } }),
    ).toEqual(['http://traefik.kube-system.svc.cluster.local:80', 'https://10.0.0.5:8443', 'http_status:404']);
    expect(
      services({
        type: 'gateway',
        gateway: { namespace: 'gw', name: 'public' },
        service: { namespace: 'gw', name: 'public-gw', port: 8080 },
      }),
    ).toEqual(['http://public-gw.gw.svc.cluster.local:8080', 'https://10.0.0.5:8443', 'http_status:404']);
  });

  it('merges per-route originRequest with Access, keeps tunnel defaults at the top, and follows private networks for warp-routing', () => {
    const route = makeRoute('r', 'gpu.example.com', null, svc, {
      originRequest: { noTLSVerify: true, connectTimeout: 5 },
      access: { required: true, teamName: 'oceanid', audTag: ['aud-1'] },
    });
    const desired = desiredOf([route], { tunnel: makeTunnel('t1', { originRequest: { tcpKeepAlive: 30 }, catchAll: 'http_status:503' }) });
    expect(JSON.stringify(compileTunnelConfig(desired))).toBe(
      JSON.stringify({
        ingress: [
          {
            hostname: 'gpu.example.com',
            service: 'http://triton.ml.svc.cluster.local:8000',
            originRequest: { access: { audTag: ['aud-1'], required: true, teamName: 'oceanid' }, connectTimeout: 5, noTLSVerify: true },
          },
          { service: 'http_status:503' },
        ],
        originRequest: { tcpKeepAlive: 30 },
        'warp-routing': { enabled: false },
      }),
    );
    const withNetworks = {
      ...desired,
      privateNetworks: [
        { id: 'p', tunnel: 't1', cidr: '10.43.0.0/16', virtualNetworkId: null, comment: '', etag: '', createdAt: '', updatedAt: '' },
      ],
    };
    expect(compileTunnelConfig(withNetworks)['warp-routing']).toEqual({ enabled: true });
  });

  it('compiles a tunnel without routes to the catch-all alone', () => {
    expect(compileTunnelConfig(desiredOf([]))).toEqual({ ingress: [{ service: 'http_status:404' }], 'warp-routing': { enabled: false } });
  });
});

describe('normalizeTunnelConfig', () => {
  it('leaves a compiled config unchanged', () => {
    fc.assert(
      fc.property(desiredTunnelArb(), (desired) => {
        const config = compileTunnelConfig(desired);
        expect(JSON.stringify(normalizeTunnelConfig(config))).toBe(JSON.stringify(config));
      }),
      { numRuns: 50 },
    );
  });

  it('makes a config echoed by Cloudflare with empty originRequest objects and no warp-routing equal to the compiled one', () => {
    const compiled = compileTunnelConfig(
      desiredOf([makeRoute('r', 'app.example.com', '/api', { url: 'http://10.0.0.1:80' }, { originRequest: { noTLSVerify: true } })]),
    );
    const echoed = {
      originRequest: {},
      ingress: [
        { originRequest: { noTLSVerify: true }, service: 'http://10.0.0.1:80', path: '^/api(/|$)', hostname: 'app.example.com' },
        { service: 'http_status:404', originRequest: {}, hostname: '' },
      ],
    };
    expect(normalizeTunnelConfig(echoed)).toEqual(compiled);
    expect(JSON.stringify(normalizeTunnelConfig(echoed))).toBe(JSON.stringify(compiled));
    expect(normalizeTunnelConfig({ ingress: 'x' })).toBeNull();
    expect(normalizeTunnelConfig({ ingress: [{ hostname: 'a.example.com' }] })).toBeNull();
  });
});
