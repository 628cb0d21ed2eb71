import { describe, expect, it } from 'vitest';
import { api } from './helpers';
import { cloudflareTunnelId, drainAll, expectNoViolations, fake, setup, syncStatus } from './sync-helpers';

describe('Cloudflare sync: a tunnel rename', () => {
  it('is pushed with PATCH cfd_tunnel/{id} and GET /v1/sync shows the remote name', async () => {
    const { account, tunnel } = await setup();
    await drainAll(account);
    const cfId = await cloudflareTunnelId(tunnel);
    const before = (await syncStatus()).targets.find((t) => t.kind === 'tunnel' && t.target === tunnel);
    const original = (await fake.state(account)).tunnels.find((t) => t.id === cfId)?.name;
    expect(before?.remoteName).toBe(original);

    const renamed = `renamed-${tunnel}`;
    const response = await api('PATCH', `/v1/tunnels/${tunnel}`, { body: { name: renamed } });
    expect(response.status, await response.clone().text()).toBe(200);
    await drainAll(account);

    expect((await fake.state(account)).tunnels.find((t) => t.id === cfId)?.name).toBe(renamed);
    const patches = (await fake.calls(account)).filter((c) => c.operationId === 'cloudflare-tunnel-update-a-cloudflare-tunnel');
    expect(patches).toHaveLength(1);
    expect(patches[0]?.status).toBe(200);
    const after = (await syncStatus()).targets.find((t) => t.kind === 'tunnel' && t.target === tunnel);
    expect(after).toMatchObject({ remoteName: renamed, lastError: null, pending: 0 });
    await expectNoViolations(account);
  });

  it('changes nothing in Cloudflare when only other fields change, and reports a name Cloudflare refuses', async () => {
    const { account, cluster, tunnel } = await setup();
    const other = `other-${tunnel}`;
    expect((await api('POST', '/v1/tunnels', { body: { id: other, cluster, account } })).status).toBe(201);
    await drainAll(account);
    const callsBefore = (await fake.calls(account)).length;
    expect((await api('PATCH', `/v1/tunnels/${tunnel}`, { body: { catchAll: 'http_status:503' } })).status).toBe(200);
    await drainAll(account);
    const calls = (await fake.calls(account)).slice(callsBefore);
    expect(calls.some((c) => c.operationId === 'cloudflare-tunnel-update-a-cloudflare-tunnel')).toBe(false);

    // The other tunnel's Cloudflare name (edgeplane's default `<cluster>-<id>`) is taken: Cloudflare answers 409.
    const otherCfId = await cloudflareTunnelId(other);
    const taken = (await fake.state(account)).tunnels.find((t) => t.id === otherCfId)?.name ?? '';
    expect((await api('PATCH', `/v1/tunnels/${tunnel}`, { body: { name: taken } })).status).toBe(200);
    await drainAll(account, 1);
    const target = (await syncStatus()).targets.find((t) => t.kind === 'tunnel' && t.target === tunnel);
    expect(target?.lastError).toMatch(new RegExp(`already named "${taken}"`));
    expect(target?.pending).toBe(1);
    await expectNoViolations(account);
  });
});
