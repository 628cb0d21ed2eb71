import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { ACCOUNT, clusterWithTunnel, labelStudio } from './fixtures';
import { api, expectError, storeSnapshot, uid } from './helpers';
import { addRoute, cloudflareTunnelId, drain, fake, pendingRows, setup, syncStatus } from './sync-helpers';

// Routes whose path is a cloudflared (Go RE2) regex, and the rule that nothing cloudflared refuses is written or pushed.

interface ApiRoute {
  id: string;
  etag: string;
  path: string | null;
  pathRegex: string | null;
  originKind: string;
}
type Config = { ingress: { hostname?: string; path?: string; service: string }[] };

const create = (body: Record<string, unknown>) => api('POST', '/v1/routes', { body });

async function created(body: Record<string, unknown>): Promise<ApiRoute> {
  const response = await create(body);
  expect(response.status, await response.clone().text()).toBe(201);
  return (await response.json()) as ApiRoute;
}

async function config(tunnel: string): Promise<Config> {
  const response = await api('GET', `/v1/tunnels/${tunnel}/config`);
  expect(response.status).toBe(200);
  return ((await response.json()) as { config: Config }).config;
}

describe('routes with a cloudflared path regex', () => {
  it('stores the regex byte for byte, compiles it before the prefix routes of its hostname, and matches with it', async () => {
    const { tunnel } = await clusterWithTunnel();
    const hostname = `${uid('rx')}.example.com`;
    const prefix = await created({ tunnel, hostname, path: '/', origin: labelStudio });
    const regex = ' \\.php$'; // a leading space is part of the regex: nothing is trimmed
    const php = await created({ tunnel, hostname, pathRegex: regex, origin: { url: 'http://php.apps:9000' } });
    expect(php).toMatchObject({ path: null, pathRegex: regex, originKind: 'http' });
    expect(prefix).toMatchObject({ path: '/', pathRegex: null });

    const rules = (await config(tunnel)).ingress;
    expect(rules.map((r) => r.path)).toEqual([regex, '^/', undefined]);

    const post = await api('POST', `/v1/tunnels/${tunnel}/match`, {
      body: { urls: [`https://${hostname}/a/b .php`, `https://${hostname}/index.php`] },
    });
    const { matches } = (await post.json()) as { matches: { routeId: string | null }[] };
    expect(matches.map((m) => m.routeId)).toEqual([php.id, prefix.id]);

    const listed = await api('GET', `/v1/routes/${php.id}`);
    expect(await listed.json()).toMatchObject({ pathRegex: regex, path: null });
  });

  it.each([
    ['(?=x)', 'lookahead', 'invalid or unsupported Perl syntax'],
    ['(a)\\1', 'a backreference', 'invalid escape sequence'],
    ['^/[a', 'an unclosed bracket', 'missing closing ]'],
    ['*x', 'a dangling star', 'missing argument to repetition operator'],
    ['', 'an empty regex', 'leave both "path" and "pathRegex" out'],
  ])("refuses %j (%s) with Go's reason at body.pathRegex, writing nothing", async (pathRegex, _what, reason) => {
    const { tunnel } = await clusterWithTunnel();
    const before = await storeSnapshot();
    const error = await expectError(
      await create({ tunnel, hostname: `${uid('bad')}.example.com`, pathRegex, origin: labelStudio }),
      422,
      'validation_failed',
    );
    expect(error.error.details).toEqual([{ path: 'body.pathRegex', message: expect.stringContaining(reason) }]);
    expect(error.error.message).toContain('body.pathRegex');
    expect(await storeSnapshot()).toEqual(before);
  });

  it('takes a prefix or a regex, not both; on update one replaces the other, and null removes it', async () => {
    const { tunnel } = await clusterWithTunnel();
    const hostname = `${uid('up')}.example.com`;
    const both = await expectError(
      await create({ tunnel, hostname, path: '/a', pathRegex: '^/a', origin: labelStudio }),
      422,
      'validation_failed',
    );
    expect(both.error.details?.[0]?.path).toBe('body.pathRegex');

    const route = await created({ tunnel, hostname, path: '/a', origin: labelStudio });
    const patch = async (body: Record<string, unknown>) => {
      const response = await api('PATCH', `/v1/routes/${route.id}`, { body });
      expect(response.status, await response.clone().text()).toBe(200);
      return (await response.json()) as ApiRoute;
    };
    expect(await patch({ pathRegex: '^/a/[0-9]+$' })).toMatchObject({ path: null, pathRegex: '^/a/[0-9]+$' });
    expect(await patch({ path: '/b' })).toMatchObject({ path: '/b', pathRegex: null });
    expect(await patch({ pathRegex: 'x' })).toMatchObject({ path: null, pathRegex: 'x' });
    expect(await patch({ pathRegex: null })).toMatchObject({ path: null, pathRegex: null });
    const invalid = await expectError(
      await api('PATCH', `/v1/routes/${route.id}`, { body: { pathRegex: 'a{2,1}' } }),
      422,
      'validation_failed',
    );
    expect(invalid.error.details?.[0]).toEqual({ path: 'body.pathRegex', message: expect.stringContaining('invalid repeat count') });
  });

  it('refuses the same regex twice on a hostname, but a prefix and a regex with the same text are different rules', async () => {
    const { tunnel } = await clusterWithTunnel();
    const hostname = `${uid('dup')}.example.com`;
    await created({ tunnel, hostname, pathRegex: '/api', origin: labelStudio });
    await created({ tunnel, hostname, path: '/api', origin: labelStudio });
    const dup = await expectError(await create({ tunnel, hostname, pathRegex: '/api', origin: labelStudio }), 409, 'conflict');
    expect(dup.error.details?.[0]?.path).toBe('body.pathRegex');
  });

  it('refuses a regex route to a Service through an Ingress controller (which matches prefixes only)', async () => {
    const cluster = uid('c');
    expect((await api('POST', '/v1/clusters', { body: { id: cluster, name: cluster } })).status).toBe(201);
    const tunnel = uid('t');
    const mode = { type: 'ingress', className: 'traefik', controller: { namespace: 'kube-system', name: 'traefik', port: 80 } };
    expect((await api('POST', '/v1/tunnels', { body: { id: tunnel, cluster, account: ACCOUNT, mode } })).status).toBe(201);
    const hostname = `${uid('ing')}.example.com`;
    const refused = await expectError(
      await create({ tunnel, hostname, pathRegex: '\\.php$', origin: labelStudio }),
      422,
      'validation_failed',
    );
    expect(refused.error.details?.[0]).toEqual({ path: 'body.pathRegex', message: expect.stringContaining('matches path prefixes only') });
    await created({ tunnel, hostname, pathRegex: '\\.php$', origin: { url: 'http://php.apps:9000' } });
  });

  it('refuses to switch a tunnel with regex routes to Service origins into ingress or gateway mode, naming the routes', async () => {
    const { tunnel } = await clusterWithTunnel();
    const hostname = `${uid('sw')}.example.com`;
    const regex = await created({ tunnel, hostname, pathRegex: '^/api/v[0-9]+/', origin: labelStudio });
    await created({ tunnel, hostname, pathRegex: '\\.php$', origin: { url: 'http://php.apps:9000' } });
    const before = await storeSnapshot();
    const ingress = { type: 'ingress', className: 'traefik', controller: { namespace: 'kube-system', name: 'traefik', port: 80 } };
    for (const mode of [
      ingress,
      {
        type: 'gateway',
        gateway: { namespace: 'kube-system', name: 'edge' },
        service: { namespace: 'kube-system', name: 'edge-gateway', port: 80 },
      },
    ]) {
      const response = await api('PATCH', `/v1/tunnels/${tunnel}`, { body: { mode } });
      const refused = await expectError(response, 422, 'validation_failed');
      expect(refused.error.message).toContain(`route "${regex.id}"`);
      expect(refused.error.message).toContain('matches path prefixes only');
      expect(refused.error.details).toEqual([{ path: 'body.mode', message: expect.stringContaining(regex.id) }]);
    }
    expect(await storeSnapshot()).toEqual(before);
    // With the Service-origin regex route gone, the URL-origin one does not stand in the way.
    expect((await api('DELETE', `/v1/routes/${regex.id}`)).status).toBe(204);
    expect((await api('PATCH', `/v1/tunnels/${tunnel}`, { body: { mode: ingress } })).status).toBe(200);
  });
});

describe('nothing cloudflared refuses is written', () => {
  it("answers 422 with the rule and cloudflared's reason for a socks-proxy whose ipRules cloudflared cannot parse", async () => {
    const { tunnel } = await clusterWithTunnel();
    const hostname = `${uid('socks')}.example.com`;
    const before = await storeSnapshot();
    const body = { tunnel, hostname, origin: { url: 'socks-proxy' }, originRequest: { ipRules: [{ prefix: '10.0.0.0', ports: [80] }] } };
    const error = await expectError(await create(body), 422, 'validation_failed');
    expect(error.error.message).toBe(
      `cloudflared would refuse tunnel "${tunnel}"'s config with the rule for "${hostname}": unable to create ip rule for socks-proxy: ipRules[0]: unable to parse cidr: 10.0.0.0`,
    );
    expect(error.error.details).toEqual([{ path: 'body.originRequest.ipRules', message: expect.stringContaining('unable to parse cidr') }]);
    expect(await storeSnapshot()).toEqual(before);

    // The same route with a CIDR is fine; an update that breaks it is refused the same way.
    const route = await created({ ...body, originRequest: { ipRules: [{ prefix: '10.0.0.0/8', ports: [80] }] } });
    expect(route.originKind).toBe('socks_proxy');
    const update = await expectError(
      await api('PATCH', `/v1/routes/${route.id}`, { body: { originRequest: { ipRules: [{ prefix: 'fd00::/300' }] } } }),
      422,
      'validation_failed',
    );
    expect(update.error.message).toContain('ipRules[0]: unable to parse cidr: fd00::/300');
  });

  it("types each route's origin (originKind) as cloudflared runs it", async () => {
    const { tunnel } = await clusterWithTunnel();
    const kinds: [Record<string, unknown>, string][] = [
      [{ origin: { url: 'ssh://localhost:22' } }, 'tcp'],
      [{ origin: { url: 'unix:/run/app.sock' } }, 'unix'],
      [{ origin: { url: 'http_status:418' } }, 'http_status'],
      [{ origin: { url: 'hello_world' } }, 'hello_world'],
      [{ origin: { url: 'wss://10.0.0.5' } }, 'http'],
      [{ origin: { url: 'http://10.0.0.5' }, originRequest: { bastionMode: true } }, 'bastion'],
      [{ origin: labelStudio }, 'http'],
    ];
    for (const [extra, kind] of kinds) {
      const route = await created({ tunnel, hostname: `${uid('k')}.example.com`, ...extra });
      expect(route.originKind, JSON.stringify(extra)).toBe(kind);
    }
  });

  it('the sync refuses to push a config cloudflared would refuse, and says so on the target', async () => {
    const { account, tunnel, zone } = await setup();
    await addRoute(tunnel, `ok.${zone}`);
    // A row no API write could produce (older data, a manual edit): a regex Go's regexp.Compile refuses.
    const now = new Date().toISOString();
    await env.DB.prepare(
      `INSERT INTO routes (id, tunnel_id, hostname, path, path_regex, origin, origin_request, dns, access, version, created_at, updated_at)
       VALUES (?, ?, ?, '', '(?=x)', '{"url":"http://10.0.0.5"}', '{}', 0, NULL, 1, ?, ?)`,
    )
      .bind(`rt_${uid('raw')}`, tunnel, `raw.${zone}`, now, now)
      .run();
    const report = await drain(account);
    const failed = report.errors.find((e) => e.target === `tunnel_config:${tunnel}`);
    expect(failed?.error).toMatch(/^not pushed: cloudflared would refuse this tunnel's compiled config: rule #\d+: .*\(\?=/);
    const cfId = await cloudflareTunnelId(tunnel);
    const calls = await fake.calls(account);
    expect(calls.filter((c) => c.method === 'PUT' && c.path.endsWith(`/cfd_tunnel/${cfId}/configurations`))).toEqual([]);
    const target = (await syncStatus()).targets.find((t) => t.kind === 'tunnel_config' && t.target === tunnel);
    expect(target?.lastError).toMatch(/^not pushed: cloudflared would refuse/);
    expect((await pendingRows(account)).some((r) => r.kind === 'tunnel_config')).toBe(true);
  });
});
