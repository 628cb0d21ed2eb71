import { createExecutionContext, env, SELF, waitOnExecutionContext } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { newSecret } from '../../worker/crypto';
import worker from '../../worker/index';
import { BODY_LIMITS } from '../../worker/middleware/body-limit';
import { clusterWithTunnel, labelStudio } from './fixtures';
import { api, count, expectError, seedTokens, TOKENS } from './helpers';

// What docs/security.md promises about request bodies and input sizes.

const post = (path: string, body: BodyInit, headers: Record<string, string> = {}) =>
  SELF.fetch(`https://edgeplane.test${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

/** A body of `bytes` bytes that streams in chunks without a Content-Length, counting how much of it was read. */
function countedStream(bytes: number): { body: ReadableStream<Uint8Array>; pulled: () => number } {
  const chunk = new Uint8Array(64 * 1024).fill(0x20);
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= bytes) return controller.close();
      sent += chunk.length;
      controller.enqueue(chunk);
    },
  });
  return { body, pulled: () => sent };
}

async function callWith(overrides: Record<string, string>, path: string, init: RequestInit = {}): Promise<Response> {
  const ctx = createExecutionContext();
  const response = await worker.fetch(new Request(`https://edgeplane.test${path}`, init), { ...env, ...overrides } as Env, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

async function registeredAgent(cluster: string): Promise<string> {
  const manifest = await (await api('GET', `/v1/clusters/${cluster}/install.yaml`)).text();
  const token = String(
    parseAllDocuments(manifest)
      .map((d) => d.toJSON() as { kind: string; stringData?: { token?: string } })
      .find((d) => d.kind === 'Secret')?.stringData?.token ?? '',
  );
  const credential = `epa.${cluster}.${newSecret('k').slice(2)}`;
  const body = { clusterId: cluster, credential, identity: 'uid-1', kubernetesVersion: 'v1.31', nodeCount: 1, agentVersion: '0.1.0' };
  expect((await post('/agent/v1/register', JSON.stringify(body), { authorization: `Bearer ${token}` })).status).toBe(201);
  return credential;
}

async function installToken(cluster: string): Promise<string> {
  const manifest = await (await api('GET', `/v1/clusters/${cluster}/install.yaml`)).text();
  return String(
    parseAllDocuments(manifest)
      .map((d) => d.toJSON() as { kind: string; stringData?: { token?: string } })
      .find((d) => d.kind === 'Secret')?.stringData?.token ?? '',
  );
}

describe('body limits', () => {
  it('answer 413 with the envelope on every endpoint family, before the body is parsed', async () => {
    const { cluster, tunnel } = await clusterWithTunnel();
    const credential = await registeredAgent(cluster);
    // Not JSON at all: a 413 rather than "the body must be JSON" shows the size was checked before any parsing.
    const junk = (bytes: number) => 'x'.repeat(bytes);
    const admin = { authorization: `Bearer ${TOKENS.admin}` };
    const cases: [string, string, Record<string, string>, number][] = [
      ['POST', '/v1/routes', admin, BODY_LIMITS.default],
      ['PATCH', `/v1/clusters/${cluster}`, admin, BODY_LIMITS.default],
      ['POST', '/v1/plan', { authorization: `Bearer ${TOKENS.viewer}` }, BODY_LIMITS.default],
      ['POST', '/v1/import/compose', admin, BODY_LIMITS.imports],
      ['POST', `/v1/tunnels/${tunnel}/match`, admin, BODY_LIMITS.imports],
      ['POST', '/agent/v1/status', { authorization: `Bearer ${credential}` }, BODY_LIMITS.agentStatus],
      [
        'POST',
        '/agent/v1/register',
        { authorization: `Bearer ${await installToken((await clusterWithTunnel()).cluster)}` },
        BODY_LIMITS.agentRegister,
      ],
      ['POST', '/ml/some-backend/predict', { authorization: `Bearer ${TOKENS.inference}` }, BODY_LIMITS.ml],
    ];
    for (const [method, path, headers, limit] of cases) {
      const response = await SELF.fetch(`https://edgeplane.test${path}`, {
        method,
        headers: { 'content-type': 'application/json', ...headers },
        body: junk(limit + 1),
      });
      const envelope = await expectError(response, 413, 'payload_too_large');
      expect(envelope.error.message, path).toContain(String(limit));
      // Exactly at the limit the body gets through to parsing (and is refused as not JSON, or its route's check).
      const atLimit = await SELF.fetch(`https://edgeplane.test${path}`, {
        method,
        headers: { 'content-type': 'application/json', ...headers },
        body: junk(limit),
      });
      expect(atLimit.status, path).not.toBe(413);
    }
    const bootstrap = await callWith({ EDGEPLANE_BOOTSTRAP_TOKEN: 'b'.repeat(40) }, '/bootstrap', {
      method: 'POST',
      headers: { authorization: `Bearer ${'b'.repeat(40)}`, 'content-type': 'application/json' },
      body: junk(BODY_LIMITS.bootstrap + 1),
    });
    await expectError(bootstrap, 413, 'payload_too_large');
  });

  it('bounds a streamed body without Content-Length too', async () => {
    const stream = countedStream(20 * BODY_LIMITS.default);
    const response = await SELF.fetch('https://edgeplane.test/v1/routes', {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKENS.admin}`, 'content-type': 'application/json' },
      body: stream.body,
    });
    await expectError(response, 413, 'payload_too_large');
    expect(stream.pulled()).toBeLessThan(20 * BODY_LIMITS.default);
  });

  it('refuses an unauthenticated /agent/v1/register and /bootstrap before reading the body', async () => {
    // A small body that is not JSON: 401, not 400, so the bearer was looked at first.
    await expectError(await post('/agent/v1/register', '{not json'), 401, 'unauthorized');
    await expectError(await post('/agent/v1/register', '{not json', { authorization: 'Bearer epb_unknown' }), 401, 'unauthorized');
    const bootstrap = (auth: string, body: BodyInit) =>
      callWith({ EDGEPLANE_BOOTSTRAP_TOKEN: 'b'.repeat(40) }, '/bootstrap', {
        method: 'POST',
        headers: { authorization: `Bearer ${auth}`, 'content-type': 'application/json' },
        body,
      });
    await expectError(await bootstrap('wrong', '{not json'), 401, 'unauthorized');
    // 60 MB streamed without a token: answered having read (almost) none of it, far below even the 4 KiB limit's worth
    // of chunks a parser would need; a real 60 MB parse is not what happened.
    for (const send of [
      (body: ReadableStream<Uint8Array>) => post('/agent/v1/register', body),
      (body: ReadableStream<Uint8Array>) => bootstrap('wrong', body),
    ]) {
      const stream = countedStream(60 * 1024 * 1024);
      await expectError(await send(stream.body), 401, 'unauthorized');
      expect(stream.pulled()).toBeLessThan(2 * 1024 * 1024);
    }
  });

  it('answers a 5 MB status report 413 instead of failing in D1', async () => {
    const { cluster } = await clusterWithTunnel();
    const credential = await registeredAgent(cluster);
    const results = Array.from({ length: 5000 }, (_, i) => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      name: `n${i}`,
      action: 'error',
      message: 'm'.repeat(1000),
    }));
    const body = JSON.stringify({
      revision: 1,
      hash: 'h',
      applied: false,
      durationMs: 1,
      results,
      conflicts: [],
      pruned: [],
      health: { status: 'Current', objects: [], connectors: { desired: 0, ready: 0 }, origins: [] },
      agentVersion: '0.1.0',
    });
    expect(body.length).toBeGreaterThan(5_000_000);
    await expectError(await post('/agent/v1/status', body, { authorization: `Bearer ${credential}` }), 413, 'payload_too_large');
  });
});

describe('bounded fields', () => {
  it('refuses a 5 MB originRequest key, and a 400 KB one with a short error quoting an excerpt once', async () => {
    const { tunnel } = await clusterWithTunnel();
    const plan = (key: string) =>
      api('POST', '/v1/plan', {
        role: 'viewer',
        body: {
          changes: [
            { action: 'route.create', route: { tunnel, hostname: 'k.example.com', origin: labelStudio, originRequest: { [key]: 1 } } },
          ],
        },
      });
    const huge = await plan('k'.repeat(5 * 1024 * 1024));
    const hugeText = await huge.clone().text();
    await expectError(huge, 413, 'payload_too_large');
    expect(hugeText.length).toBeLessThan(1000);

    const key = `httpHostHeadr${'q'.repeat(400 * 1024)}`;
    const big = await plan(key);
    const text = await big.clone().text();
    expect(text.length).toBeLessThan(4000);
    const envelope = await expectError(big, 422, 'validation_failed');
    expect(envelope.error.details?.[0]?.path).toContain('originRequest.httpHostHeadrqqq');
    // Quoted as an excerpt, once in the message and once in the details, not once per known key or at full length.
    expect(text.split('httpHostHeadrqqq').length - 1).toBeLessThanOrEqual(2);
  });

  it('refuses a 900-character httpHostHeader, 65 labels, 33 audTags and 201 env entries', async () => {
    const { tunnel, cluster } = await clusterWithTunnel();
    const route = (extra: Record<string, unknown>) =>
      api('POST', '/v1/routes', { body: { tunnel, hostname: `h${Date.now()}.example.com`, origin: labelStudio, ...extra } });
    const before = await count('routes');
    const host = await expectError(await route({ originRequest: { httpHostHeader: 'h'.repeat(900) } }), 422, 'validation_failed');
    expect(host.error.message).toContain('the limit is 259');
    await expectError(
      await route({ access: { teamName: 'team', audTag: Array.from({ length: 33 }, (_, i) => `${i}`) } }),
      422,
      'validation_failed',
    );
    expect(await count('routes')).toBe(before);

    const labels = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v']));
    const many = await expectError(await api('PATCH', `/v1/clusters/${cluster}`, { body: { labels } }), 422, 'validation_failed');
    expect(many.error.details).toEqual([{ path: 'body.labels', message: 'at most 64 labels' }]);
    // 70,000 labels do not even get parsed.
    const flood = Object.fromEntries(Array.from({ length: 70_000 }, (_, i) => [`k${i}`, 'v']));
    await expectError(await api('PATCH', `/v1/clusters/${cluster}`, { body: { labels: flood } }), 413, 'payload_too_large');

    const envs = Object.fromEntries(Array.from({ length: 201 }, (_, i) => [`V${i}`, 'x']));
    await expectError(
      await api('POST', '/v1/workloads', { body: { id: 'w-env', cluster, namespace: 'apps', image: 'nginx:1.27', env: envs } }),
      422,
      'validation_failed',
    );
  });

  it('lists at most 20 problems however many a body has', async () => {
    const { cluster } = await clusterWithTunnel();
    const unknown = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`field${i}`, 1]));
    const envelope = await expectError(await api('PATCH', `/v1/clusters/${cluster}`, { body: unknown }), 422, 'validation_failed');
    expect(envelope.error.details?.length).toBeLessThanOrEqual(21);
  });
});

describe('install.yaml', () => {
  it('points the agent at EDGEPLANE_PUBLIC_URL, whatever Host the request came with', async () => {
    const { cluster } = await clusterWithTunnel();
    const response = await SELF.fetch(`https://evil.example.net/v1/clusters/${cluster}/install.yaml`, {
      headers: { authorization: `Bearer ${TOKENS.admin}`, host: 'evil.example.net' },
    });
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).not.toContain('evil.example.net');
    const deployment = parseAllDocuments(text)
      .map(
        (d) => d.toJSON() as { kind: string; spec?: { template: { spec: { containers: { env: { name: string; value: string }[] }[] } } } },
      )
      .find((d) => d.kind === 'Deployment');
    const url = deployment?.spec?.template.spec.containers[0]?.env.find((e) => e.name === 'EDGEPLANE_URL')?.value;
    expect(url).toBe('https://edgeplane.example.com');
  });

  it('is refused in production without EDGEPLANE_PUBLIC_URL, issuing no token; development falls back to the request URL', async () => {
    const { cluster } = await clusterWithTunnel();
    const get = (overrides: Record<string, string>) =>
      callWith(overrides, `/v1/clusters/${cluster}/install.yaml`, { headers: { authorization: `Bearer ${TOKENS.admin}` } });
    const refused = await expectError(await get({ EDGEPLANE_PUBLIC_URL: '' }), 503, 'unavailable');
    expect(refused.error.message).toContain('EDGEPLANE_PUBLIC_URL');
    expect(await count('bootstrap_tokens', `cluster_id = '${cluster}'`)).toBe(0);
    const dev = await get({ EDGEPLANE_PUBLIC_URL: '', ENVIRONMENT: 'development' });
    expect(await dev.text()).toContain('value: https://edgeplane.test');
  });
});

describe('POST /bootstrap', () => {
  it('gives one admin token to two concurrent calls', async () => {
    const secret = 'c'.repeat(40);
    const call = () =>
      callWith({ EDGEPLANE_BOOTSTRAP_TOKEN: secret }, '/bootstrap', {
        method: 'POST',
        headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
        body: '{}',
      });
    await env.DB.prepare(`DELETE FROM api_tokens WHERE role = 'admin'`).run();
    try {
      const answers = await Promise.all([call(), call(), call()]);
      expect(answers.map((a) => a.status).sort()).toEqual([201, 409, 409]);
      expect(await count('api_tokens', "role = 'admin'")).toBe(1);
    } finally {
      await env.DB.prepare(`DELETE FROM api_tokens WHERE role = 'admin'`).run();
      await seedTokens();
    }
  });
});
