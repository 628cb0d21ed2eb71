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

  it('describes the agent protocol from the schemas its handlers parse with', async () => {
    const doc = (await (await SELF.fetch('https://edgeplane.test/openapi.json')).json()) as {
      paths: Record<string, Record<string, { security?: unknown; requestBody?: unknown; responses: Record<string, unknown> }>>;
      components: { securitySchemes: Record<string, unknown> };
    };
    const register = doc.paths['/agent/v1/register']?.post;
    expect(register?.security).toEqual([{ bootstrapToken: [] }]);
    expect(Object.keys(register?.responses ?? {})).toEqual(expect.arrayContaining(['200', '201', '401', '403', '409', '422']));
    expect(JSON.stringify(register?.requestBody)).toContain('credential');
    expect(Object.keys(doc.paths['/agent/v1/desired']?.get?.responses ?? {})).toEqual(expect.arrayContaining(['200', '304', '401']));
    expect(JSON.stringify(doc.paths['/agent/v1/desired']?.get?.responses['200'])).toContain('maxDeletes');
    expect(JSON.stringify(doc.paths['/agent/v1/status']?.post?.requestBody)).toContain('pruneRefused');
    expect(doc.paths['/agent/v1/notify']?.get?.security).toEqual([{ agentCredential: [] }]);
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(['agentCredential', 'bearer', 'bootstrapToken']);
  });

  it('answers unknown paths with the envelope', async () => {
    const response = await SELF.fetch('https://edgeplane.test/nope');
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error: { code: 'not_found' } });
  });
});
