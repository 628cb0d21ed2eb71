import { describe, expect, it } from 'vitest';
import { expectError, uid } from './helpers';
import { call, createBackend, createToken, randomBytes, sha256, tritonInstance } from './inference-helpers';

const json = (value: unknown) => JSON.stringify(value);
const simpleInfer = json({
  inputs: [
    { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], data: Array.from({ length: 16 }, (_, i) => i) },
    { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], data: Array.from({ length: 16 }, () => 1) },
  ],
});

async function setup(extra: Record<string, unknown> = {}) {
  const triton = tritonInstance();
  const id = await createBackend({ id: uid('gpu'), upstreams: [{ url: triton.url }], retry: { attempts: 2, backoffMs: 1 }, ...extra });
  const token = await createToken('inference', ['health', 'metadata', 'inference']);
  return { triton, id, token, base: `/inference/${id}/v2` };
}

describe('proxy pass-through', () => {
  it('passes a JSON infer byte for byte both ways, with the backend credentials and without the caller token', async () => {
    const { triton, base, token } = await setup({ credentials: { type: 'bearer', token: 'upstream-secret-token' } });
    const response = await call(`${base}/models/simple/infer`, token, {
      method: 'POST',
      body: simpleInfer,
      headers: { 'content-type': 'application/json' },
    });
    expect(response.status).toBe(200);
    const bytes = new Uint8Array(await response.arrayBuffer());
    const result = JSON.parse(new TextDecoder().decode(bytes)) as { outputs: { name: string; data: number[] }[] };
    expect(result.outputs[0]?.data.slice(0, 3)).toEqual([1, 2, 3]);
    const [seen] = await triton.received();
    expect(seen?.sha256).toBe(await sha256(new TextEncoder().encode(simpleInfer)));
    expect(seen?.responseSha256).toBe(await sha256(bytes));
    expect(seen?.headers.authorization).toBe('Bearer upstream-secret-token');
    expect(JSON.stringify(seen?.headers)).not.toContain(token);
  });

  it('passes binary tensors unparsed, keeping Inference-Header-Content-Length both ways', async () => {
    const { triton, base, token } = await setup();
    const payload = randomBytes(3 * 1024 * 1024 + 7);
    const head = new TextEncoder().encode(
      json({ inputs: [{ name: 'RAW', datatype: 'UINT8', shape: [payload.length], parameters: { binary_data_size: payload.length } }] }),
    );
    const body = new Uint8Array(head.length + payload.length);
    body.set(head);
    body.set(payload, head.length);
    const response = await call(`${base}/models/echo/infer`, token, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(head.length) },
    });
    expect(response.status).toBe(200);
    const headerLength = Number(response.headers.get('inference-header-content-length'));
    const out = new Uint8Array(await response.arrayBuffer());
    expect(await sha256(out.subarray(headerLength))).toBe(await sha256(payload));
    const [seen] = await triton.received();
    expect(seen?.headers['inference-header-content-length']).toBe(String(head.length));
    expect(seen?.sha256).toBe(await sha256(body));
    expect(seen?.responseSha256).toBe(await sha256(out));
  });

  it('passes a gzip response through untouched', async () => {
    const { triton, base, token } = await setup();
    const response = await call(`${base}/models/simple/infer`, token, {
      method: 'POST',
      body: simpleInfer,
      headers: { 'accept-encoding': 'gzip' },
      encodeResponseBody: 'manual',
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-encoding')).toBe('gzip');
    const compressed = new Uint8Array(await response.arrayBuffer());
    const [seen] = await triton.received();
    expect(seen?.headers['accept-encoding']).toContain('gzip');
    // The very bytes Triton compressed, not a re-compression of their decoded form.
    expect(await sha256(compressed)).toBe(seen?.responseSha256);
    const plain = await new Response(new Blob([compressed]).stream().pipeThrough(new DecompressionStream('gzip'))).json();
    expect(plain).toHaveProperty('outputs');
  });

  it('streams generate_stream event by event: the first event arrives before the last is produced', async () => {
    const { triton, base, token } = await setup();
    await triton.set({ holdLast: true });
    const response = await call(`${base}/models/simple/generate_stream`, token, {
      method: 'POST',
      body: json({ text_input: 'hi', parameters: { max_tokens: 3 } }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = '';
    while (!text.includes('tok1')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value);
    }
    expect(text).toContain('data: {"model_name":"simple","model_version":"1","text_output":"tok0"}\n\n');
    expect(text).not.toContain('tok2');
    await triton.release();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value);
    }
    expect(text.match(/^data: /gm)).toHaveLength(3);
  });

  it("passes Triton's own errors on unchanged (404 for an unknown model)", async () => {
    const { base, token } = await setup();
    const response = await call(`${base}/models/missing/infer`, token, { method: 'POST', body: '{}' });
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ error: "Request for unknown model: 'missing' is not found" });
    // Triton's answer as it came: edgeplane adds its x-request-id only to the answers it makes itself.
    expect(response.headers.get('x-request-id')).toBeNull();
    expect(response.headers.get('content-type')).toBe('application/json');
  });
});

describe('proxy auth and limits', () => {
  it.each([
    ['GET', '/health/ready', 'health'],
    ['GET', '/models/simple', 'metadata'],
    ['GET', '/models/simple/stats', 'statistics'],
    ['POST', '/models/simple/infer', 'inference'],
    ['POST', '/repository/models/simple/load', 'model-repository'],
  ])('%s %s needs the %s scope; without it the origin sees nothing', async (method, path, scope) => {
    const { triton, base } = await setup();
    const others = ['health', 'metadata', 'inference', 'statistics', 'model-repository'].filter((s) => s !== scope);
    const without = await createToken('inference', others);
    const refused = await expectError(
      await call(`${base}${path}`, without, { method, body: method === 'POST' ? '{}' : undefined }),
      403,
      'forbidden',
    );
    expect(refused.error.message).toContain(`"${scope}"`);
    expect(await triton.received()).toEqual([]);
    const withIt = await createToken('inference', [scope]);
    const allowed = await call(`${base}${path}`, withIt, { method, body: method === 'POST' ? simpleInfer : undefined });
    expect(allowed.status).toBe(200);
  });

  it.each([
    ['GET', '/systemsharedmemory/status'],
    ['POST', '/cudasharedmemory/region/r/register'],
    ['POST', '/trace/setting'],
    ['GET', '/models/simple/trace/setting'],
    ['POST', '/logging'],
  ])('never proxies %s %s, even for an admin', async (method, path) => {
    const { triton, base } = await setup();
    const admin = await createToken('admin');
    await expectError(await call(`${base}${path}`, admin, { method, body: method === 'POST' ? '{}' : undefined }), 403, 'forbidden');
    expect(await triton.received()).toEqual([]);
  });

  it('answers 401 without a token, 404 for a model outside the allow-list, 413 for a body too large; the origin sees none', async () => {
    const { triton, base, token } = await setup({ models: ['simple'], maxBodyBytes: 1000 });
    await expectError(await call(`${base}/health/live`, undefined), 401, 'unauthorized');
    const outside = await expectError(await call(`${base}/models/echo/infer`, token, { method: 'POST', body: '{}' }), 404, 'not_found');
    expect(outside.error.message).toContain('"echo"');
    await expectError(
      await call(`${base}/models/simple/infer`, token, { method: 'POST', body: 'x'.repeat(1001) }),
      413,
      'payload_too_large',
    );
    await expectError(await call(`${base}/nothing/here`, token), 404, 'not_found');
    expect(await triton.received()).toEqual([]);
  });

  it('keeps an inference token out of /v1 and accepts it as HTTP Basic password', async () => {
    const { base, token } = await setup();
    await expectError(await call('/v1/clusters', token), 403, 'forbidden');
    const basic = await call(`${base}/models/simple`, undefined, { headers: { authorization: `Basic ${btoa(`labelstudio:${token}`)}` } });
    expect(basic.status).toBe(200);
  });

  it('answers 429 with Retry-After once a token passes its rate', async () => {
    const { triton, base, token } = await setup();
    let limited: Response | undefined;
    for (let i = 0; i < 60 && !limited; i++) {
      const response = await call(`${base}/models/simple`, token);
      if (response.status === 429) limited = response;
      else await response.arrayBuffer();
    }
    if (!limited) throw new Error('never limited');
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    await expectError(limited, 429, 'rate_limited');
    // Calls are leased from the token's rate object after each response (ADR 0014): the limit (40) plus any call
    // admitted on credit while the last lease was on its way — here, one call at a time, at most a couple.
    const reached = (await triton.received()).length;
    expect(reached).toBeGreaterThanOrEqual(40);
    expect(reached).toBeLessThanOrEqual(42);
    // Refused calls never reach the upstream.
    await expectError(await call(`${base}/models/simple`, token), 429, 'rate_limited');
    expect((await triton.received()).length).toBe(reached);
  });
});

describe('proxy retries, failover, timeouts and cached health', () => {
  it('repeats an infer after a 503 and after a dropped connection', async () => {
    const { triton, base, token } = await setup({ retry: { attempts: 3, backoffMs: 1 } });
    await triton.set({ busy: 1 });
    expect((await call(`${base}/models/simple/infer`, token, { method: 'POST', body: simpleInfer })).status).toBe(200);
    await triton.set({ drop: 1 });
    expect((await call(`${base}/models/simple/infer`, token, { method: 'POST', body: simpleInfer })).status).toBe(200);
    expect((await triton.received()).length).toBe(4);
  });

  it('never repeats a repository load: the 503 is passed on after one attempt', async () => {
    const { triton, base } = await setup({ retry: { attempts: 3, backoffMs: 1 } });
    const token = await createToken('inference', ['model-repository']);
    await triton.set({ busy: 2 });
    const response = await call(`${base}/repository/models/simple/load`, token, { method: 'POST', body: '{}' });
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ error: 'Server is busy, try again later' });
    expect((await triton.received()).length).toBe(1);
  });

  it('fails over to the next upstream when the first is busy or unreachable', async () => {
    const first = tritonInstance();
    const second = tritonInstance();
    const id = await createBackend({
      id: uid('fo'),
      upstreams: [{ url: first.url }, { url: second.url }],
      retry: { attempts: 1, backoffMs: 1 },
    });
    const token = await createToken('inference');
    await first.set({ busy: 5 });
    const response = await call(`/inference/${id}/v2/models/simple/infer`, token, { method: 'POST', body: simpleInfer });
    expect(response.status).toBe(200);
    expect((await first.received()).length).toBe(1);
    expect((await second.received()).length).toBe(1);
    const dead = await createBackend({
      id: uid('fo'),
      upstreams: [{ url: 'http://127.0.0.1:9' }, { url: second.url }],
      retry: { attempts: 1, backoffMs: 1 },
    });
    expect((await call(`/inference/${dead}/v2/models/simple`, token)).status).toBe(200);
  });

  it('answers 504 naming the upstream that timed out', async () => {
    const { triton, base, token } = await setup({ timeouts: { connectMs: 300, totalMs: 300 }, retry: { attempts: 1, backoffMs: 1 } });
    await triton.set({ hang: true });
    const envelope = await expectError(
      await call(`${base}/models/simple/infer`, token, { method: 'POST', body: simpleInfer }),
      504,
      'gateway_timeout',
    );
    expect(envelope.error.message).toContain(triton.url);
    expect((await triton.received()).length).toBe(1);
    await triton.set({ hang: false });
  });

  it('answers health from a cached probe with its age, and readiness 400 as Triton does', async () => {
    const { triton, base, token } = await setup();
    const first = await call(`${base}/health/ready`, token);
    expect(first.status).toBe(200);
    expect(await first.text()).toBe('');
    await triton.set({ healthDelayMs: 2000, notReady: true });
    const started = Date.now();
    const second = await call(`${base}/health/ready`, token);
    expect(second.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(Number(second.headers.get('x-edgeplane-health-age'))).toBeGreaterThanOrEqual(0);
    expect((await triton.received()).filter((r) => r.path === '/v2/health/ready').length).toBe(1);
    await triton.set({ healthDelayMs: 0 });
    const model = await call(`${base}/models/simple/ready`, token);
    expect(model.status).toBe(400);
  });

  it('routes bare /v2 to the default backend', async () => {
    const { env } = await import('cloudflare:test');
    await env.DB.prepare('UPDATE inference_backends SET is_default = 0').run();
    const triton = tritonInstance();
    await createBackend({ id: uid('dflt'), upstreams: [{ url: triton.url }], default: true });
    const token = await createToken('inference');
    const response = await call('/v2/models/simple/infer', token, { method: 'POST', body: simpleInfer });
    expect(response.status).toBe(200);
    expect((await triton.received())[0]?.path).toBe('/v2/models/simple/infer');
  });
});
