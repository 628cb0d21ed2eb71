import { SELF } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { api, expectError, storeSnapshot, TOKENS, uid } from './helpers';
import { ACCOUNT, labelStudio } from './fixtures';

// PATCH changes only the fields sent: defaults of the create shapes must never fill in the rest.
describe('PATCH keeps what was not sent', () => {
  it('cluster: a new name keeps labels and nodes', async () => {
    const id = uid('p');
    await api('POST', '/v1/clusters', { body: { id, name: 'a', labels: { site: 'home' }, nodes: [{ name: 'gpu-1', role: 'gpu' }] } });
    const updated = (await (await api('PATCH', `/v1/clusters/${id}`, { body: { name: 'b' } })).json()) as Record<string, unknown>;
    expect(updated).toMatchObject({ name: 'b', labels: { site: 'home' }, nodes: [{ name: 'gpu-1', role: 'gpu' }] });
  });

  it('tunnel: a new placement keeps mode, originRequest, catch-all and drift policy', async () => {
    const cluster = uid('p');
    const id = uid('t');
    await api('POST', '/v1/clusters', { body: { id: cluster, name: 'x' } });
    const mode = { type: 'ingress', className: 'traefik', controller: { namespace: 'kube-system', name: 'traefik', port: 80 } };
    const created = await api('POST', '/v1/tunnels', {
      body: {
        id,
        cluster,
        account: ACCOUNT,
        mode,
        originRequest: { connectTimeout: 5 },
        catchAll: 'http_status:503',
        driftPolicy: 'revert',
      },
    });
    expect(created.status).toBe(201);
    const response = await api('PATCH', `/v1/tunnels/${id}`, { body: { placement: { type: 'cluster', replicas: 3 } } });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      placement: { type: 'cluster', replicas: 3 },
      mode,
      originRequest: { connectTimeout: 5 },
      catchAll: 'http_status:503',
      driftPolicy: 'revert',
    });
  });

  it('route: a new origin keeps dns, path and originRequest; null removes the path', async () => {
    const cluster = uid('p');
    const tunnel = uid('t');
    await api('POST', '/v1/clusters', { body: { id: cluster, name: 'x' } });
    await api('POST', '/v1/tunnels', { body: { id: tunnel, cluster, account: ACCOUNT } });
    const route = (await (
      await api('POST', '/v1/routes', {
        body: {
          tunnel,
          hostname: `${tunnel}.example.com`,
          path: '/api',
          origin: labelStudio,
          dns: false,
          originRequest: { noTLSVerify: true },
        },
      })
    ).json()) as { id: string };
    const origin = { url: 'http://10.0.0.5:8000' };
    const updated = await (await api('PATCH', `/v1/routes/${route.id}`, { body: { origin } })).json();
    expect(updated).toMatchObject({ origin, dns: false, path: '/api', originRequest: { noTLSVerify: true } });
    expect(await (await api('PATCH', `/v1/routes/${route.id}`, { body: { path: null } })).json()).toMatchObject({ path: null, dns: false });
  });
});

describe('plan is read-only', () => {
  it('a viewer may ask for a plan, which writes nothing', async () => {
    const response = await api('POST', '/v1/plan', { role: 'viewer', body: {} });
    expect(response.status).toBe(200);
  });
});

describe('a body that is not JSON', () => {
  it('answers 415 with the envelope, naming what was sent and what is taken, and writes nothing', async () => {
    const before = await storeSnapshot();
    const response = await SELF.fetch('https://edgeplane.test/v1/clusters', {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKENS.admin}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'id=x&name=y',
    });
    const body = await expectError(response, 415, 'unsupported_media_type');
    expect(body.error.message).toContain('application/json');
    expect(body.error.message).toContain('application/x-www-form-urlencoded');
    expect(await storeSnapshot()).toEqual(before);
  });
});
