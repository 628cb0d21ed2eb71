import Cloudflare from 'cloudflare';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_TOKEN, type FakeCloudflare, startFakeCloudflare } from '../fakes/cloudflare/server';

const ACCOUNT = '0123456789abcdef0123456789abcdef';
let fake: FakeCloudflare;
let client: Cloudflare;

const raw = (method: string, path: string, body?: unknown, token = DEFAULT_TOKEN) =>
  fetch(`${fake.baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

beforeAll(async () => {
  fake = await startFakeCloudflare();
  client = new Cloudflare({ apiToken: DEFAULT_TOKEN, baseURL: fake.baseUrl, maxRetries: 0, timeout: 2_000 });
});
afterAll(async () => fake.close());
beforeEach(() => fake.state.reset());

describe('Cloudflare API fake', () => {
  it('rejects a request that breaks the contract with a 400 envelope and records the violation', async () => {
    const response = await raw('POST', `/accounts/${ACCOUNT}/cfd_tunnel`, { config_src: 'yaml' });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { success: boolean; errors: { code: number; message: string }[]; result: null };
    expect(body.success).toBe(false);
    expect(body.result).toBeNull();
    expect(body.errors[0]?.message).toMatch(/required property 'name'/);
    expect(fake.state.violations).toHaveLength(1);
    expect(fake.state.violations[0]?.problems.join(' ')).toMatch(/config_src/);
  });

  it('rejects an undeclared query parameter, a bad uuid and a missing token', async () => {
    await raw('GET', `/accounts/${ACCOUNT}/cfd_tunnel?name.exact=x`);
    await raw('GET', `/accounts/${ACCOUNT}/cfd_tunnel/not-a-uuid`);
    await fetch(`${fake.baseUrl}/accounts/${ACCOUNT}/cfd_tunnel`);
    expect(fake.state.violations.map((v) => v.problems.join(' '))).toEqual([
      expect.stringMatching(/additional properties/),
      expect.stringMatching(/format/),
      expect.stringMatching(/Authorization/),
    ]);
  });

  it('enforces the catch-all rule itself but accepts it without a hostname (schema defect 1)', async () => {
    const tunnel = await client.zeroTrust.tunnels.cloudflared.create({ account_id: ACCOUNT, name: 't', config_src: 'cloudflare' });
    const id = tunnel.id ?? '';
    const good = await raw('PUT', `/accounts/${ACCOUNT}/cfd_tunnel/${id}/configurations`, {
      config: { ingress: [{ hostname: 'a.example.com', service: 'http://a:80' }, { service: 'http_status:404' }] },
    });
    expect(good.status).toBe(200);
    const bad = await raw('PUT', `/accounts/${ACCOUNT}/cfd_tunnel/${id}/configurations`, {
      config: { ingress: [{ service: 'http_status:404' }, { hostname: 'a.example.com', service: 'http://a:80' }] },
    });
    expect(bad.status).toBe(400);
    expect(fake.state.violations.flatMap((v) => v.problems).join(' ')).toMatch(/last ingress rule must match all URLs/);
    const config = await client.zeroTrust.tunnels.cloudflared.configurations.get(id, { account_id: ACCOUNT });
    expect(config.version).toBe(1);
  });

  it('ends the SDK auto-pagination with an empty page', async () => {
    for (let i = 0; i < 7; i++) await client.zeroTrust.tunnels.cloudflared.create({ account_id: ACCOUNT, name: `t${i}` });
    const names: string[] = [];
    for await (const t of client.zeroTrust.tunnels.cloudflared.list({ account_id: ACCOUNT, per_page: 3, is_deleted: false }))
      names.push(t.name ?? '');
    expect(names.sort()).toEqual(['t0', 't1', 't2', 't3', 't4', 't5', 't6']);
    const pages = fake.state.calls.filter((c) => c.method === 'GET').map((c) => c.status);
    expect(pages).toEqual([200, 200, 200, 200]); // 3 + 3 + 1, then the empty page that stops the iteration
    const past = (await (await raw('GET', `/accounts/${ACCOUNT}/cfd_tunnel?page=9&per_page=3`)).json()) as {
      result: unknown[];
      result_info: { total_count: number };
    };
    expect(past.result).toEqual([]);
    expect(past.result_info.total_count).toBe(7);
    expect(fake.state.violations).toEqual([]);
  });

  it('replaces the whole split-tunnel list on PUT and accepts host entries (schema defect 6)', async () => {
    await client.zeroTrust.devices.policies.default.includes.update({
      account_id: ACCOUNT,
      body: [{ address: '10.0.0.0/8', description: 'a' }, { host: 'db.internal' }],
    });
    await client.zeroTrust.devices.policies.default.includes.update({
      account_id: ACCOUNT,
      body: [{ address: '10.42.0.0/16', description: 'pods' }],
    });
    const list = await client.zeroTrust.devices.policies.default.includes.get({ account_id: ACCOUNT });
    expect(list.getPaginatedItems()).toEqual([{ address: '10.42.0.0/16', description: 'pods' }]);
    const both = await raw('PUT', `/accounts/${ACCOUNT}/devices/policy/include`, [
      { address: '10.0.0.0/8', host: 'x.internal', description: '' },
    ]);
    expect(both.status).toBe(400);
  });

  it('creates a DNS CNAME with a normal body (schema defect 2) and refuses a second record of that name', async () => {
    const zone = fake.state.addZone(ACCOUNT, 'example.com');
    const body = {
      zone_id: zone.id,
      type: 'CNAME' as const,
      name: 'app.example.com',
      content: 'x.cfargotunnel.com',
      proxied: true,
      ttl: 1,
      comment: 'c',
    };
    const record = await client.dns.records.create(body);
    expect(record.name).toBe('app.example.com');
    await expect(client.dns.records.create(body)).rejects.toMatchObject({ status: 400 });
    await client.dns.records.delete(record.id, { zone_id: zone.id });
    await expect(client.dns.records.delete(record.id, { zone_id: zone.id })).rejects.toMatchObject({ status: 404 });
    expect(fake.state.violations).toEqual([]);
  });

  it('answers scripted faults: 429 with retry-after, 5xx, and a hung request the client times out', async () => {
    fake.state.faults.push({ account: ACCOUNT, status: 429, retryAfter: 30, times: 1 }, { account: ACCOUNT, status: 503, times: 1 });
    const limited = await raw('GET', `/accounts/${ACCOUNT}/devices/policies`);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('30');
    expect((await raw('GET', `/accounts/${ACCOUNT}/devices/policies`)).status).toBe(503);
    expect((await raw('GET', `/accounts/${ACCOUNT}/devices/policies`)).status).toBe(200);
    fake.state.faults.push({ account: ACCOUNT, hang: true, times: 1 });
    const hung = new Cloudflare({ apiToken: DEFAULT_TOKEN, baseURL: fake.baseUrl, maxRetries: 0, timeout: 200 });
    await expect(hung.zeroTrust.devices.policies.custom.list({ account_id: ACCOUNT })).rejects.toThrow(/timed out/i);
  });

  it('accepts a partial DNS PATCH and a teamnet route with its readOnly tunnel_id (defects 2 and 4), rejects wrong types', async () => {
    const zone = fake.state.addZone(ACCOUNT, 'example.org');
    const record = await client.dns.records.create({
      zone_id: zone.id,
      type: 'CNAME',
      name: 'x.example.org',
      content: 'a.example.net',
      ttl: 1,
    });
    const patched = await raw('PATCH', `/zones/${zone.id}/dns_records/${record.id}`, { content: 'b.example.net', comment: 'moved' });
    expect(patched.status).toBe(200);
    expect(fake.state.records.get(record.id)).toMatchObject({ content: 'b.example.net', comment: 'moved' });
    expect((await raw('PATCH', `/zones/${zone.id}/dns_records/${record.id}`, { proxied: 'yes' })).status).toBe(400);
    const tunnel = await client.zeroTrust.tunnels.cloudflared.create({ account_id: ACCOUNT, name: 'r' });
    const route = await client.zeroTrust.networks.routes.create({
      account_id: ACCOUNT,
      network: '10.42.0.0/16',
      tunnel_id: tunnel.id ?? '',
    });
    expect(route.network).toBe('10.42.0.0/16');
    await expect(
      client.zeroTrust.networks.routes.create({ account_id: ACCOUNT, network: '10.42.0.0/16', tunnel_id: tunnel.id ?? '' }),
    ).rejects.toMatchObject({
      status: 409,
    });
    expect(fake.state.violations.map((v) => v.method)).toEqual(['PATCH']);
  });

  it('answers 404 for unknown objects and 409 for a duplicate tunnel name', async () => {
    await expect(
      client.zeroTrust.tunnels.cloudflared.get('6d4b8e1c-3a0f-4b7e-9d51-2f9f0c1a2b3c', { account_id: ACCOUNT }),
    ).rejects.toMatchObject({ status: 404 });
    await client.zeroTrust.tunnels.cloudflared.create({ account_id: ACCOUNT, name: 'same' });
    await expect(client.zeroTrust.tunnels.cloudflared.create({ account_id: ACCOUNT, name: 'same' })).rejects.toMatchObject({ status: 409 });
  });
});
