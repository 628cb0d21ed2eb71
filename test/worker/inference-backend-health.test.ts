import { describe, expect, it } from 'vitest';
import type { InferenceBackendHealth } from '../../src/shared/api/inference-health';
import { api, expectError, uid } from './helpers';
import { call, createBackend, createToken, tritonInstance } from './inference-helpers';

// GET /v1/inference/backends/:id/health: the proxy's cached probe of Triton's /v2/health/ready, for the console and
// scripts (no inference token), sharing the probe the proxy answers Label Studio's health calls from.

async function health(id: string, role: 'viewer' | 'admin' = 'viewer'): Promise<InferenceBackendHealth> {
  const response = await api('GET', `/v1/inference/backends/${id}/health`, { role });
  expect(response.status, await response.clone().text()).toBe(200);
  return (await response.json()) as InferenceBackendHealth;
}

describe('inference backend health', () => {
  it('reports a ready Triton from one probe that the proxy then answers from too', async () => {
    const triton = tritonInstance();
    const id = await createBackend({ id: uid('gpu'), upstreams: [{ url: triton.url }] });
    expect(await health(id)).toEqual({ backend: id, ready: true, status: 200, ageSeconds: 0, error: null });
    const token = await createToken('inference', ['health']);
    const proxied = await call(`/inference/${id}/v2/health/ready`, token);
    expect(proxied.status).toBe(200);
    expect((await triton.received()).filter((r) => r.path === '/v2/health/ready')).toHaveLength(1);
  });

  it("reports Triton's 400 as not ready", async () => {
    const triton = tritonInstance();
    await triton.set({ notReady: true });
    const id = await createBackend({ id: uid('gpu'), upstreams: [{ url: triton.url }] });
    expect(await health(id)).toMatchObject({ ready: false, status: 400, error: null });
  });

  it('says why when no upstream answers, and never caches that', async () => {
    const id = await createBackend({ id: uid('gpu'), upstreams: [{ url: 'http://127.0.0.1:9' }], retry: { attempts: 1, backoffMs: 1 } });
    const first = await health(id);
    expect(first).toMatchObject({ backend: id, ready: false, status: null });
    expect(first.error).toMatch(/127\.0\.0\.1:9/);
    expect(await health(id)).toMatchObject({ ready: false, status: null });
  });

  it('answers 404 for an unknown backend and 401 without a token', async () => {
    await expectError(await api('GET', `/v1/inference/backends/${uid('none')}/health`), 404, 'not_found');
    await expectError(await api('GET', `/v1/inference/backends/${uid('none')}/health`, { role: null }), 401, 'unauthorized');
  });
});
