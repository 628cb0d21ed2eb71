import { SELF } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';

describe('system endpoints', () => {
  it('answers /healthz without auth', async () => {
    const response = await SELF.fetch('https://edgeplane.test/healthz');
    expect(response.status).toBe(200);
  });

  it('serves an OpenAPI document generated from the same schemas', async () => {
    const response = await SELF.fetch('https://edgeplane.test/openapi.json');
    expect(response.status).toBe(200);
    const doc = (await response.json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toMatch(/^3\./);
    for (const path of [
      '/v1/clusters',
      '/v1/tunnels/{id}',
      '/v1/routes',
      '/v1/private-networks',
      '/v1/split-tunnel',
      '/v1/audit',
      '/v1/tokens',
    ]) {
      expect(Object.keys(doc.paths)).toContain(path);
    }
    expect(Object.keys(doc.paths['/v1/routes'] ?? {})).toEqual(expect.arrayContaining(['get', 'post']));
    expect(JSON.stringify(doc.paths['/v1/routes'])).toContain('hostname');
  });

  it('answers unknown paths with the envelope', async () => {
    const response = await SELF.fetch('https://edgeplane.test/nope');
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error: { code: 'not_found' } });
  });
});
