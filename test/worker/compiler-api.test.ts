import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { encryptSecret } from '../../worker/crypto';
import { ACCOUNT, clusterWithTunnel, labelStudio } from './fixtures';
import { api, count, type Envelope, expectError, storeSnapshot, uid } from './helpers';

interface IngressRule {
  hostname?: string;
  path?: string;
  service: string;
  originRequest?: Record<string, unknown>;
}
interface KubeObject {
  kind: string;
  metadata: { name: string; namespace?: string; annotations?: Record<string, string> };
  data?: Record<string, string>;
}
interface ImportReport {
  dryRun: boolean;
  routes: {
    index: number;
    status: string;
    reason?: string;
    id?: string;
    warnings: string[];
    route: { hostname: string; path?: string; pathRegex?: string; origin: unknown };
  }[];
  unsupported: { index: number; reason: string; rule: Record<string, unknown> }[];
  catchAll: { index: number; service: string; differs: boolean } | null;
  warnings: string[];
  summary: { create: number; created: number; skipped: number; unsupported: number };
}
interface PlanReport {
  changes: number;
  accepted: number;
  refused: number;
  results: { index: number; action: string; status: number; id?: string; error?: { code: string; message: string } }[];
  tunnels: { id: string; status: string; diff: { noop: boolean; rules: { change: string; key: string }[] } }[];
  clusters: {
    id: string;
    revision: number;
    diff: { noop: boolean; created: { key: string }[]; changed: { key: string }[]; deleted: { key: string }[] };
  }[];
}

async function route(tunnel: string, hostname: string, extra: Record<string, unknown> = {}): Promise<{ id: string }> {
  const response = await api('POST', '/v1/routes', { body: { tunnel, hostname, origin: labelStudio, ...extra } });
  expect(response.status).toBe(201);
  return (await response.json()) as { id: string };
}

async function ingressTunnel(): Promise<{ cluster: string; tunnel: string }> {
  const cluster = uid('c');
  const tunnel = uid('t');
  expect((await api('POST', '/v1/clusters', { body: { id: cluster, name: cluster } })).status).toBe(201);
  const mode = { type: 'ingress', className: 'traefik', controller: { namespace: 'kube-system', name: 'traefik', port: 80 } };
  expect((await api('POST', '/v1/tunnels', { body: { id: tunnel, cluster, account: ACCOUNT, mode } })).status).toBe(201);
  return { cluster, tunnel };
}

describe('GET /v1/tunnels/:id/config', () => {
  it('returns the compiled remote config: most specific rules first, anchored prefixes, catch-all last, warp-routing from private networks', async () => {
    const { tunnel } = await clusterWithTunnel();
    const host = `${uid('app')}.example.com`;
    const wildcard = await route(tunnel, `*.${host}`);
    const exact = await route(tunnel, host);
    const apiPrefix = await route(tunnel, host, { path: '/api', originRequest: { noTLSVerify: true } });
    expect((await api('POST', '/v1/private-networks', { body: { tunnel, cidr: '10.42.0.0/16' } })).status).toBe(201);

    const response = await api('GET', `/v1/tunnels/${tunnel}/config`, { role: 'viewer' });
    expect(response.status).toBe(200);
    const { config, routes } = (await response.json()) as {
      config: { ingress: IngressRule[]; 'warp-routing': { enabled: boolean } };
      routes: (string | null)[];
    };
    const service = 'http://label-studio-ls-app.apps.svc.cluster.local:8085';
    expect(config.ingress).toEqual([
      { hostname: host, path: '^/api(/|$)', service, originRequest: { noTLSVerify: true } },
      { hostname: host, service },
      { hostname: `*.${host}`, service },
      { service: 'http_status:404' },
    ]);
    expect(config['warp-routing']).toEqual({ enabled: true });
    // The route behind each rule, in the same order (the console lists routes by it); the catch-all has none.
    expect(routes).toEqual([apiPrefix.id, exact.id, wildcard.id, null]);
  });

  it('answers 404 for an unknown tunnel and 401/403 without a usable token', async () => {
    await expectError(await api('GET', '/v1/tunnels/no-such-tunnel/config'), 404, 'not_found');
    const { tunnel } = await clusterWithTunnel();
    await expectError(await api('GET', `/v1/tunnels/${tunnel}/config`, { role: null }), 401, 'unauthorized');
    await expectError(await api('GET', `/v1/tunnels/${tunnel}/config`, { role: 'inference' }), 403, 'forbidden');
  });
});

describe('GET /v1/clusters/:id/manifests', () => {
  it('returns revision, hash and objects, with the connector token redacted', async () => {
    const { cluster, tunnel } = await ingressTunnel();
    const host = `${uid('ls')}.example.com`;
    await route(tunnel, host, { path: '/api' });
    const token = `eyJ${uid('secret-connector-token')}`;
    await env.DB.prepare('UPDATE tunnels SET token_ciphertext = ? WHERE id = ?')
      .bind(await encryptSecret(env.EDGEPLANE_ENCRYPTION_KEY, token), tunnel)
      .run();

    const response = await api('GET', `/v1/clusters/${cluster}/manifests`, { role: 'viewer' });
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).not.toContain(token);
    expect(text).not.toContain(btoa(token));
    const body = JSON.parse(text) as { revision: number; hash: string; objects: KubeObject[] };
    const clusterBody = (await (await api('GET', `/v1/clusters/${cluster}`)).json()) as { desiredRevision: number };
    expect(body.revision).toBe(clusterBody.desiredRevision);
    expect(body.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(body.objects.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`)).toEqual([
      'Namespace//edgeplane-tunnels',
      `Secret/edgeplane-tunnels/cloudflared-${tunnel}-token`,
      `Deployment/edgeplane-tunnels/cloudflared-${tunnel}`,
      `PodDisruptionBudget/edgeplane-tunnels/cloudflared-${tunnel}`,
      `Ingress/apps/edgeplane-${tunnel}-${host}`,
    ]);
    const secret = body.objects.find((o) => o.kind === 'Secret');
    expect(secret?.data).toBeUndefined();
    expect(secret?.metadata.annotations).toEqual({ 'edgeplane.dev/redacted': 'token' });

    // Same state → same hash; a new route → a new hash and a higher revision.
    const again = (await (await api('GET', `/v1/clusters/${cluster}/manifests`)).json()) as { hash: string };
    expect(again.hash).toBe(body.hash);
    await route(tunnel, `${uid('more')}.example.com`);
    const changed = (await (await api('GET', `/v1/clusters/${cluster}/manifests`)).json()) as { hash: string; revision: number };
    expect(changed.hash).not.toBe(body.hash);
    expect(changed.revision).toBeGreaterThan(body.revision);
  });

  it('answers 404 for an unknown cluster and 401/403 without a usable token', async () => {
    await expectError(await api('GET', '/v1/clusters/no-such-cluster/manifests'), 404, 'not_found');
    const { cluster } = await clusterWithTunnel();
    await expectError(await api('GET', `/v1/clusters/${cluster}/manifests`, { token: 'not-a-token' }), 401, 'unauthorized');
    await expectError(await api('GET', `/v1/clusters/${cluster}/manifests`, { role: 'inference' }), 403, 'forbidden');
  });
});

const seedYaml = (domain: string) => `
tunnel: 6ff42ae2-765d-4adf-8112-31c55c1551ef
credentials-file: /etc/cloudflared/creds/credentials.json
originRequest:
  conectTimeout: 30s
ingress:
  - hostname: ls.${domain}
    service: http://traefik:80
  - hostname: api.${domain}
    path: ^/v1(/|$)
    service: http://api.web.svc.cluster.local:8080
  - hostname: app.${domain}
    path: \\.php$
    service: http://php:9000
  - path: ^/healthz$
    service: http_status:200
  - service: http_status:404
`;

describe('POST /v1/import/cloudflared-config', () => {
  it('dry-runs by default: reports routes, warnings and unsupported rules, and writes nothing', async () => {
    const { tunnel } = await clusterWithTunnel();
    const domain = `${uid('d')}.example.com`;
    const before = await storeSnapshot();
    const response = await api('POST', '/v1/import/cloudflared-config', { body: { tunnel, config: seedYaml(domain) } });
    expect(response.status).toBe(200);
    const report = (await response.json()) as ImportReport;
    expect(report.dryRun).toBe(true);
    expect(report.routes.map((r) => [r.index, r.status, r.route.hostname, r.route.path ?? null, r.route.pathRegex ?? null])).toEqual([
      [0, 'would-create', `ls.${domain}`, null, null],
      [1, 'would-create', `api.${domain}`, '/v1', null],
      [2, 'would-create', `app.${domain}`, null, '\\.php$'],
    ]);
    expect(report.routes[0]?.warnings[0]).toContain('traefik.kube-system.svc.cluster.local:80');
    expect(report.unsupported.map((u) => [u.index, u.rule.path])).toEqual([[3, '^/healthz$']]);
    expect(report.catchAll).toEqual({ index: 4, service: 'http_status:404', tunnelCatchAll: 'http_status:404', differs: false });
    // A warning not tied to a rule (a misspelled top-level originRequest key) reaches the report.
    expect(report.warnings).toEqual([
      expect.stringContaining('unknown key "conectTimeout" is ignored by cloudflared; did you mean "connectTimeout"?'),
    ]);
    expect(await storeSnapshot()).toEqual(before);
  });

  it('creates the routes with dryRun false (suggested origins on request) and skips what already exists on a second run', async () => {
    const { tunnel } = await clusterWithTunnel();
    const domain = `${uid('d')}.example.com`;
    const audits = await count('audit');
    const first = (await (
      await api('POST', '/v1/import/cloudflared-config', {
        body: { tunnel, config: seedYaml(domain), dryRun: false, useSuggestedOrigins: true },
      })
    ).json()) as ImportReport;
    expect(first.routes.map((r) => r.status)).toEqual(['created', 'created', 'created']);
    expect(first.summary).toMatchObject({ created: 3, skipped: 0, unsupported: 1 });
    expect(await count('audit')).toBe(audits + 3);
    const listed = (await (await api('GET', `/v1/routes?tunnel=${tunnel}`)).json()) as { items: { hostname: string; origin: unknown }[] };
    expect(listed.items.find((r) => r.hostname === `ls.${domain}`)?.origin).toEqual({
      service: { namespace: 'kube-system', name: 'traefik', port: 80 },
    });

    const second = (await (
      await api('POST', '/v1/import/cloudflared-config', { body: { tunnel, config: seedYaml(domain), dryRun: false } })
    ).json()) as ImportReport;
    expect(second.routes.map((r) => r.status)).toEqual(['skipped', 'skipped', 'skipped']);
    expect(second.routes[0]?.reason).toContain(`already routed on this tunnel by route ${first.routes[0]?.id ?? '?'}`);
    expect(second.routes[2]?.reason).toContain(`already routed on this tunnel by route ${first.routes[2]?.id ?? '?'}`);
    expect(await count('audit')).toBe(audits + 3);
    // The regex rule compiles back byte for byte.
    const config = (await (await api('GET', `/v1/tunnels/${tunnel}/config`)).json()) as {
      config: { ingress: { hostname?: string; path?: string }[] };
    };
    expect(config.config.ingress.find((r) => r.hostname === `app.${domain}`)?.path).toBe('\\.php$');
  });

  it('a dry run reports what the import would do, decided by the route write itself', async () => {
    // A tunnel whose Service origins go through an Ingress controller (prefix matching only) cannot take a regex rule
    // to a Service: the route write refuses it, and so must the dry run, with the same reason.
    const cluster = uid('c');
    expect((await api('POST', '/v1/clusters', { body: { id: cluster, name: cluster } })).status).toBe(201);
    const tunnel = uid('t');
    const mode = { type: 'ingress', className: 'traefik', controller: { namespace: 'kube-system', name: 'traefik', port: 80 } };
    expect((await api('POST', '/v1/tunnels', { body: { id: tunnel, cluster, account: ACCOUNT, mode } })).status).toBe(201);
    const domain = `${uid('d')}.example.com`;
    const yaml = `ingress:
  - hostname: app.${domain}
    path: \\.php$
    service: http://php.apps.svc.cluster.local:9000
  - hostname: www.${domain}
    service: http://web.apps.svc.cluster.local:80
  - service: http_status:404
`;
    const run = async (dryRun: boolean) =>
      (await (
        await api('POST', '/v1/import/cloudflared-config', { body: { tunnel, config: yaml, dryRun, useSuggestedOrigins: true } })
      ).json()) as ImportReport;
    const before = await storeSnapshot();
    const dry = await run(true);
    expect(await storeSnapshot()).toEqual(before);
    expect(dry.routes.map((r) => [r.route.hostname, r.status])).toEqual([
      [`app.${domain}`, 'skipped'],
      [`www.${domain}`, 'would-create'],
    ]);
    expect(dry.routes[0]?.reason).toContain('matches path prefixes only');
    const real = await run(false);
    expect(real.routes.map((r) => r.status)).toEqual(['skipped', 'created']);
    expect(real.routes[0]?.reason).toBe(dry.routes[0]?.reason);
  });

  it('answers 422 naming the place of malformed input, and 401/403 without a usable token', async () => {
    const { tunnel } = await clusterWithTunnel();
    const before = await storeSnapshot();
    const yaml = await expectError(
      await api('POST', '/v1/import/cloudflared-config', { body: { tunnel, config: 'ingress: [', dryRun: false } }),
      422,
      'validation_failed',
    );
    expect(yaml.error.details?.[0]).toMatchObject({ path: 'body.config', message: expect.stringContaining('config.yml line 1') });
    const rule = await expectError(
      await api('POST', '/v1/import/cloudflared-config', {
        body: { tunnel, config: 'ingress:\n  - hostname: a.example.com\n  - service: http_status:404\n' },
      }),
      422,
      'validation_failed',
    );
    expect(rule.error.details?.[0]).toMatchObject({
      path: 'body.config.ingress[0].service',
      message: expect.stringContaining('rule #1: "" is an invalid address'),
    });
    const missing = await expectError(
      await api('POST', '/v1/import/cloudflared-config', { body: { tunnel: 'no-such-tunnel', config: seedYaml('x.example.com') } }),
      422,
      'validation_failed',
    );
    expect(missing.error.details?.[0]?.path).toBe('body.tunnel');
    await expectError(await api('POST', '/v1/import/cloudflared-config', { body: { tunnel, config: 42 } }), 422, 'validation_failed');
    await expectError(
      await api('POST', '/v1/import/cloudflared-config', { role: 'viewer', body: { tunnel, config: seedYaml('v.example.com') } }),
      403,
      'forbidden',
    );
    await expectError(
      await api('POST', '/v1/import/cloudflared-config', { role: null, body: { tunnel, config: seedYaml('v.example.com') } }),
      401,
      'unauthorized',
    );
    expect(await storeSnapshot()).toEqual(before);
  });
});

describe('POST /v1/import/remote-config', () => {
  it("reads Cloudflare's configuration response the same way", async () => {
    const { tunnel } = await clusterWithTunnel();
    const domain = `${uid('r')}.example.com`;
    const config = {
      success: true,
      errors: [],
      messages: [],
      result: {
        config: {
          ingress: [{ hostname: `gpu.${domain}`, service: 'http://localhost:8000' }, { service: 'http_status:503' }],
          'warp-routing': { enabled: true },
        },
      },
    };
    const report = (await (await api('POST', '/v1/import/remote-config', { body: { tunnel, config } })).json()) as ImportReport;
    expect(report.routes.map((r) => [r.status, r.route.hostname])).toEqual([['would-create', `gpu.${domain}`]]);
    expect(report.routes[0]?.warnings[0]).toContain('is the pod itself');
    expect(report.catchAll).toMatchObject({ service: 'http_status:503', differs: true });
    const bad = await expectError(
      await api('POST', '/v1/import/remote-config', {
        body: {
          tunnel,
          config: {
            ingress: [
              // Go's encoding/json matches "notlsverify" to noTLSVerify case-insensitively; the wrong type is refused.
              { hostname: `a.${domain}`, service: 'http://x:1', originRequest: { notlsverify: 'yes' } },
              { service: 'http_status:404' },
            ],
          },
        },
      }),
      422,
      'validation_failed',
    );
    expect(bad.error.details?.[0]).toMatchObject({
      path: 'body.config.ingress[0].originRequest.noTLSVerify',
      message: expect.stringContaining('expected a JSON boolean'),
    });
  });
});

describe('POST /v1/plan', () => {
  it('reports per tunnel the config diff and per cluster the objects, and writes nothing', async () => {
    const { cluster, tunnel } = await ingressTunnel();
    const existing = await route(tunnel, `${uid('old')}.example.com`);
    const host = `${uid('new')}.example.com`;
    const before = await storeSnapshot();
    const response = await api('POST', '/v1/plan', {
      body: {
        changes: [
          { action: 'route.create', route: { tunnel, hostname: host, path: '/api', origin: labelStudio } },
          { action: 'route.delete', id: existing.id },
          { action: 'tunnel.update', id: tunnel, tunnel: { placement: { type: 'cluster', replicas: 3 } } },
        ],
      },
    });
    expect(response.status).toBe(200);
    const plan = (await response.json()) as PlanReport;
    expect(await storeSnapshot()).toEqual(before);
    expect(plan.changes).toBe(3);
    const t = plan.tunnels.find((x) => x.id === tunnel);
    expect(t?.status).toBe('changed');
    expect(t?.diff.rules.map((r) => [r.change, r.key]).sort()).toEqual(
      [
        ['added', `${host} ^/api(/|$)`],
        ['removed', expect.stringContaining('old')],
      ].sort(),
    );
    const c = plan.clusters.find((x) => x.id === cluster);
    expect(c?.diff.created.map((o) => o.key)).toEqual([`networking.k8s.io/Ingress/apps/edgeplane-${tunnel}-${host}`]);
    expect(c?.diff.changed.map((o) => o.key)).toEqual([`apps/Deployment/edgeplane-tunnels/cloudflared-${tunnel}`]);
    expect(c?.diff.deleted).toHaveLength(1);
  });

  it('plans a new tunnel and reports no change when there are no changes', async () => {
    const { cluster } = await clusterWithTunnel();
    const id = uid('nt');
    const created = (await (
      await api('POST', '/v1/plan', { body: { changes: [{ action: 'tunnel.create', tunnel: { id, cluster, account: ACCOUNT } }] } })
    ).json()) as PlanReport;
    expect(created.tunnels.find((t) => t.id === id)).toMatchObject({
      status: 'created',
      diff: { rules: [{ change: 'added', key: '(catch-all)' }] },
    });
    expect(created.clusters.find((c) => c.id === cluster)?.diff.created.map((o) => o.key)).toContain(
      `apps/Deployment/edgeplane-tunnels/cloudflared-${id}`,
    );
    const none = (await (await api('POST', '/v1/plan', { body: {} })).json()) as PlanReport;
    expect(none.changes).toBe(0);
    expect(none.clusters.find((c) => c.id === cluster)?.diff.noop).toBe(true);
    expect(none.tunnels.every((t) => t.status === 'unchanged')).toBe(true);
  });

  it('reports per change the error its endpoint answers, and 422/401/403 for a body it cannot read', async () => {
    const { tunnel } = await clusterWithTunnel();
    await route(tunnel, `${uid('keep')}.example.com`);
    const before = await storeSnapshot();
    const refused = await api('POST', '/v1/plan', {
      body: {
        changes: [
          { action: 'route.delete', id: 'rt_missing' },
          { action: 'tunnel.delete', id: tunnel },
        ],
      },
    });
    expect(refused.status).toBe(200);
    const plan = (await refused.json()) as PlanReport;
    expect(await storeSnapshot()).toEqual(before);
    expect({ accepted: plan.accepted, refused: plan.refused }).toEqual({ accepted: 0, refused: 2 });
    const missing = await api('DELETE', '/v1/routes/rt_missing');
    const missingBody = (await missing.json()) as Envelope;
    expect(plan.results[0]).toEqual({
      index: 0,
      action: 'route.delete',
      id: 'rt_missing',
      status: missing.status,
      error: { code: missingBody.error.code, message: missingBody.error.message },
    });
    const cascade = await api('DELETE', `/v1/tunnels/${tunnel}`);
    const cascadeBody = (await cascade.json()) as Envelope;
    expect(cascade.status).toBe(409);
    expect(plan.results[1]).toMatchObject({ status: 409, error: { code: 'conflict', message: cascadeBody.error.message } });
    const shape = await expectError(
      await api('POST', '/v1/plan', { body: { changes: [{ action: 'route.rename' }] } }),
      422,
      'validation_failed',
    );
    expect(shape.error.details?.[0]?.path).toContain('body.changes.0');
    const originRequest = await expectError(
      await api('POST', '/v1/plan', {
        body: {
          changes: [
            {
              action: 'route.create',
              route: { tunnel, hostname: 'x.example.com', origin: labelStudio, originRequest: { conectTimeout: 5 } },
            },
          ],
        },
      }),
      422,
      'validation_failed',
    );
    expect(originRequest.error.details?.[0]).toMatchObject({
      path: 'body.changes.0.route.originRequest.conectTimeout',
      message: expect.stringContaining('"connectTimeout"'),
    });
    await expectError(await api('POST', '/v1/plan', { role: null, body: {} }), 401, 'unauthorized');
    await expectError(await api('POST', '/v1/plan', { role: 'inference', body: {} }), 403, 'forbidden');
  });
});
