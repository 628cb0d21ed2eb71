import { describe, expect, it, vi } from 'vitest';
import { api, count, expectError, uid } from './helpers';
import { call, createBackend, createToken, randomBytes, sha256, tritonInstance } from './inference-helpers';

const simpleInfer = JSON.stringify({
  inputs: [
    { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], data: Array.from({ length: 16 }, (_, i) => i) },
    { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], data: Array.from({ length: 16 }, () => 1) },
  ],
});

async function setup(extra: Record<string, unknown> = {}) {
  const triton = tritonInstance();
  const id = await createBackend({ id: uid('gpu'), upstreams: [{ url: triton.url }], retry: { attempts: 1, backoffMs: 1 }, ...extra });
  const token = await createToken('inference', ['health', 'metadata', 'inference']);
  return { triton, id, token, base: `/inference/${id}/v2` };
}

interface ModelMetrics {
  model: string | null;
  requests: number;
  errors: Record<string, number>;
  latencyMs: { buckets: { le: number | null; count: number }[]; sum: number; count: number };
  bytesIn: number;
  bytesOut: number;
}

async function metricsOf(backend: string): Promise<ModelMetrics[]> {
  const response = await api('GET', `/v1/inference/metrics?backend=${backend}`);
  expect(response.status).toBe(200);
  const body = (await response.json()) as { backends: { backend: string; models: ModelMetrics[] }[] };
  return body.backends.find((b) => b.backend === backend)?.models ?? [];
}

/** The metrics are recorded after the response (waitUntil): wait until they show what the test expects. */
const eventually = (check: () => Promise<void>) => vi.waitFor(check, { timeout: 5000, interval: 50 });

describe('inference metrics', () => {
  it('counts requests, errors by class, latency and bytes per backend and model, as JSON and Prometheus text', async () => {
    const { triton, id, token, base } = await setup();
    const ok = await call(`${base}/models/simple/infer`, token, { method: 'POST', body: simpleInfer });
    const okBytes = (await ok.arrayBuffer()).byteLength;
    expect(ok.status).toBe(200);
    await triton.set({ busy: 1 });
    const busy = await call(`${base}/models/simple/infer`, token, { method: 'POST', body: simpleInfer });
    expect(busy.status).toBe(503);
    await busy.arrayBuffer();
    // Triton's 404 for a model it does not know is counted as a server-level call, not as a new model.
    const unknown = await call(`${base}/models/made_up/infer`, token, { method: 'POST', body: simpleInfer });
    expect(unknown.status).toBe(404);
    await unknown.arrayBuffer();
    expect((await call(`${base}/health/ready`, token)).status).toBe(200);

    await eventually(async () => {
      const models = await metricsOf(id);
      const simple = models.find((m) => m.model === 'simple');
      const server = models.find((m) => m.model === null);
      expect(simple).toMatchObject({
        requests: 2,
        errors: { upstream_5xx: 1 },
        bytesIn: 2 * simpleInfer.length,
        latencyMs: { count: 2 },
      });
      // The 503 body is Triton's {"error": ...}: both bodies count as bytes passed on.
      expect(simple?.bytesOut).toBeGreaterThan(okBytes);
      expect(simple?.latencyMs.buckets.at(-1)).toEqual({ le: null, count: 2 });
      expect(server).toMatchObject({ requests: 2, errors: { upstream_4xx: 1 } });
      expect(models.map((m) => m.model)).not.toContain('made_up');
    });

    const prometheus = await api('GET', `/v1/inference/metrics?backend=${id}`, {
      headers: { accept: 'application/openmetrics-text;version=1.0.0;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1' },
    });
    expect(prometheus.headers.get('content-type')).toContain('text/plain; version=0.0.4');
    const text = await prometheus.text();
    expect(text).toContain('# TYPE edgeplane_inference_requests_total counter');
    expect(text).toContain(`edgeplane_inference_requests_total{backend="${id}",model="simple"} 2`);
    expect(text).toContain(`edgeplane_inference_errors_total{backend="${id}",model="simple",class="upstream_5xx"} 1`);
    expect(text).toContain(`edgeplane_inference_latency_seconds_bucket{backend="${id}",model="simple",le="+Inf"} 2`);
    expect(text).toContain(`edgeplane_inference_latency_seconds_count{backend="${id}",model="simple"} 2`);
    expect(text).toContain(`edgeplane_inference_request_bytes_total{backend="${id}",model="simple"} ${2 * simpleInfer.length}`);
    expect(text).toMatch(/\n$/);
    expect((await api('GET', `/v1/inference/metrics?format=prometheus&backend=${id}`)).headers.get('content-type')).toContain('text/plain');
  });

  it('forgets a deleted backend: one created again under its id starts from nothing', async () => {
    const { triton, id, token, base } = await setup();
    expect((await call(`${base}/models/simple/infer`, token, { method: 'POST', body: simpleInfer })).status).toBe(200);
    await eventually(async () => expect((await metricsOf(id)).find((m) => m.model === 'simple')?.requests).toBe(1));
    const backend = (await (await api('GET', `/v1/inference/backends/${id}`)).json()) as { etag: string };
    expect((await api('DELETE', `/v1/inference/backends/${id}`, { headers: { 'if-match': backend.etag } })).status).toBe(204);
    await createBackend({ id, upstreams: [{ url: triton.url }] });
    expect(await metricsOf(id)).toEqual([]);
  });

  it("counts edgeplane's own answers (timeout, unreachable) and records a stream only once it has ended", async () => {
    const { triton, id, token, base } = await setup({ timeouts: { connectMs: 200, totalMs: 200 } });
    await triton.set({ hang: true });
    await expectError(await call(`${base}/models/simple/infer`, token, { method: 'POST', body: simpleInfer }), 504, 'gateway_timeout');
    await triton.set({ hang: false, drop: 1 });
    await expectError(await call(`${base}/models/simple/infer`, token, { method: 'POST', body: simpleInfer }), 502, 'bad_gateway');

    await triton.set({ holdLast: true });
    const stream = await call(`${base}/models/simple/generate_stream`, token, {
      method: 'POST',
      body: JSON.stringify({ text_input: 'hi', parameters: { max_tokens: 3 } }),
    });
    const reader = (stream.body as ReadableStream<Uint8Array>).getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toContain('tok0');
    await eventually(async () => {
      expect((await metricsOf(id)).find((m) => m.model === 'simple')?.errors).toEqual({ timeout: 1, unreachable: 1 });
    });
    // The stream has not ended: it is not counted yet (its bytes are not known); the caller was not held for it.
    expect((await metricsOf(id)).find((m) => m.model === 'simple')?.requests).toBe(2);
    await triton.release();
    let bytes = first.value?.byteLength ?? 0;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      bytes += value.byteLength;
    }
    await eventually(async () => {
      const simple = (await metricsOf(id)).find((m) => m.model === 'simple');
      expect(simple).toMatchObject({ requests: 3, bytesOut: bytes, errors: { timeout: 1, unreachable: 1 } });
    });
  });

  it('lists every backend, and only viewer-or-better tokens read it', async () => {
    const { id, token } = await setup();
    const all = (await (await api('GET', '/v1/inference/metrics')).json()) as { backends: { backend: string }[] };
    expect(all.backends.map((b) => b.backend)).toContain(id);
    await expectError(await call('/v1/inference/metrics', token), 403, 'forbidden');
    await expectError(await api('GET', '/v1/inference/metrics?format=xml'), 422, 'validation_failed');
  });
});

describe('token scopes', () => {
  it('refuses an unknown scope with 422 naming it and the known ones; nothing is created', async () => {
    const before = await count('api_tokens');
    const response = await api('POST', '/v1/tokens', {
      body: { name: uid('tok'), role: 'inference', scopes: ['health', 'shared-memory'] },
    });
    const body = await expectError(response, 422, 'validation_failed');
    const text = JSON.stringify(body.error);
    expect(text).toContain('scopes');
    expect(text).toContain('model-repository');
    expect(await count('api_tokens')).toBe(before);
    const good = await api('POST', '/v1/tokens', {
      body: { name: uid('tok'), role: 'inference', scopes: ['statistics', 'model-repository'] },
    });
    expect(good.status).toBe(201);
    expect(((await good.json()) as { scopes: string[] }).scopes).toEqual(['statistics', 'model-repository']);
  });
});

/** A body with no Content-Length: the runtime sends it chunked. */
function chunked(data: Uint8Array, chunk = 64 * 1024): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= data.length) return controller.close();
      controller.enqueue(data.slice(at, at + chunk));
      at += chunk;
    },
  });
}

describe('request bodies without Content-Length, and deflate', () => {
  it('answers 413 before contacting the upstream when a chunked body passes the limit within its first MiB', async () => {
    const { triton, token, base } = await setup({ maxBodyBytes: 100_000 });
    const response = await call(`${base}/models/simple/infer`, token, { method: 'POST', body: chunked(randomBytes(300_000)) });
    const body = await expectError(response, 413, 'payload_too_large');
    expect(body.error.message).toContain('100000');
    expect(await triton.received()).toEqual([]);
  });

  it('passes a chunked body under the limit byte for byte, and buffers a small one so it can be retried', async () => {
    const { triton, token, base } = await setup({ retry: { attempts: 2, backoffMs: 1 } });
    await triton.set({ busy: 1 });
    const bytes = new TextEncoder().encode(simpleInfer);
    const response = await call(`${base}/models/simple/infer`, token, { method: 'POST', body: chunked(bytes, 100) });
    expect(response.status).toBe(200);
    const seen = await triton.received();
    expect(seen).toHaveLength(2);
    expect(seen.map((s) => s.sha256)).toEqual([await sha256(bytes), await sha256(bytes)]);
  });

  it('answers 413 when a long chunked body passes the limit while streaming; the upstream request is cut, not ended', async () => {
    const { triton, token, base } = await setup({ maxBodyBytes: 3 * 1024 * 1024 });
    const response = await call(`${base}/models/echo/infer`, token, { method: 'POST', body: chunked(randomBytes(5 * 1024 * 1024)) });
    const body = await expectError(response, 413, 'payload_too_large');
    expect(body.error.message).toContain(String(3 * 1024 * 1024));
    // The upstream connection was dropped mid-body: the fake (which records a request once its body has ended) never
    // got a complete request, so no truncated body was taken for a whole one.
    expect(await triton.received()).toEqual([]);
  });

  it('passes deflate request and response bodies untouched', async () => {
    const { triton, token, base } = await setup();
    const compressed = new Uint8Array(
      await new Response(new Blob([simpleInfer]).stream().pipeThrough(new CompressionStream('deflate'))).arrayBuffer(),
    );
    const response = await call(`${base}/models/simple/infer`, token, {
      method: 'POST',
      body: compressed,
      headers: { 'content-encoding': 'deflate', 'accept-encoding': 'deflate', 'content-type': 'application/json' },
      encodeResponseBody: 'manual',
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-encoding')).toBe('deflate');
    const out = new Uint8Array(await response.arrayBuffer());
    const [seen] = await triton.received();
    expect(seen?.headers['content-encoding']).toBe('deflate');
    expect(seen?.sha256).toBe(await sha256(compressed));
    expect(await sha256(out)).toBe(seen?.responseSha256);
    const plain = (await new Response(new Blob([out]).stream().pipeThrough(new DecompressionStream('deflate'))).json()) as {
      outputs: { data: number[] }[];
    };
    expect(plain.outputs[0]?.data.slice(0, 3)).toEqual([1, 2, 3]);
  });
});
