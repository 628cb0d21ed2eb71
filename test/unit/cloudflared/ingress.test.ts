import { describe, expect, it } from 'vitest';
import {
  compilePathRegex,
  findMatchingRule,
  loadConfig,
  matchRequest,
  parseOriginService,
  parseRequestUrl,
  validateIngress,
  type ValidRule,
} from '../../../src/shared/cloudflared';
import { compileTunnelConfig, parseCloudflaredConfigYaml, parseRemoteConfig } from '../../../src/shared/compiler';
import {
  ACCESS_CASES,
  FIND_MATCHING_CASES,
  FIND_MATCHING_RULES,
  PARSE_CASES,
  RULE_MATCH_CASES,
} from '../../fixtures/cloudflared/ingress-cases';
import { makeRoute, makeTunnel } from '../compiler/arbitraries';

const rulesOf = (rules: { hostname: string; path: string; service?: string }[]): ValidRule[] => {
  const checked = validateIngress(rules.map((r) => ({ service: r.service ?? 'http://x', originRequest: {}, ...r })));
  if (!checked.ok) throw new Error(checked.problem.message);
  return checked.rules;
};

describe("cloudflared's own TestParseIngress configs", () => {
  it.each(PARSE_CASES)('$name: accepted=$accepted', (c) => {
    const loaded = loadConfig(c.yaml);
    expect(loaded.ok, loaded.ok ? '' : loaded.message).toBe(c.accepted);
    if (loaded.ok && c.kinds) expect(loaded.rules.map((r) => r.origin.kind)).toEqual(c.kinds);
    // The import refuses exactly what cloudflared refuses.
    expect(parseCloudflaredConfigYaml(c.yaml).ok).toBe(c.accepted);
  });

  it('adds the default port to the known TCP schemes only, and keeps the service text verbatim', () => {
    expect(parseOriginService('ssh://127.0.0.1')).toEqual({
      ok: true,
      origin: { kind: 'tcp', scheme: 'ssh', host: '127.0.0.1', port: null, defaultPort: 22 },
    });
    expect(parseOriginService('ftp://127.0.0.1')).toMatchObject({ origin: { defaultPort: null } });
    expect(parseOriginService('http_status:+404')).toEqual({ ok: true, origin: { kind: 'http_status', code: 404 } });
    expect(parseOriginService('http_status:999')).toMatchObject({ ok: true });
    expect(parseOriginService('hello-world')).toMatchObject({ origin: { kind: 'hello_world' } });
  });

  it.each(ACCESS_CASES)('access $name: refused=$refused', (c) => {
    const checked = validateIngress([{ hostname: '', path: '', service: 'http://x', originRequest: { access: c.access } }]);
    expect(!checked.ok).toBe(c.refused);
    if (!checked.ok) expect(checked.problem.message).toContain('rule #1: access.teamName cannot be blank');
  });
});

describe('RE2 paths', () => {
  it.each([
    ['(?=/api)', 'invalid or unsupported Perl syntax: `(?=`'],
    ['(a)\\1', 'invalid escape sequence: `\\1`'],
    ['[a', 'missing closing ]: `[a`'],
    ['*/x', 'missing argument to repetition operator: `*`'],
  ])('refuses %s with the rule number and Go regexp reason', (path, reason) => {
    const checked = validateIngress([
      { hostname: 'a.example.com', path: '^/ok', service: 'http://x', originRequest: {} },
      { hostname: 'a.example.com', path, service: 'http://x', originRequest: {} },
      { hostname: '', path: '', service: 'http_status:404', originRequest: {} },
    ]);
    expect(checked).toEqual({
      ok: false,
      problem: { index: 1, field: 'path', message: `rule #2: invalid path regex "${path}": ${reason}` },
    });
  });

  it('accepts RE2 forms JavaScript reads differently or refuses', () => {
    for (const ok of ['(?P<v>v[0-9]+)', '\\Qa.b\\E', '(?i)^/API', '\\pL+']) expect(compilePathRegex(ok).ok, ok).toBe(true);
  });
});

describe('the matcher, as FindMatchingRule and Rule.Matches', () => {
  it.each(FIND_MATCHING_CASES)('TestFindMatchingRule $host$path → rule $index', (c) => {
    expect(findMatchingRule(rulesOf(FIND_MATCHING_RULES), { host: c.host, path: c.path })).toBe(c.index);
  });

  it.each(RULE_MATCH_CASES)('TestRuleMatches $name', (c) => {
    const rule = { hostname: c.hostname, path: c.path };
    const rules = rulesOf(c.hostname === '*' ? [rule] : [rule, { hostname: '', path: '' }]);
    expect(findMatchingRule(rules, { host: c.host, path: c.reqPath }) === 0).toBe(c.want);
  });

  it('compares hostnames byte for byte, except through the lower-cased punycode alias of a rule', () => {
    const rules = rulesOf([
      { hostname: 'Example.com', path: '' },
      { hostname: 'app.example.com', path: '' },
      { hostname: '', path: '' },
    ]);
    expect(findMatchingRule(rules, { host: 'example.com', path: '/' })).toBe(0);
    const miss = matchRequest(rules, { host: 'APP.example.com:8443', path: '/' });
    expect(miss).toMatchObject({ index: 2, catchAll: true, host: 'APP.example.com', nearestMiss: { index: 1 } });
    expect(miss.nearestMiss?.reason).toContain('only in letter case');
  });

  it('explains a wildcard that does not match its apex and an anchored path', () => {
    const rules = rulesOf([
      { hostname: '*.example.com', path: '' },
      { hostname: 'api.test.org', path: '^/api(/|$)' },
      { hostname: '', path: '' },
    ]);
    expect(matchRequest(rules, { host: 'example.com', path: '/' }).nearestMiss?.reason).toContain('not "example.com" itself');
    expect(matchRequest(rules, { host: 'a.b.example.com', path: '/' }).index).toBe(0);
    const path = matchRequest(rules, { host: 'api.test.org', path: '/v1/api' });
    expect(path.nearestMiss).toEqual({ index: 1, reason: expect.stringContaining('anchored with "^"') });
  });

  it('tests the decoded path and drops the port from the Host', () => {
    const parsed = parseRequestUrl('https://app.example.com:8443/a%20b?q=1');
    expect(parsed).toEqual({ ok: true, request: { host: 'app.example.com:8443', path: '/a b' } });
    const rules = rulesOf([
      { hostname: 'app.example.com', path: '^/a b$' },
      { hostname: '', path: '' },
    ]);
    if (parsed.ok) expect(findMatchingRule(rules, parsed.request)).toBe(0);
  });
});

describe('import, as faithful as cloudflared', () => {
  it('imports every origin kind as a route and compiles it back byte for byte', () => {
    const services = [
      'ssh://localhost',
      'wss://h:8443',
      'rdp://pc',
      'tcp://db:5432',
      'unix:/run/a.sock',
      'unix+tls:/run/b.sock',
      'hello_world',
      'http_status:418',
      'socks-proxy',
    ];
    const yaml = `ingress:\n${services.map((s, i) => `  - hostname: h${i}.example.com\n    service: ${s}\n`).join('')}  - service: http_status:404\n`;
    const result = parseCloudflaredConfigYaml(yaml);
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    const routes = result.proposal.routes.map((p, i) => makeRoute(`r${i}`, p.route.hostname, null, p.route.origin));
    const compiled = compileTunnelConfig({ tunnel: makeTunnel('t1'), routes, privateNetworks: [] });
    expect(compiled.ingress.slice(0, -1).map((r) => [r.hostname, r.service])).toEqual(services.map((s, i) => [`h${i}.example.com`, s]));
    expect(loadConfig(compiled as unknown as Record<string, unknown>).ok).toBe(true);
  });

  it('keeps hostnames cloudflared accepts but a route cannot own, and warns about unknown keys instead of refusing', () => {
    const result = parseCloudflaredConfigYaml(
      'ingress:\n  - hostname: "*example.com"\n    service: http://x\n  - hostname: môô.example.com\n    service: http://x\n    colour: blue\n  - service: http_status:404\n',
    );
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    expect(result.proposal.unsupported[0]).toMatchObject({
      index: 0,
      reason: expect.stringContaining('cloudflared accepts this hostname'),
    });
    expect(result.proposal.routes[0]?.route.hostname).toBe('xn--m-xgaa.example.com');
    expect(result.proposal.routes[0]?.warnings.join('\n')).toContain('unknown key "colour" is ignored');
  });

  it('reads remote JSON keys case-insensitively and takes an empty rule list', () => {
    const result = parseRemoteConfig({
      Ingress: [{ Hostname: 'a.example.com', SERVICE: 'http://x', extra: 1 }, { service: 'http_status:404' }],
    });
    expect(result.ok && result.proposal.routes.map((r) => r.route.hostname)).toEqual(['a.example.com']);
    const empty = parseRemoteConfig({ ingress: [] });
    expect(empty.ok && empty.proposal.warnings).toEqual([expect.stringContaining('503')]);
  });
});
