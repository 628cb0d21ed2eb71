import { describe, expect, it } from 'vitest';
import { checkTunnelConfig, compileTunnelConfig } from '../../../src/shared/compiler';
import { makeRoute, makeTunnel } from './arbitraries';

// Where routes with a path regex go in the compiled config (src/shared/compiler/rule-order.ts states the decision).

describe('compiled order of path-regex routes', () => {
  it('puts regex routes before the prefix and no-path routes of their hostname, never past another hostname', () => {
    const url = { url: 'http://10.0.0.1:80' };
    const routes = [
      makeRoute('r1', 'app.example.com', null, url),
      makeRoute('r2', 'app.example.com', '/api', url),
      makeRoute('r3', 'app.example.com', null, url, { pathRegex: '\\.php$' }),
      makeRoute('r4', 'app.example.com', null, url, { pathRegex: '^/u/[0-9]+$' }),
      makeRoute('r5', '*.example.com', null, url, { pathRegex: '.' }),
      makeRoute('r6', 'a.app.example.com', '/x', url),
    ];
    const config = compileTunnelConfig({ tunnel: makeTunnel('t1'), routes: [...routes].reverse(), privateNetworks: [] });
    expect(config.ingress.map((r) => [r.hostname ?? null, r.path ?? null])).toEqual([
      ['a.app.example.com', '^/x(/|$)'],
      ['app.example.com', '^/u/[0-9]+$'], // regexes: longest first, then by bytes
      ['app.example.com', '\\.php$'],
      ['app.example.com', '^/api(/|$)'],
      ['app.example.com', null],
      ['*.example.com', '.'],
      [null, null],
    ]);
    expect(checkTunnelConfig(config).ok).toBe(true);
  });

  it('reports the rule cloudflared would refuse in a compiled config', () => {
    const routes = [makeRoute('r1', 'app.example.com', null, { url: 'http://10.0.0.1:80' }, { pathRegex: '(?!x)' })];
    const checked = checkTunnelConfig(compileTunnelConfig({ tunnel: makeTunnel('t1'), routes, privateNetworks: [] }));
    expect(checked).toMatchObject({ ok: false, problem: { index: 0, field: 'path', message: expect.stringContaining('rule #1') } });
  });
});
