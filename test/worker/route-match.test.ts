import { describe, expect, it } from 'vitest';
import { clusterWithTunnel } from './fixtures';
import { api, expectError, storeSnapshot, uid } from './helpers';

interface Match {
  index: number;
  catchAll: boolean;
  hostname: string | null;
  pathRegex: string | null;
  service: string;
  originKind: string;
  routeId: string | null;
  host: string;
  path: string;
  nearestMiss?: { index: number; hostname: string | null; reason: string };
}
type Matches = { matches: Match[]; warnings: string[] };

describe('route tester: GET/POST /v1/tunnels/:id/match', () => {
  it("answers which compiled rule serves a URL, with its route, and explains the catch-all's nearest miss", async () => {
    const { tunnel } = await clusterWithTunnel();
    const host = `${uid('app')}.example.com`;
    const create = async (body: Record<string, unknown>) => {
      const response = await api('POST', '/v1/routes', { body: { tunnel, hostname: host, ...body } });
      expect(response.status).toBe(201);
      return ((await response.json()) as { id: string }).id;
    };
    const apiRoute = await create({ path: '/api', origin: { url: 'http://10.0.0.5:8000' } });
    const ssh = await create({ hostname: `ssh-${host}`, origin: { url: 'ssh://localhost' } });

    const get = await api('GET', `/v1/tunnels/${tunnel}/match?url=${encodeURIComponent(`https://${host}:443/api/v1`)}`);
    expect(get.status).toBe(200);
    const [first] = ((await get.json()) as Matches).matches;
    expect(first).toMatchObject({
      routeId: apiRoute,
      hostname: host,
      pathRegex: '^/api(/|$)',
      service: 'http://10.0.0.5:8000',
      originKind: 'http',
      catchAll: false,
      host,
    });

    const post = await api('POST', `/v1/tunnels/${tunnel}/match`, {
      body: { urls: [`https://ssh-${host}/`, `https://${host}/v1/api`, `https://x.${host}/`] },
    });
    expect(post.status).toBe(200);
    const [viaSsh, unanchored, other] = ((await post.json()) as Matches).matches;
    expect(viaSsh).toMatchObject({ routeId: ssh, service: 'ssh://localhost', originKind: 'tcp' });
    expect(unanchored).toMatchObject({ catchAll: true, routeId: null, service: 'http_status:404' });
    expect(unanchored?.nearestMiss).toMatchObject({ hostname: host, reason: expect.stringContaining('anchored with "^"') });
    expect(other).toMatchObject({ catchAll: true });
  });

  it('refuses an unreadable URL with its place, and a missing tunnel with 404', async () => {
    const { tunnel } = await clusterWithTunnel();
    const bad = await expectError(
      await api('POST', `/v1/tunnels/${tunnel}/match`, { body: { urls: ['https://ok.example.com/', 'not a url'] } }),
      422,
      'validation_failed',
    );
    expect(bad.error.details).toEqual([{ path: 'body.urls.1', message: expect.stringContaining('not an absolute URL') }]);
    await expectError(await api('GET', `/v1/tunnels/${uid('none')}/match?url=https://a.example.com/`), 404, 'not_found');
  });
});

describe('route tester for a pasted config: POST /v1/match', () => {
  it('matches in the order given, with cloudflared host semantics (byte compare, punycode alias, wildcards at depth)', async () => {
    const config = `ingress:
  - hostname: môô.example.com
    service: ssh://localhost:22
  - hostname: "*.example.com"
    path: \\.png$
    service: unix:/run/static.sock
  - service: http_status:503
`;
    const response = await api('POST', '/v1/match', {
      body: { config, urls: ['https://xn--m-xgaa.example.com/', 'https://a.b.example.com/x/y.png', 'https://EXAMPLE.com/y.png'] },
    });
    expect(response.status).toBe(200);
    const { matches } = (await response.json()) as Matches;
    expect(matches.map((m) => [m.index, m.originKind])).toEqual([
      [0, 'tcp'],
      [1, 'unix'],
      [2, 'http_status'],
    ]);
    expect(matches[2]?.nearestMiss?.reason).toContain('not "EXAMPLE.com"');
  });

  it('refuses a config cloudflared would refuse, with the rule number and the RE2 reason, and changes nothing', async () => {
    const before = await storeSnapshot();
    const body = await expectError(
      await api('POST', '/v1/match', {
        body: {
          config: { ingress: [{ hostname: 'a.example.com', path: '^/(?!admin)', service: 'http://x' }, { service: 'http_status:404' }] },
          urls: ['https://a.example.com/'],
        },
      }),
      422,
      'validation_failed',
    );
    expect(body.error.message).toBe(
      'cloudflared would refuse this config: rule #1: invalid path regex "^/(?!admin)": invalid or unsupported Perl syntax: `(?!`',
    );
    expect(body.error.details).toEqual([{ path: 'body.config.ingress[0].path', message: expect.stringContaining('rule #1') }]);
    expect(await storeSnapshot()).toEqual(before);
  });
});

describe('RE2 refusal on import', () => {
  it('names the rule and the reason', async () => {
    const { tunnel } = await clusterWithTunnel();
    const body = await expectError(
      await api('POST', '/v1/import/cloudflared-config', {
        body: {
          tunnel,
          config: 'ingress:\n  - hostname: a.example.com\n    path: "(a)\\\\1"\n    service: http://x\n  - service: http_status:404\n',
        },
      }),
      422,
      'validation_failed',
    );
    expect(body.error.message).toContain('rule #1: invalid path regex "(a)\\1": invalid escape sequence: `\\1`');
  });
});
