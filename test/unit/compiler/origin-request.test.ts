import { describe, expect, it } from 'vitest';
import { routeCreate, tunnelCreate } from '../../../src/shared/api';
import { checkOriginRequest, closestName, ORIGIN_REQUEST_KEYS } from '../../../src/shared/compiler';

describe('checkOriginRequest', () => {
  it('accepts every key cloudflared knows with the right type, normalising durations to seconds and ordering keys', () => {
    const result = checkOriginRequest(
      {
        access: { teamName: 'oceanid', audTag: ['a'] },
        noTLSVerify: true,
        connectTimeout: '1m30s',
        tlsTimeout: 10,
        tcpKeepAlive: '30s',
        keepAliveTimeout: 90,
        keepAliveConnections: 100,
        noHappyEyeballs: false,
        httpHostHeader: 'app.internal',
        originServerName: 'app.internal',
        matchSNItoHost: true,
        caPool: '/etc/ca.pem',
        disableChunkedEncoding: true,
        http2Origin: true,
        proxyType: 'socks',
        bastionMode: false,
        proxyAddress: '127.0.0.1',
        proxyPort: 0,
        ipRules: [{ prefix: '10.0.0.0/8', ports: [80], allow: true }],
      },
      'route',
    );
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value.connectTimeout).toBe(90);
    expect(result.value.tcpKeepAlive).toBe(30);
    expect(result.value.access).toEqual({ required: false, teamName: 'oceanid', audTag: ['a'] });
    expect(Object.keys(result.value)).toEqual(Object.keys(ORIGIN_REQUEST_KEYS));
  });

  it.each([
    [{ noTlsVerify: true }, 'route.noTlsVerify: not an originRequest setting cloudflared knows; did you mean "noTLSVerify"?'],
    [{ conectTimeout: 5 }, 'did you mean "connectTimeout"?'],
    [{ httpHostHeadr: 'x' }, 'did you mean "httpHostHeader"?'],
    [{ matchSniToHost: true }, 'did you mean "matchSNItoHost"?'],
    [{ completelyUnrelated: 1 }, 'known keys: connectTimeout, tlsTimeout'],
    [{ noTLSVerify: 'yes' }, 'route.noTLSVerify: expected true or false, got string "yes"'],
    [{ connectTimeout: -1 }, 'route.connectTimeout: expected whole seconds'],
    [{ connectTimeout: '500ms' }, 'route.connectTimeout: expected whole seconds'],
    [{ connectTimeout: 'soon' }, 'route.connectTimeout: expected whole seconds'],
    [{ keepAliveConnections: 1.5 }, 'route.keepAliveConnections: expected a whole number'],
    [{ proxyType: 'http' }, 'route.proxyType: expected "" (plain proxy) or "socks"'],
    [{ proxyPort: 70000 }, 'route.proxyPort: expected a port number'],
    [{ httpHostHeader: 5 }, 'route.httpHostHeader: expected a string'],
    [{ access: { required: true, audTag: ['a'] } }, 'route.access.teamName: teamName cannot be blank when audTag is present'],
    [{ access: { audTag: 'a' } }, 'route.access.audTag: audTag must be a list'],
    [
      { access: { teamName: 'x', audTag: ['a'], requred: true } },
      'route.access.requred: unknown key "requred" in access; did you mean "required"?',
    ],
    [{ access: 'yes' }, 'route.access: expected an object'],
    [{ ipRules: [{ prefix: '10.0.0.0/8', port: [1] }] }, 'route.ipRules.0.port: unknown key "port"; did you mean "ports"?'],
    [{ ipRules: 'all' }, 'route.ipRules: expected a list'],
  ])('rejects %j', (value, message) => {
    const result = checkOriginRequest(value, 'route');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toContain(message);
  });

  it('rejects a value that is not an object', () => {
    for (const value of [null, [], 'x', 3])
      expect(checkOriginRequest(value, 'tunnel')).toMatchObject({
        ok: false,
        message: expect.stringContaining('tunnel: originRequest must be an object'),
      });
  });

  it('suggests only plausible names', () => {
    expect(closestName('tlsTimout', Object.keys(ORIGIN_REQUEST_KEYS))).toBe('tlsTimeout');
    expect(closestName('zzz', Object.keys(ORIGIN_REQUEST_KEYS))).toBeUndefined();
  });
});

describe('originRequestSchema in the API shapes', () => {
  it('makes a misspelled key a validation issue at that key in routeCreate and tunnelCreate', () => {
    const route = routeCreate.safeParse({
      tunnel: 't1',
      hostname: 'app.example.com',
      origin: { url: 'http://10.0.0.1:80' },
      originRequest: { noTlsVerify: true },
    });
    expect(route.success).toBe(false);
    expect(route.error?.issues[0]).toMatchObject({
      path: ['originRequest', 'noTlsVerify'],
      message: expect.stringContaining('did you mean "noTLSVerify"?'),
    });
    const tunnel = tunnelCreate.safeParse({
      id: 't1',
      cluster: 'c',
      account: '0123456789abcdef0123456789abcdef',
      originRequest: { connectTimeout: 'x' },
    });
    expect(tunnel.error?.issues[0]).toMatchObject({ path: ['originRequest', 'connectTimeout'] });
  });

  it('normalises a valid originRequest and defaults to {}', () => {
    const route = routeCreate.parse({
      tunnel: 't1',
      hostname: 'app.example.com',
      origin: { url: 'http://10.0.0.1:80' },
      originRequest: { tlsTimeout: '10s' },
    });
    expect(route.originRequest).toEqual({ tlsTimeout: 10 });
    expect(routeCreate.parse({ tunnel: 't1', hostname: 'app.example.com', origin: { url: 'http://10.0.0.1:80' } }).originRequest).toEqual(
      {},
    );
  });
});
