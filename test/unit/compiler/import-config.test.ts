import { describe, expect, it } from 'vitest';
import { compileTunnelConfig, type ImportResult, parseCloudflaredConfigYaml, parseRemoteConfig } from '../../../src/shared/compiler';
import { makeRoute, makeTunnel } from './arbitraries';

// A config.yml as people run it after moving from Docker Compose to k3s.
const SEED_CONFIG_YML = `
tunnel: 6ff42ae2-765d-4adf-8112-31c55c1551ef
credentials-file: /etc/cloudflared/creds/credentials.json
originRequest:
  connectTimeout: 30s
ingress:
  - hostname: ls.example.com
    service: http://traefik:80
  - hostname: gpu.example.com
    path: ^/v2(/|$)
    service: http://localhost:8000
    originRequest:
      noTLSVerify: true
  - hostname: api.example.com
    service: http://api.web.svc.cluster.local:8080
  - hostname: app.example.com
    path: \\.(png|jpg)$
    service: http://static:80
  - hostname: mac.example.com
    service: http://host.docker.internal:3000
  - service: http_status:404
`;

const proposalOf = (result: ImportResult) => {
  if (!result.ok) throw new Error(`import failed: ${JSON.stringify(result.errors)}`);
  return result.proposal;
};

describe('parseCloudflaredConfigYaml', () => {
  it('turns a seed config.yml into routes, flags origins that cannot work in a pod, keeps regex rules and finds the catch-all', () => {
    const proposal = proposalOf(parseCloudflaredConfigYaml(SEED_CONFIG_YML));
    const paths = (r: (typeof proposal.routes)[number]) => r.route.path ?? r.route.pathRegex ?? null;
    expect(proposal.routes.map((r) => [r.index, r.route.hostname, paths(r), r.route.origin])).toEqual([
      [0, 'ls.example.com', null, { url: 'http://traefik:80' }],
      [1, 'gpu.example.com', '/v2', { url: 'http://localhost:8000' }],
      [2, 'api.example.com', null, { service: { namespace: 'web', name: 'api', port: 8080 } }],
      [3, 'app.example.com', '\\.(png|jpg)$', { url: 'http://static:80' }],
      [4, 'mac.example.com', null, { url: 'http://host.docker.internal:3000' }],
    ]);
    const [traefik, gpu, api, app, mac] = proposal.routes;
    // A regex that is not a whole-segment prefix is kept as the route's pathRegex, byte for byte.
    expect(app?.route).toMatchObject({ pathRegex: '\\.(png|jpg)$' });
    expect(app?.route.path).toBeUndefined();
    expect(app?.warnings[0]).toContain("kept as the route's pathRegex");
    expect(traefik?.warnings[0]).toContain('"traefik" is a Docker network name');
    expect(traefik?.warnings[0]).toContain('http://traefik.kube-system.svc.cluster.local:80');
    expect(traefik?.suggestedOrigin).toEqual({ service: { namespace: 'kube-system', name: 'traefik', port: 80 } });
    expect(gpu?.warnings[0]).toContain('localhost inside the cloudflared pod is the pod itself');
    expect(gpu?.route.originRequest).toEqual({ noTLSVerify: true });
    expect(api?.warnings).toEqual([]);
    expect(mac?.warnings[0]).toContain('host.docker.internal exists only under Docker');
    expect(proposal.unsupported).toEqual([]);
    expect(proposal.catchAll).toEqual({ index: 5, service: 'http_status:404' });
    expect(proposal.originRequest).toEqual({ connectTimeout: 30 });
  });

  it('does not warn about localhost when the connector runs on the node with host networking', () => {
    const proposal = proposalOf(parseCloudflaredConfigYaml(SEED_CONFIG_YML, { placement: 'node' }));
    expect(proposal.routes.find((r) => r.route.hostname === 'gpu.example.com')?.warnings).toEqual([]);
  });

  it('suggests a default-namespace Service for other Docker names, and says it is a guess', () => {
    const proposal = proposalOf(
      parseCloudflaredConfigYaml(
        'ingress:\n  - hostname: ls.example.com\n    service: http://label-studio:8080\n  - service: http_status:404\n',
      ),
    );
    expect(proposal.routes[0]?.suggestedOrigin).toEqual({ service: { namespace: 'default', name: 'label-studio', port: 8080 } });
    expect(proposal.routes[0]?.warnings[0]).toContain('is a guess');
  });

  it("warns when edgeplane's order would change which rule serves a request, and marks exact duplicates unreachable", () => {
    const proposal = proposalOf(
      parseCloudflaredConfigYaml(`ingress:
  - hostname: "*.example.com"
    service: http://10.0.0.1:80
  - hostname: app.example.com
    service: http://10.0.0.2:80
  - hostname: app.example.com
    service: http://10.0.0.3:80
  - service: http_status:404
`),
    );
    expect(proposal.routes[1]?.warnings).toEqual([expect.stringContaining('rule 1 will now come before rule 0')]);
    expect(proposal.unsupported[0]).toMatchObject({ index: 2, reason: expect.stringContaining('unreachable: rule #2') });
  });

  it('imported routes compile back to the same matching for the rules they express', () => {
    const proposal = proposalOf(parseCloudflaredConfigYaml(SEED_CONFIG_YML));
    const routes = proposal.routes.map((p, i) =>
      makeRoute(`r${i}`, p.route.hostname, p.route.path ?? null, p.route.origin, { originRequest: p.route.originRequest }),
    );
    const config = compileTunnelConfig({ tunnel: makeTunnel('t1'), routes, privateNetworks: [] });
    expect(config.ingress.find((r) => r.hostname === 'gpu.example.com')).toEqual({
      hostname: 'gpu.example.com',
      path: '^/v2(/|$)',
      service: 'http://localhost:8000',
      originRequest: { noTLSVerify: true },
    });
  });

  it.each([
    ['ingress: [', /config\.yml line 1 column \d+/, 'not valid YAML'],
    ['', /^config$/, 'empty'],
    ['- a\n- b\n', /^config\.yml$/, 'expected a mapping'],
    ['url: http://localhost:8000\n', /^ingress$/, "doesn't contain any ingress rules"],
    ['ingress: []\n', /^ingress$/, "doesn't contain any ingress rules"],
    [
      'ingress:\n  - hostname: a.example.com\n  - service: http_status:404\n',
      /^ingress\[0\]\.service$/,
      'rule #1: "" is an invalid address, please make sure it has a scheme and a hostname',
    ],
    [
      'ingress:\n  - hostname: a.example.com\n    service: http_status:1000\n  - service: http_status:404\n',
      /^ingress\[0\]\.service$/,
      'rule #1: invalid HTTP status code: 1000 (cloudflared takes 100 to 999)',
    ],
    [
      'ingress:\n  - hostname: a.example.com\n    path: "(?=x)"\n    service: http://x:1\n  - service: http_status:404\n',
      /^ingress\[0\]\.path$/,
      'rule #1: invalid path regex "(?=x)": invalid or unsupported Perl syntax: `(?=`',
    ],
    [
      'ingress:\n  - hostname: a.*.example.com\n    service: http://x:1\n  - service: http_status:404\n',
      /^ingress\[0\]\.hostname$/,
      'wildcard',
    ],
    [
      'ingress:\n  - hostname: a.example.com:8443\n    service: http://x:1\n  - service: http_status:404\n',
      /^ingress\[0\]\.hostname$/,
      'cannot contain a port',
    ],
    ['ingress:\n  - hostname: a.example.com\n    service: http://x:1\n', /^ingress\[0\]$/, 'the last ingress rule must match all URLs'],
    [
      'ingress:\n  - service: http://x:1\n  - hostname: a.example.com\n    service: http://x:1\n  - service: http_status:404\n',
      /^ingress\[0\]$/,
      'rule #1: matches every hostname',
    ],
    [
      'ingress:\n  - hostname: [a]\n    service: http://x:1\n  - service: http_status:404\n',
      /^ingress\[0\]\.hostname$/,
      'must be a string',
    ],
    ['ingress:\n  - just-a-string\n  - service: http_status:404\n', /^ingress\[0\]$/, 'expected a mapping'],
    [
      'originRequest:\n  tlsTimeout: soon\ningress:\n  - service: http_status:404\n',
      /^originRequest\.tlsTimeout$/,
      '"soon" is not a Go duration',
    ],
    ['warp-routing: yes\ningress:\n  - service: http_status:404\n', /^warp-routing$/, 'expected { enabled'],
    ['a: 1\na: 2\ningress:\n  - service: http_status:404\n', /config\.yml line 2/, 'not valid YAML'],
  ])('reports malformed input %j at its place', (text, path, message) => {
    const result = parseCloudflaredConfigYaml(text);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors[0]?.path).toMatch(path);
    expect(result.errors[0]?.message).toContain(message);
  });

  it('stops at the first broken rule, as cloudflared does', () => {
    const result = parseCloudflaredConfigYaml(
      'ingress:\n  - hostname: a.example.com\n  - hostname: b.example.com\n    service: nope\n  - service: http_status:404\n',
    );
    expect(result.ok ? [] : result.errors.map((e) => e.index)).toEqual([0]);
  });
});

describe('parseRemoteConfig', () => {
  const remote = {
    success: true,
    errors: [],
    messages: [],
    result: {
      tunnel_id: '6ff42ae2-765d-4adf-8112-31c55c1551ef',
      version: 7,
      source: 'cloudflare',
      config: {
        ingress: [
          { hostname: 'ls.example.com', service: 'http://traefik:80', originRequest: { connectTimeout: 10 } },
          { hostname: 'gpu.example.com', path: '^/v2(/.*)?$', service: 'http://triton.ml.svc.cluster.local:8000' },
          { hostname: 'api.example.com', path: '/api', service: 'http://api:8080' },
          { service: 'http_status:404' },
        ],
        'warp-routing': { enabled: true },
      },
    },
  };

  it("reads Cloudflare's response envelope, its result, or the bare config the same way", () => {
    const a = proposalOf(parseRemoteConfig(remote));
    expect(proposalOf(parseRemoteConfig(remote.result))).toEqual(a);
    expect(proposalOf(parseRemoteConfig(remote.result.config))).toEqual(a);
    expect(a.routes.map((r) => [r.route.hostname, r.route.path ?? null, r.route.pathRegex ?? null, r.route.origin])).toEqual([
      ['ls.example.com', null, null, { url: 'http://traefik:80' }],
      ['gpu.example.com', '/v2', null, { service: { namespace: 'ml', name: 'triton', port: 8000 } }],
      ['api.example.com', null, '/api', { url: 'http://api:8080' }],
    ]);
    expect(a.routes[0]?.route.originRequest).toEqual({ connectTimeout: 10 });
    expect(a.unsupported).toEqual([]);
    expect(a.warpRouting).toBe(true);
    expect(a.catchAll).toEqual({ index: 3, service: 'http_status:404' });
  });

  it.each([
    [null, 'config'],
    ['text', 'config'],
    [{ result: { config: { ingress: 'all' } } }, 'ingress'],
    [
      {
        ingress: [
          { hostname: 'a.example.com', service: 'http://x:1', originRequest: { keepAliveConnections: -1 } },
          { service: 'http_status:404' },
        ],
      },
      'ingress[0].originRequest.keepAliveConnections',
    ],
  ])('reports malformed input %j', (json, path) => {
    const result = parseRemoteConfig(json);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors[0]?.path).toBe(path);
  });
});

describe('originRequest as cloudflared reads it: config.yml (yaml.v3) against remote JSON (encoding/json)', () => {
  const yamlRule = (originRequest: string) =>
    `ingress:\n  - hostname: a.example.com\n    service: http://10.0.0.1:80\n    originRequest:\n${originRequest
      .split('\n')
      .map((l) => `      ${l}`)
      .join('\n')}\n  - service: http_status:404\n`;
  const jsonRule = (originRequest: Record<string, unknown>) => ({
    ingress: [{ hostname: 'a.example.com', service: 'http://10.0.0.1:80', originRequest }, { service: 'http_status:404' }],
  });
  const yamlOk = (text: string) => proposalOf(parseCloudflaredConfigYaml(yamlRule(text))).routes[0];
  const jsonOk = (value: Record<string, unknown>) => proposalOf(parseRemoteConfig(jsonRule(value))).routes[0];
  const yamlError = (text: string) => {
    const result = parseCloudflaredConfigYaml(yamlRule(text));
    return result.ok ? undefined : result.errors[0];
  };
  const jsonError = (value: Record<string, unknown>) => {
    const result = parseRemoteConfig(jsonRule(value));
    return result.ok ? undefined : result.errors[0];
  };

  it('durations: Go duration strings in YAML (a bare integer is refused), whole seconds in JSON (a string is refused)', () => {
    expect(yamlOk('connectTimeout: 1m30s\ntcpKeepAlive: "0"')?.route.originRequest).toEqual({ connectTimeout: 90, tcpKeepAlive: 0 });
    expect(yamlError('connectTimeout: 30')).toMatchObject({
      path: 'ingress[0].originRequest.connectTimeout',
      message: expect.stringContaining('cloudflared refuses a bare number here (write "30s"'),
    });
    expect(jsonOk({ connectTimeout: 30 })?.route.originRequest).toEqual({ connectTimeout: 30 });
    expect(jsonError({ connectTimeout: '30s' })).toMatchObject({
      path: 'ingress[0].originRequest.connectTimeout',
      message: expect.stringContaining('cloudflared refuses a duration string in JSON'),
    });
    const subSecond = yamlOk('keepAliveTimeout: 1500ms');
    expect(subSecond?.route.originRequest).toEqual({ keepAliveTimeout: 2 });
    expect(subSecond?.warnings).toContainEqual(expect.stringContaining('"1500ms" is kept as 2s'));
  });

  it("booleans: yaml.v3's yes/no/on/off for typed bools in YAML; only JSON booleans in JSON", () => {
    expect(yamlOk('noTLSVerify: yes\nhttp2Origin: Off\ndisableChunkedEncoding: TRUE')?.route.originRequest).toEqual({
      noTLSVerify: true,
      http2Origin: false,
      disableChunkedEncoding: true,
    });
    expect(yamlError('noTLSVerify: maybe')).toMatchObject({ path: 'ingress[0].originRequest.noTLSVerify' });
    expect(jsonError({ noTLSVerify: 'yes' })).toMatchObject({
      path: 'ingress[0].originRequest.noTLSVerify',
      message: expect.stringContaining('expected a JSON boolean'),
    });
  });

  it('unknown keys: a warning in YAML (also inside access and ipRules), ignored in JSON, whose keys match case-insensitively', () => {
    const yaml = yamlOk('noTLSVerfy: true\naccess:\n  required: false\n  teamName: t\n  audience: x');
    expect(yaml?.route.originRequest).toEqual({ access: { required: false, teamName: 't', audTag: [] } });
    expect(yaml?.warnings).toEqual(
      expect.arrayContaining([
        expect.stringContaining('unknown key "noTLSVerfy" is ignored by cloudflared; did you mean "noTLSVerify"?'),
        expect.stringContaining('access: unknown key "audience" is ignored by cloudflared'),
      ]),
    );
    const json = jsonOk({ NOTLSVERIFY: true, connecttimeout: 5, whatever: 1, access: { TeamName: 't', Required: false } });
    expect(json?.route.originRequest).toEqual({
      connectTimeout: 5,
      noTLSVerify: true,
      access: { required: false, teamName: 't', audTag: [] },
    });
    expect(json?.warnings).toEqual([]);
  });

  it('passes the top-level warnings of a proposal through (not tied to one rule)', () => {
    const result = parseCloudflaredConfigYaml('originRequest:\n  proxyTipe: socks\ningress:\n  - service: http_status:404\n');
    expect(proposalOf(result).warnings).toEqual([expect.stringContaining('originRequest: unknown key "proxyTipe"')]);
  });
});
