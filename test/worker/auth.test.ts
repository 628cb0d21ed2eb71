import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import worker from '../../worker/index';
import { api, expectError, uid } from './helpers';

async function callWith(overrides: Partial<Record<string, string>>, path: string, init: RequestInit = {}): Promise<Response> {
  const ctx = createExecutionContext();
  const response = await worker.fetch(new Request(`https://edgeplane.test${path}`, init), { ...env, ...overrides } as Env, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

describe('auth', () => {
  it('refuses the dev admin token when the Worker is not in development mode', async () => {
    // The test Worker runs with ENVIRONMENT=production and EDGEPLANE_DEV_ADMIN_TOKEN set (test/worker/vitest.config.ts).
    await expectError(await api('GET', '/v1/clusters', { token: 'dev-admin-token' }), 401, 'unauthorized');
  });

  it('accepts the dev admin token only in development mode', async () => {
    const headers = { authorization: 'Bearer dev-admin-token' };
    expect((await callWith({ ENVIRONMENT: 'development' }, '/v1/clusters', { headers })).status).toBe(200);
    expect((await callWith({ ENVIRONMENT: 'staging' }, '/v1/clusters', { headers })).status).toBe(401);
    // Compared by SHA-256 (isDevAdminHash): a near miss is refused on /v1 and on the inference path alike.
    for (const near of ['dev-admin-tokenX', 'dev-admin-toke', 'Dev-admin-token']) {
      const wrong = { authorization: `Bearer ${near}` };
      expect((await callWith({ ENVIRONMENT: 'development' }, '/v1/clusters', { headers: wrong })).status).toBe(401);
      expect((await callWith({ ENVIRONMENT: 'development' }, '/v2/models/simple', { headers: wrong })).status).toBe(401);
    }
    // The dev token passes the inference path's auth too (no default backend here: a 404, not a 401).
    expect((await callWith({ ENVIRONMENT: 'development' }, '/inference/no-such-backend/v2/models/simple', { headers })).status).toBe(404);
  });

  it('creates, uses and revokes a token; the secret is shown once and never listed', async () => {
    const created = await api('POST', '/v1/tokens', { body: { name: 'ci', role: 'editor' } });
    expect(created.status).toBe(201);
    const token = (await created.json()) as { id: string; secret: string };
    expect(token.secret).toMatch(/^ep_editor_/);
    const list = await (await api('GET', '/v1/tokens')).text();
    expect(list).not.toContain(token.secret);
    expect(list).not.toMatch(/"hash"/);
    expect((await api('POST', '/v1/clusters', { token: token.secret, body: { id: uid('tok'), name: 'x' } })).status).toBe(201);
    await expectError(await api('GET', '/v1/tokens', { token: token.secret }), 403, 'forbidden');
    expect((await api('DELETE', `/v1/tokens/${token.id}`)).status).toBe(204);
    await expectError(await api('GET', '/v1/clusters', { token: token.secret }), 401, 'unauthorized');
  });

  it('refuses an expired token', async () => {
    const token = (await (await api('POST', '/v1/tokens', { body: { name: 'short', role: 'viewer', expiresInDays: 1 } })).json()) as {
      id: string;
      secret: string;
    };
    await env.DB.prepare(`UPDATE api_tokens SET expires_at = '2000-01-01T00:00:00.000Z' WHERE id = ?`).bind(token.id).run();
    await expectError(await api('GET', '/v1/clusters', { token: token.secret }), 401, 'unauthorized');
  });

  it('bootstraps the first admin token once, with the bootstrap secret', async () => {
    const secret = 'b'.repeat(40);
    const fresh = { EDGEPLANE_BOOTSTRAP_TOKEN: secret };
    const post = (auth: string) =>
      callWith(fresh, '/bootstrap', {
        method: 'POST',
        headers: { authorization: `Bearer ${auth}`, 'content-type': 'application/json' },
        body: '{}',
      });
    await expectError(await post('wrong'), 401, 'unauthorized');
    await env.DB.prepare(`DELETE FROM api_tokens WHERE role = 'admin'`).run();
    const first = await post(secret);
    expect(first.status).toBe(201);
    const admin = (await first.json()) as { secret: string; role: string };
    expect(admin.role).toBe('admin');
    await expectError(await post(secret), 409, 'conflict');
    expect((await api('GET', '/v1/tokens', { token: admin.secret })).status).toBe(200);
  });
});
