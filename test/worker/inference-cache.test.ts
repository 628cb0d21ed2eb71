import { env } from 'cloudflare:test';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { INFERENCE_CACHE_MAX_AGE_MS } from '../../worker/services/inference-cache';
import { api, expectError, uid } from './helpers';
import { call, createBackend, tritonInstance } from './inference-helpers';

// The inference path reads tokens, backends and ML backends from a per-isolate cache (ADR 0014). These tests run in
// the Worker's own isolate: a change made through the API applies at once; a change this isolate did not make (a row
// written behind its back, as another isolate's write looks from here) is seen within INFERENCE_CACHE_MAX_AGE_MS.

const simpleInfer = JSON.stringify({
  inputs: [
    { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], data: Array.from({ length: 16 }, (_, i) => i) },
    { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], data: Array.from({ length: 16 }, () => 1) },
  ],
});
const infer = (base: string, token: string, model = 'simple') =>
  call(`${base}/models/${model}/infer`, token, { method: 'POST', body: simpleInfer, headers: { 'content-type': 'application/json' } });

async function newToken(scopes: string[], role = 'inference'): Promise<{ id: string; secret: string }> {
  const response = await api('POST', '/v1/tokens', { body: { name: uid('tok'), role, scopes } });
  expect(response.status).toBe(201);
  return (await response.json()) as { id: string; secret: string };
}

async function setup(extra: Record<string, unknown> = {}) {
  const triton = tritonInstance();
  const id = await createBackend({ id: uid('gpu'), upstreams: [{ url: triton.url }], retry: { attempts: 1, backoffMs: 1 }, ...extra });
  const token = await newToken(['health', 'metadata', 'inference']);
  return { triton, id, token, base: `/inference/${id}/v2` };
}

/** Moves the Worker's clock (the same isolate's Date) forward. */
function advance(ms: number): void {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(Date.now() + ms);
}

afterEach(() => {
  vi.useRealTimers();
});

describe('inference cache: changes through the API apply at once in this isolate', () => {
  it('a revoked token stops working on the next call', async () => {
    const { base, token } = await setup();
    expect((await infer(base, token.secret)).status).toBe(200);
    expect((await infer(base, token.secret)).status).toBe(200);
    expect((await api('DELETE', `/v1/tokens/${token.id}`)).status).toBe(204);
    await expectError(await infer(base, token.secret), 401, 'unauthorized');
  });

  it('a deleted backend stops working on the next call, and the origin sees nothing more', async () => {
    const { base, token, id, triton } = await setup();
    expect((await infer(base, token.secret)).status).toBe(200);
    expect((await api('DELETE', `/v1/inference/backends/${id}`)).status).toBe(204);
    const envelope = await expectError(await infer(base, token.secret), 404, 'not_found');
    expect(envelope.error.message).toContain(id);
    expect((await triton.received()).length).toBe(1);
  });

  it('a narrowed allow-list applies on the next call, before anything reaches the upstream', async () => {
    const { base, token, id, triton } = await setup({ models: ['simple', 'echo'] });
    expect((await infer(base, token.secret)).status).toBe(200);
    const etag = (await api('GET', `/v1/inference/backends/${id}`)).headers.get('etag') ?? '';
    expect((await api('PATCH', `/v1/inference/backends/${id}`, { body: { models: ['echo'] }, headers: { 'if-match': etag } })).status).toBe(
      200,
    );
    await expectError(await infer(base, token.secret), 404, 'not_found');
    expect((await triton.received()).length).toBe(1);
  });

  it('changed upstream credentials are sent on the next call (decrypted copies are replaced, not reused)', async () => {
    const { base, token, id, triton } = await setup({ credentials: { type: 'bearer', token: 'first-upstream-secret' } });
    expect((await infer(base, token.secret)).status).toBe(200);
    const etag = (await api('GET', `/v1/inference/backends/${id}`)).headers.get('etag') ?? '';
    const patched = await api('PATCH', `/v1/inference/backends/${id}`, {
      body: { credentials: { type: 'bearer', token: 'second-upstream-secret' } },
      headers: { 'if-match': etag },
    });
    expect(patched.status).toBe(200);
    expect((await infer(base, token.secret)).status).toBe(200);
    expect((await triton.received()).map((r) => r.headers.authorization)).toEqual([
      'Bearer first-upstream-secret',
      'Bearer second-upstream-secret',
    ]);
  });

  it('a new default backend takes over bare /v2 on the next call', async () => {
    await env.DB.prepare('UPDATE inference_backends SET is_default = 0').run();
    const first = await setup({ default: true });
    expect((await infer('/v2', first.token.secret)).status).toBe(200);
    const etag = (await api('GET', `/v1/inference/backends/${first.id}`)).headers.get('etag') ?? '';
    expect(
      (await api('PATCH', `/v1/inference/backends/${first.id}`, { body: { default: false }, headers: { 'if-match': etag } })).status,
    ).toBe(200);
    const second = tritonInstance();
    await createBackend({ id: uid('gpu'), upstreams: [{ url: second.url }], default: true });
    expect((await infer('/v2', first.token.secret)).status).toBe(200);
    expect((await first.triton.received()).length).toBe(1);
    expect((await second.received()).length).toBe(1);
    await env.DB.prepare('UPDATE inference_backends SET is_default = 0').run();
  });

  it('a changed or deleted ML backend applies on the next /ml call', async () => {
    const { id: backend, token, triton } = await setup();
    const ml = uid('ml');
    const created = await api('POST', '/v1/ml-backends', {
      body: {
        id: ml,
        backend,
        model: 'text_cls',
        task: 'text-classification',
        input: { field: 'text', tensor: 'TEXT' },
        output: { tensor: 'LOGITS' },
        choices: ['negative', 'neutral', 'positive'],
      },
    });
    expect(created.status).toBe(201);
    const basic = `Basic ${btoa(`ls:${token.secret}`)}`;
    const predict = () =>
      call(`/ml/${ml}/predict`, undefined, {
        method: 'POST',
        body: JSON.stringify({ tasks: [{ id: 1, data: { text: 'good' } }], project: '1.1', label_config: '<View/>', params: {} }),
        headers: { authorization: basic, 'content-type': 'application/json' },
      });
    const before = (await (await predict()).json()) as { results: { result: { value: { choices: string[] } }[] }[] };
    expect(before.results[0]?.result[0]?.value.choices).toHaveLength(1);
    const etag = created.headers.get('etag') ?? '';
    const patched = await api('PATCH', `/v1/ml-backends/${ml}`, {
      body: { choices: ['bad', 'meh', 'fine'] },
      headers: { 'if-match': etag },
    });
    expect(patched.status, await patched.clone().text()).toBe(200);
    const after = (await (await predict()).json()) as { results: { result: { value: { choices: string[] } }[] }[] };
    expect(['bad', 'meh', 'fine']).toContain(after.results[0]?.result[0]?.value.choices[0]);
    expect((await api('DELETE', `/v1/ml-backends/${ml}`)).status).toBe(204);
    await expectError(await predict(), 404, 'not_found');
    expect((await triton.received()).length).toBe(2);
  });
});

describe('inference cache: principals', () => {
  it("never answers one token with another token's role or scopes", async () => {
    const { base } = await setup();
    const healthOnly = await newToken(['health']);
    const full = await newToken(['health', 'metadata', 'inference']);
    const viewer = await newToken([], 'viewer');
    for (let round = 0; round < 3; round++) {
      expect((await infer(base, full.secret)).status).toBe(200);
      const refused = await expectError(await infer(base, healthOnly.secret), 403, 'forbidden');
      expect(refused.error.message).toContain('this token has health');
      // A viewer has health, metadata and statistics on the proxy, never inference.
      await expectError(await infer(base, viewer.secret), 403, 'forbidden');
      expect((await call(`${base}/models/simple`, viewer.secret)).status).toBe(200);
      await expectError(await infer(base, `${full.secret}x`), 401, 'unauthorized');
      await expectError(await infer(base, full.secret.slice(0, -1)), 401, 'unauthorized');
    }
    // The viewer reached /v2 metadata; it is still a viewer on /v1, and an inference token is still refused there.
    await expectError(await api('GET', '/v1/clusters', { token: full.secret }), 403, 'forbidden');
  });

  it('a token created after a refused attempt with its secret works at once (no refusal is cached)', async () => {
    const { base } = await setup();
    await expectError(await infer(base, 'ep_inference_not-yet-a-token'), 401, 'unauthorized');
    const token = await newToken(['inference']);
    expect((await infer(base, token.secret)).status).toBe(200);
  });

  it('an expired token is refused by the cached copy too', async () => {
    const { base } = await setup();
    const response = await api('POST', '/v1/tokens', {
      body: { name: uid('tok'), role: 'inference', scopes: ['inference'], expiresInDays: 1 },
    });
    const token = (await response.json()) as { secret: string };
    expect((await infer(base, token.secret)).status).toBe(200);
    // Within the cache's age bound, but past the token's expiry: the copy's expiry is checked on every call.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 86_400_000 + 1000);
    await expectError(await infer(base, token.secret), 401, 'unauthorized');
  });
});

describe('inference cache: changes made elsewhere are seen within the bound', () => {
  it("a token deleted behind this isolate's back works until the bound, then never", async () => {
    const { base, token } = await setup();
    expect((await infer(base, token.secret)).status).toBe(200);
    await env.DB.prepare('DELETE FROM api_tokens WHERE id = ?').bind(token.id).run();
    // The documented window: this isolate did not see the revocation.
    expect((await infer(base, token.secret)).status).toBe(200);
    advance(INFERENCE_CACHE_MAX_AGE_MS + 1);
    await expectError(await infer(base, token.secret), 401, 'unauthorized');
  });

  it("a backend row changed behind this isolate's back is re-read after the response once half the bound has passed", async () => {
    const { base, token, id, triton } = await setup();
    expect((await infer(base, token.secret)).status).toBe(200);
    await env.DB.prepare(`UPDATE inference_backends SET models = '["echo"]' WHERE id = ?`).bind(id).run();
    expect((await infer(base, token.secret)).status).toBe(200);
    advance(INFERENCE_CACHE_MAX_AGE_MS / 2 + 1);
    // Served from the copy, and the copy re-read after the response (waitUntil)...
    expect((await infer(base, token.secret)).status).toBe(200);
    // ...so a later call, still inside the bound, sees the narrowed allow-list without waiting for it.
    await vi.waitFor(async () => expect((await infer(base, token.secret)).status).toBe(404), { timeout: 2000, interval: 20 });
    const reached = (await triton.received()).length;
    expect(reached).toBeGreaterThanOrEqual(3);
    // From then on the copy holds the new allow-list: refused calls never reach the origin.
    await expectError(await infer(base, token.secret), 404, 'not_found');
    expect((await triton.received()).length).toBe(reached);
  });

  it("a backend deleted behind this isolate's back is refused after the bound", async () => {
    const { base, token, id } = await setup();
    expect((await infer(base, token.secret)).status).toBe(200);
    await env.DB.prepare('DELETE FROM inference_backends WHERE id = ?').bind(id).run();
    advance(INFERENCE_CACHE_MAX_AGE_MS + 1);
    await expectError(await infer(base, token.secret), 404, 'not_found');
  });
});
