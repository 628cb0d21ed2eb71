import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { api, expectError, TOKENS, uid } from './helpers';
import { tritonInstance } from './inference-helpers';

const upstream = () => tritonInstance().url;

describe('inference backends: happy', () => {
  it('creates the minimal backend with defaults, reads, lists, updates with If-Match and deletes', async () => {
    const id = uid('gpu');
    const created = await api('POST', '/v1/inference/backends', {
      body: { id, upstreams: [{ url: 'http://127.0.0.1:8000' }], models: ['simple'] },
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe(`/v1/inference/backends/${id}`);
    const body = (await created.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      id,
      upstreams: [{ url: 'http://127.0.0.1:8000', weight: 1 }],
      models: ['simple'],
      default: false,
      balance: 'priority',
      credentials: null,
      timeouts: { connectMs: 5000, totalMs: 300000 },
      retry: { attempts: 2, backoffMs: 100 },
      maxBodyBytes: 104857600,
    });
    expect(created.headers.get('etag')).toBe(body.etag);

    const listed = (await (await api('GET', '/v1/inference/backends?limit=500')).json()) as { items: { id: string }[] };
    expect(listed.items.map((b) => b.id)).toContain(id);

    const updated = await api('PATCH', `/v1/inference/backends/${id}`, {
      body: { models: null },
      headers: { 'if-match': String(body.etag) },
    });
    expect(updated.status).toBe(200);
    expect(((await updated.json()) as { models: unknown }).models).toBeNull();

    const stale = await api('PATCH', `/v1/inference/backends/${id}`, {
      body: { models: ['x'] },
      headers: { 'if-match': String(body.etag) },
    });
    await expectError(stale, 412, 'precondition_failed');

    expect((await api('DELETE', `/v1/inference/backends/${id}`)).status).toBe(204);
    await expectError(await api('GET', `/v1/inference/backends/${id}`), 404, 'not_found');
  });

  it('stores credentials encrypted: never returned, never in the audit log', async () => {
    const id = uid('acc');
    const secret = 'very-secret-access-client-secret-123';
    const response = await api('POST', '/v1/inference/backends', {
      body: {
        id,
        upstreams: [{ url: upstream() }],
        credentials: { type: 'access', clientId: 'client-id-abc.access', clientSecret: secret },
      },
    });
    const text = await response.text();
    expect(response.status).toBe(201);
    expect(text).not.toContain(secret);
    expect(text).not.toContain('client-id-abc');
    expect(JSON.parse(text).credentials).toEqual({ type: 'access' });
    const row = await env.DB.prepare('SELECT * FROM inference_backends WHERE id = ?').bind(id).first<Record<string, string>>();
    expect(JSON.stringify(row)).not.toContain(secret);
    expect(row?.credentials_ciphertext).toMatch(/^[A-Za-z0-9+/=]+\.[A-Za-z0-9+/=]+$/);
    const audit = await env.DB.prepare('SELECT before, after FROM audit WHERE entity_id = ?').bind(id).all();
    expect(audit.results.length).toBe(1);
    expect(JSON.stringify(audit.results)).not.toContain(secret);
    expect(await (await api('GET', `/v1/inference/backends/${id}`)).text()).not.toContain(secret);
  });

  it('allows one default backend and names it when a second one is asked for', async () => {
    await env.DB.prepare('UPDATE inference_backends SET is_default = 0').run();
    const first = uid('def');
    expect(
      (await api('POST', '/v1/inference/backends', { body: { id: first, upstreams: [{ url: upstream() }], default: true } })).status,
    ).toBe(201);
    const second = await api('POST', '/v1/inference/backends', {
      body: { id: uid('def'), upstreams: [{ url: upstream() }], default: true },
    });
    const envelope = await expectError(second, 409, 'conflict');
    expect(envelope.error.message).toContain(first);
    await env.DB.prepare('UPDATE inference_backends SET is_default = 0').run();
  });
});

describe('inference backends: errors', () => {
  it.each([
    ['ftp://gpu.example.com', 'scheme'],
    ['http://user:pass@gpu.example.com', 'credentials'],
    ['not a url', 'not a URL'],
    ['https://gpu.example.com/?x=1', 'query'],
  ])('refuses upstream %s with a 422 naming the field', async (url, words) => {
    const before = await env.DB.prepare('SELECT count(*) AS n FROM inference_backends').first<{ n: number }>();
    const response = await api('POST', '/v1/inference/backends', { body: { id: uid('bad'), upstreams: [{ url }] } });
    const envelope = await expectError(response, 422, 'validation_failed');
    expect(envelope.error.details?.[0]?.path).toBe('body.upstreams.0.url');
    expect(envelope.error.details?.[0]?.message).toContain(words);
    const after = await env.DB.prepare('SELECT count(*) AS n FROM inference_backends').first<{ n: number }>();
    expect(after?.n).toBe(before?.n);
  });

  it('refuses an empty upstream list, unknown fields and a body limit above 100 MB', async () => {
    await expectError(await api('POST', '/v1/inference/backends', { body: { id: uid('e'), upstreams: [] } }), 422, 'validation_failed');
    await expectError(
      await api('POST', '/v1/inference/backends', { body: { id: uid('e'), upstreams: [{ url: upstream() }], colour: 1 } }),
      422,
      'validation_failed',
    );
    await expectError(
      await api('POST', '/v1/inference/backends', {
        body: { id: uid('e'), upstreams: [{ url: upstream() }], maxBodyBytes: 200 * 1024 * 1024 },
      }),
      422,
      'validation_failed',
    );
  });

  it('answers 409 for a duplicate id and for deleting a backend an ML backend uses', async () => {
    const id = uid('dup');
    await api('POST', '/v1/inference/backends', { body: { id, upstreams: [{ url: upstream() }] } });
    await expectError(await api('POST', '/v1/inference/backends', { body: { id, upstreams: [{ url: upstream() }] } }), 409, 'conflict');
    const ml = uid('ml');
    const created = await api('POST', '/v1/ml-backends', {
      body: {
        id: ml,
        backend: id,
        model: 'text_cls',
        task: 'text-classification',
        input: { field: 'text', tensor: 'TEXT' },
        output: { tensor: 'LOGITS' },
      },
    });
    expect(created.status).toBe(201);
    const refused = await expectError(await api('DELETE', `/v1/inference/backends/${id}`), 409, 'conflict');
    expect(refused.error.message).toContain(ml);
  });

  it('refuses an ML backend on a backend that does not exist', async () => {
    const response = await api('POST', '/v1/ml-backends', {
      body: {
        id: uid('ml'),
        backend: 'nope',
        model: 'm',
        task: 'text-classification',
        input: { field: 'text', tensor: 'T' },
        output: { tensor: 'O' },
      },
    });
    const envelope = await expectError(response, 422, 'validation_failed');
    expect(envelope.error.details?.[0]?.path).toBe('body.backend');
  });
});

describe('inference backends: security', () => {
  it('lets viewers read but not write, and inference tokens not even read', async () => {
    await expectError(
      await api('POST', '/v1/inference/backends', { role: 'viewer', body: { id: uid('v'), upstreams: [{ url: upstream() }] } }),
      403,
      'forbidden',
    );
    expect((await api('GET', '/v1/inference/backends', { role: 'viewer' })).status).toBe(200);
    await expectError(await api('GET', '/v1/inference/backends', { token: TOKENS.inference }), 403, 'forbidden');
    await expectError(await api('GET', '/v1/ml-backends', { role: null }), 401, 'unauthorized');
  });
});
