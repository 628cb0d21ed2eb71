import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checkCidr,
  checkDns1123Label,
  checkHostname,
  checkOriginService,
  checkPathPrefix,
  checkPort,
  cidrsOverlap,
} from '../../src/shared/validation';

const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?$/).filter((l) => !(l.length >= 4 && l.slice(2, 4) === '--'));
const tld = fc.stringMatching(/^[a-z]{2,10}$/);
const hostnameArb = fc.tuple(fc.array(label, { minLength: 1, maxLength: 4 }), tld).map(([ls, t]) => [...ls, t].join('.'));

describe('hostname', () => {
  it('accepts generated RFC 1123 names, exact and wildcard, and lower-cases them', () => {
    fc.assert(
      fc.property(hostnameArb, fc.boolean(), fc.boolean(), (name, wildcard, upper) => {
        const input = `${wildcard ? '*.' : ''}${upper ? name.toUpperCase() : name}`;
        const result = checkHostname(input);
        if (wildcard && name.split('.').length < 2) return;
        expect(result).toEqual({ ok: true, value: input.toLowerCase() });
      }),
    );
  });

  it('rejects mutations with a message, never by throwing', () => {
    const mutation = fc.oneof(
      hostnameArb.map((h) => `https://${h}`),
      hostnameArb.map((h) => `${h}:8080`),
      hostnameArb.map((h) => `${h}/path`),
      hostnameArb.map((h) => `a.*.${h}`),
      hostnameArb.map((h) => `-${h}`),
      hostnameArb.map((h) => `${h}..com`),
      hostnameArb.map((h) => `x_y.${h}`),
      hostnameArb.map((h) => `ü.${h}`),
      hostnameArb.map((h) => `${'a'.repeat(64)}.${h}`),
      fc.constant('localhost'),
      fc.constant(''),
    );
    fc.assert(
      fc.property(mutation, (input) => {
        const result = checkHostname(input);
        expect(result.ok).toBe(false);
        if (!result.ok) expect(result.message.length).toBeGreaterThan(10);
      }),
    );
  });

  it('accepts punycode labels and says what is wrong with a scheme', () => {
    expect(checkHostname('xn--bcher-kva.example.com')).toEqual({ ok: true, value: 'xn--bcher-kva.example.com' });
    expect(checkHostname('https://label.example.com/x')).toEqual({ ok: false, message: expect.stringContaining('"label.example.com"') });
  });
});

describe('CIDR', () => {
  const v4 = fc.tuple(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 0, max: 32 }));

  it('accepts canonical IPv4 networks and suggests the canonical form when host bits are set', () => {
    fc.assert(
      fc.property(v4, ([address, prefix]) => {
        const mask = prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0;
        const network = (address & mask) >>> 0;
        const text = (n: number) => [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');
        expect(checkCidr(`${text(network)}/${prefix}`)).toMatchObject({ ok: true, value: { text: `${text(network)}/${prefix}` } });
        if (network !== address) {
          const result = checkCidr(`${text(address)}/${prefix}`);
          expect(result).toEqual({ ok: false, message: expect.stringContaining(`"${text(network)}/${prefix}"`) });
        }
      }),
    );
  });

  it('handles IPv6 canonical form and rejects garbage', () => {
    expect(checkCidr('fd00:10:42::/48')).toMatchObject({ ok: true, value: { version: 6, prefix: 48 } });
    expect(checkCidr('FD00::/8')).toMatchObject({ ok: true, value: { text: 'fd00::/8' } });
    expect(checkCidr('fd00:0:0::/48')).toEqual({ ok: false, message: expect.stringContaining('"fd00::/48"') });
    expect(checkCidr('fd00::1/64')).toEqual({ ok: false, message: expect.stringContaining('"fd00::/64"') });
    for (const bad of ['10.0.0.0/33', '10.0.0/8', '300.1.1.1/32', '10.0.0.0/8/8', '010.0.0.0/8', 'fd00:::/8', 'x']) {
      expect(checkCidr(bad).ok).toBe(false);
    }
  });

  it('finds overlaps exactly when one network contains the other', () => {
    fc.assert(
      fc.property(v4, v4, ([a, pa], [b, pb]) => {
        const norm = (addr: number, p: number) => (p === 0 ? 0 : (addr & ((~0 << (32 - p)) >>> 0)) >>> 0);
        const x = checkCidr(`${[24, 16, 8, 0].map((s) => (norm(a, pa) >>> s) & 255).join('.')}/${pa}`);
        const y = checkCidr(`${[24, 16, 8, 0].map((s) => (norm(b, pb) >>> s) & 255).join('.')}/${pb}`);
        if (!x.ok || !y.ok) throw new Error('generated CIDRs must be valid');
        const short = Math.min(pa, pb);
        const expected = norm(norm(a, pa), short) === norm(norm(b, pb), short);
        expect(cidrsOverlap(x.value, y.value)).toBe(expected);
      }),
    );
  });
});

describe('names, ports, paths and origins', () => {
  it('checks DNS-1123 labels and suggests a fix', () => {
    fc.assert(
      fc.property(label, (l) => {
        expect(checkDns1123Label(l).ok).toBe(true);
      }),
    );
    expect(checkDns1123Label('Label_Studio')).toEqual({ ok: false, message: expect.stringContaining('"label-studio"') });
    expect(checkDns1123Label('a'.repeat(64)).ok).toBe(false);
  });

  it('checks ports', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 65535 }), (p) => {
        expect(checkPort(p).ok).toBe(true);
      }),
    );
    fc.assert(
      fc.property(fc.oneof(fc.integer({ max: 0 }), fc.integer({ min: 65536 }), fc.double({ noInteger: true })), (p) => {
        expect(checkPort(p).ok).toBe(false);
      }),
    );
  });

  it('normalises path prefixes and rejects queries, dot segments and missing slashes', () => {
    expect(checkPathPrefix('/api/')).toEqual({ ok: true, value: '/api' });
    expect(checkPathPrefix('/')).toEqual({ ok: true, value: '/' });
    for (const bad of ['api', '/a?b', '/a#b', '/a//b', '/a/../b', '/a b']) expect(checkPathPrefix(bad).ok).toBe(false);
  });

  it('validates origin services as cloudflared does', () => {
    for (const good of [
      'http://10.0.0.5:8000',
      'https://svc.ns.svc.cluster.local',
      'tcp://db:5432',
      'ssh://10.0.0.1:22',
      'rdp://h:3389',
      'unix:/run/app.sock',
      'http_status:404',
      'hello_world',
      'ftp://x',
      'wss://h:443',
      'unix+tls:/run/app.sock',
      'http_status:999',
      'socks-proxy',
      'bastion',
    ]) {
      expect(checkOriginService(good).ok, good).toBe(true);
    }
    for (const bad of ['10.0.0.5:8000', 'http://', 'http://x/path', 'http_status:42', 'http_status:1000', 'https://local host:8000']) {
      expect(checkOriginService(bad).ok, bad).toBe(false);
    }
  });
});
