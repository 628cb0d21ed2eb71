import { describe, expect, it } from 'vitest';
import { api, expectError } from './helpers';

describe('GET /v1/me', () => {
  it.each(['admin', 'editor', 'viewer'] as const)('names the %s token and its role, and nothing else', async (role) => {
    const response = await api('GET', '/v1/me', { role });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { id: string; role: string };
    expect(body).toEqual({ id: expect.stringMatching(/^token:\S+$/), role });
  });

  it('refuses no token (401) and an inference token (403), like every /v1 call', async () => {
    await expectError(await api('GET', '/v1/me', { role: null }), 401, 'unauthorized');
    await expectError(await api('GET', '/v1/me', { role: 'inference' }), 403, 'forbidden');
  });
});
