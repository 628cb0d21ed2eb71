import { SELF } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { expectError } from './helpers';

// The console's script and stylesheet, served by the Worker itself (ADR 0016): public, revalidated, 304 while unchanged.
const get = (file: string, headers: Record<string, string> = {}) => SELF.fetch(`https://edgeplane.test/admin/assets/${file}`, { headers });

describe('GET /admin/assets/:file', () => {
  it.each([
    ['app.js', /^text\/javascript/],
    ['app.css', /^text\/css/],
  ])('serves %s with its type, no-cache, nosniff, a closed CSP and a strong ETag, then 304 for that ETag', async (file, type) => {
    const response = await get(file);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(type);
    expect(response.headers.get('cache-control')).toBe('no-cache');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'");
    const etag = response.headers.get('etag') ?? '';
    expect(etag).toMatch(/^"[0-9a-f]{32}"$/);
    expect((await response.text()).length).toBeGreaterThan(1000);

    const again = await get(file, { 'if-none-match': etag });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
    expect((await get(file, { 'if-none-match': '"stale"' })).status).toBe(200);
  });

  it('answers 404 in the error envelope for any other name, including inherited property names', async () => {
    for (const name of ['app.jsx', 'toString', '__proto__', 'constructor']) {
      const envelope = await expectError(await get(name), 404, 'not_found');
      expect(envelope.error.message).toContain('app.js and app.css');
    }
  });
});
