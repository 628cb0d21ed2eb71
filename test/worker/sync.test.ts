import { createExecutionContext, env, runDurableObjectAlarm, runInDurableObject, waitOnExecutionContext } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import worker from '../../worker/index';
import { api, TOKENS, uid } from './helpers';
import { addRoute, cloudflareTunnelId, drainAll, expectNoViolations, fake, pendingRows, setup } from './sync-helpers';

describe('Cloudflare sync: tunnels, config and DNS', () => {
  it('creates the tunnel, stores its token encrypted, and routes a new hostname: config rule and proxied CNAME', async () => {
    const { account, cluster, tunnel, zone } = await setup();
    const host = `app.${zone}`;
    await addRoute(tunnel, host);
    const bundle = async () => (await (await api('GET', `/v1/clusters/${cluster}/manifests`)).json()) as { revision: number; hash: string };
    const beforeToken = await bundle();
    const [report] = await drainAll(account);
    expect(report?.errors).toEqual([]);
    const cfId = await cloudflareTunnelId(tunnel);
    const state = await fake.state(account);
    expect(state.tunnels).toMatchObject([{ id: cfId, config_src: 'cloudflare', deleted_at: null }]);
    expect(state.configs[cfId]?.config?.ingress).toEqual([
      { hostname: host, service: 'http://web.apps.svc.cluster.local:80' },
      { service: 'http_status:404' },
    ]);
    expect(state.records).toEqual([
      expect.objectContaining({
        name: host,
        type: 'CNAME',
        content: `${cfId}.cfargotunnel.com`,
        proxied: true,
        comment: 'managed by edgeplane',
      }),
    ]);
    const row = await env.DB.prepare('SELECT token_ciphertext AS t FROM tunnels WHERE id = ?').bind(tunnel).first<{ t: string }>();
    expect(row?.t).toMatch(/^[A-Za-z0-9+/=]+\.[A-Za-z0-9+/=]+$/);
    expect(row?.t).not.toContain(cfId);
    const got = (await (await api('GET', `/v1/tunnels/${tunnel}`)).json()) as Record<string, unknown>;
    expect(got.hasToken).toBe(true);
    expect(JSON.stringify(got)).not.toContain(row?.t ?? 'x');
    // The token reaches the bundle: a new revision (so agents do not get 304) and a new content hash.
    const afterToken = await bundle();
    expect(afterToken.revision).toBeGreaterThan(beforeToken.revision);
    expect(afterToken.hash).not.toBe(beforeToken.hash);
    expect(await pendingRows(account)).toEqual([]);
    await expectNoViolations(account);
  });

  it('renames a hostname: the old CNAME goes, the new one appears, the config follows', async () => {
    const { account, tunnel, zone } = await setup();
    const route = await addRoute(tunnel, `old.${zone}`);
    await drainAll(account);
    const renamed = await api('PATCH', `/v1/routes/${route.id}`, {
      body: { hostname: `new.${zone}` },
      headers: { 'if-match': route.etag },
    });
    expect(renamed.status).toBe(200);
    await drainAll(account);
    const cfId = await cloudflareTunnelId(tunnel);
    const state = await fake.state(account);
    expect(state.records.map((r) => r.name)).toEqual([`new.${zone}`]);
    expect(state.configs[cfId]?.config?.ingress.map((r) => r.hostname)).toEqual([`new.${zone}`, undefined]);
    expect(await env.DB.prepare('SELECT hostname FROM cf_dns_records WHERE tunnel_id = ?').bind(tunnel).all()).toMatchObject({
      results: [{ hostname: `new.${zone}` }],
    });
    await expectNoViolations(account);
  });
});

describe('Cloudflare sync: adopting an existing tunnel', () => {
  it('adopts a tunnel by id: no second tunnel, token fetched, config taken over; a missing id is a visible error', async () => {
    const { account, zone } = await setup();
    const existing = await fake.api<{ id: string }>('POST', `/accounts/${account}/cfd_tunnel`, {
      name: 'made-elsewhere',
      config_src: 'cloudflare',
    });
    const cluster = uid('c');
    expect((await api('POST', '/v1/clusters', { body: { id: cluster, name: cluster } })).status).toBe(201);
    const adopted = uid('t');
    const created = await api('POST', '/v1/tunnels', { body: { id: adopted, cluster, account, cloudflareTunnelId: existing.id } });
    expect(created.status).toBe(201);
    await addRoute(adopted, `adopted.${zone}`);
    const missing = uid('t');
    const ghost = '6d4b8e1c-3a0f-4b7e-9d51-2f9f0c1a2b3c';
    expect((await api('POST', '/v1/tunnels', { body: { id: missing, cluster, account, cloudflareTunnelId: ghost } })).status).toBe(201);
    const [report] = await drainAll(account, 1);
    expect(report?.errors).toEqual([{ target: `tunnel:${missing}`, error: expect.stringMatching(/does not exist/) }]);
    const state = await fake.state(account);
    expect(state.tunnels.filter((t) => t.name === 'made-elsewhere').map((t) => t.id)).toEqual([existing.id]);
    expect(state.tunnels.map((t) => t.id)).not.toContain(ghost);
    expect(state.configs[existing.id]?.config?.ingress.map((r) => r.hostname)).toEqual([`adopted.${zone}`, undefined]);
    const got = (await (await api('GET', `/v1/tunnels/${adopted}`)).json()) as { hasToken: boolean; cloudflareTunnelId: string };
    expect(got).toMatchObject({ hasToken: true, cloudflareTunnelId: existing.id });
    expect(await pendingRows(account)).toEqual([
      { kind: 'tunnel', target: missing, attempts: 1, last_error: expect.stringMatching(/does not exist/) },
    ]);
    await expectNoViolations(account);
  });
});

describe('Cloudflare sync: kicks and alarms', () => {
  it('a committed write arms the account writer’s debounce alarm, and the alarm drains the outbox', async () => {
    const { account, tunnel, zone } = await setup();
    const stub = env.ACCOUNT_WRITER.get(env.ACCOUNT_WRITER.idFromName(account));
    // Call the Worker with our own execution context so the deferred kick can be awaited (no sleeping).
    const ctx = createExecutionContext();
    const response = await worker.fetch(
      new Request('https://edgeplane.test/v1/routes', {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKENS.editor}`, 'content-type': 'application/json' },
        body: JSON.stringify({ tunnel, hostname: `kick.${zone}`, origin: { url: 'http://web:80' } }),
      }),
      env,
      ctx,
    );
    expect(response.status).toBe(201);
    await waitOnExecutionContext(ctx);
    const alarm = await runInDurableObject(stub, (_instance, state) => state.storage.getAlarm());
    // Armed one debounce period (EDGEPLANE_SYNC_DEBOUNCE_MS) after the first kick.
    expect(alarm).toBeGreaterThan(Date.now() + 60_000);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await fake.state(account)).records.map((r) => r.name)).toEqual([`kick.${zone}`]);
    expect(await pendingRows(account)).toEqual([]);
    await expectNoViolations(account);
  });
});
