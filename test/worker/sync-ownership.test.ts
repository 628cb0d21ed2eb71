import { describe, expect, it } from 'vitest';
import { api, expectError } from './helpers';
import { addRoute, cloudflareTunnelId, drainAll, expectNoViolations, fake, setup, syncStatus } from './sync-helpers';

interface Entry {
  id: string;
  address: string | null;
  host: string | null;
  owner: string;
  etag: string;
}

describe('Cloudflare sync: edgeplane changes only what it owns', () => {
  it('leaves foreign DNS records alone through route create, rename and delete, and reports a collision', async () => {
    const { account, tunnel, zone } = await setup();
    const zoneId = (await fake.state(account)).zones[0]?.id ?? '';
    const foreignCname = await fake.api<{ id: string }>('POST', `/zones/${zoneId}/dns_records`, {
      type: 'CNAME',
      name: `blog.${zone}`,
      content: 'ghs.example.net',
      proxied: false,
      ttl: 1,
    });
    await fake.api('POST', `/zones/${zoneId}/dns_records`, {
      type: 'A',
      name: `nas.${zone}`,
      content: '192.0.2.10',
      proxied: false,
      ttl: 300,
    });
    const foreignBefore = (await fake.state(account)).records;

    const route = await addRoute(tunnel, `app.${zone}`);
    await drainAll(account);
    const renamed = await api('PATCH', `/v1/routes/${route.id}`, {
      body: { hostname: `app2.${zone}` },
      headers: { 'if-match': route.etag },
    });
    expect(renamed.status).toBe(200);
    await drainAll(account);
    // A route on a name a foreign record already holds: the record is reported, never changed.
    const blog = await addRoute(tunnel, `blog.${zone}`);
    await drainAll(account);
    const collision = (await syncStatus()).targets.find((t) => t.kind === 'dns' && t.target === `blog.${zone}`);
    expect(collision?.conflict).toContain(foreignCname.id);
    expect(collision?.conflict).toMatch(/not created by edgeplane/);
    // ... and on the route itself, while a route whose CNAME was made reads as synced.
    const onRoute = (await (await api('GET', `/v1/routes/${blog.id}`)).json()) as { dnsStatus: { state: string; detail: string } };
    expect(onRoute.dnsStatus.state).toBe('conflict');
    expect(onRoute.dnsStatus.detail).toContain(foreignCname.id);
    const listed = (await (await api('GET', `/v1/routes?tunnel=${tunnel}`)).json()) as {
      items: { hostname: string; dnsStatus: { state: string } }[];
    };
    expect(listed.items.find((r) => r.hostname === `app2.${zone}`)?.dnsStatus.state).toBe('synced');
    const renamedRoute = (await renamed.json()) as { etag: string };
    expect((await api('DELETE', `/v1/routes/${route.id}`, { headers: { 'if-match': renamedRoute.etag } })).status).toBe(204);
    await drainAll(account);

    const records = (await fake.state(account)).records;
    expect(records).toEqual(foreignBefore); // same ids, contents and modified_on: untouched
    const cfId = await cloudflareTunnelId(tunnel);
    expect((await fake.state(account)).configs[cfId]?.config?.ingress.map((r) => r.hostname)).toEqual([`blog.${zone}`, undefined]);
    await expectNoViolations(account);
  });

  it('merges split-tunnel lists: foreign entries survive every PUT and are mirrored read-only', async () => {
    const { account } = await setup();
    const foreign = [
      { address: '192.168.2.0/24', description: 'GPU LAN (set by hand)' },
      { host: 'intranet.corp.example', description: 'set in the dashboard' },
    ];
    await fake.api('PUT', `/accounts/${account}/devices/policy/include`, foreign);

    const created = await api('POST', '/v1/split-tunnel', {
      body: { account, mode: 'include', address: '10.42.0.0/16', description: 'pods' },
    });
    expect(created.status).toBe(201);
    const mine = (await created.json()) as Entry;
    await drainAll(account);
    let list = (await fake.state(account)).splitTunnel['default:include'];
    expect(list).toEqual([...foreign, { address: '10.42.0.0/16', description: 'pods' }]);

    // The foreign entries appear in the API as owner "foreign" and cannot be changed or deleted there.
    const listed = (await (await api('GET', '/v1/split-tunnel?profile=default&mode=include')).json()) as { items: Entry[] };
    const mirrored = listed.items.filter(
      (e) => e.owner === 'foreign' && (e.address === '192.168.2.0/24' || e.host === 'intranet.corp.example'),
    );
    expect(mirrored).toHaveLength(2);
    const gpu = mirrored.find((e) => e.address === '192.168.2.0/24');
    await expectError(await api('DELETE', `/v1/split-tunnel/${gpu?.id ?? ''}`), 409, 'conflict');
    await expectError(await api('PATCH', `/v1/split-tunnel/${gpu?.id ?? ''}`, { body: { description: 'x' } }), 409, 'conflict');

    // Someone adds another entry in the dashboard; edgeplane's update keeps it too.
    const remote = (await fake.state(account)).splitTunnel['default:include'] ?? [];
    await fake.api('PUT', `/accounts/${account}/devices/policy/include`, [...remote, { address: '10.8.0.0/16', description: 'vpn' }]);
    const updated = await api('PATCH', `/v1/split-tunnel/${mine.id}`, {
      body: { description: 'k3s pods' },
      headers: { 'if-match': mine.etag },
    });
    expect(updated.status).toBe(200);
    await drainAll(account);
    list = (await fake.state(account)).splitTunnel['default:include'];
    expect(list).toEqual([
      ...foreign,
      { address: '10.8.0.0/16', description: 'vpn' },
      { address: '10.42.0.0/16', description: 'k3s pods' },
    ]);

    // Deleting edgeplane's entry removes only it (it does not turn foreign).
    expect((await api('DELETE', `/v1/split-tunnel/${mine.id}`)).status).toBe(204);
    await drainAll(account);
    list = (await fake.state(account)).splitTunnel['default:include'];
    expect(list).toEqual([...foreign, { address: '10.8.0.0/16', description: 'vpn' }]);
    await expectNoViolations(account);
  });

  it('creates and deletes only its own private routes; a CIDR routed elsewhere is reported', async () => {
    const { account, tunnel } = await setup();
    const other = await fake.api<{ id: string }>('POST', `/accounts/${account}/cfd_tunnel`, { name: 'someone-elses', config_src: 'local' });
    const foreignRoute = await fake.api<{ id: string }>('POST', `/accounts/${account}/teamnet/routes`, {
      network: '10.99.0.0/16',
      tunnel_id: other.id,
      comment: 'not ours',
    });

    const pods = await api('POST', '/v1/private-networks', { body: { tunnel, cidr: '10.42.0.0/16' } });
    expect(pods.status).toBe(201);
    const podsId = ((await pods.json()) as { id: string }).id;
    const taken = await api('POST', '/v1/private-networks', { body: { tunnel, cidr: '10.99.0.0/16' } });
    expect(taken.status).toBe(201);
    const takenId = ((await taken.json()) as { id: string }).id;
    await drainAll(account);
    const cfId = await cloudflareTunnelId(tunnel);
    let state = await fake.state(account);
    expect(
      state.routes
        .filter((r) => !r.deleted_at)
        .map((r) => [r.network, r.tunnel_id])
        .sort(),
    ).toEqual([
      ['10.42.0.0/16', cfId],
      ['10.99.0.0/16', other.id],
    ]);
    expect(state.configs[cfId]?.config).toMatchObject({ 'warp-routing': { enabled: true } });
    const conflict = (await syncStatus()).targets.find((t) => t.kind === 'private_network' && t.target === takenId);
    expect(conflict?.conflict).toContain(foreignRoute.id);

    expect((await api('DELETE', `/v1/private-networks/${podsId}`)).status).toBe(204);
    expect((await api('DELETE', `/v1/private-networks/${takenId}`)).status).toBe(204);
    await drainAll(account);
    state = await fake.state(account);
    expect(state.routes.filter((r) => !r.deleted_at).map((r) => r.id)).toEqual([foreignRoute.id]);
    await expectNoViolations(account);
  });

  it('deletes a tunnel in a safe order: its CNAMEs, its config, its routes, its connections, then the tunnel', async () => {
    const { account, tunnel, zone } = await setup();
    await addRoute(tunnel, `gone.${zone}`);
    expect((await api('POST', '/v1/private-networks', { body: { tunnel, cidr: '10.43.0.0/16' } })).status).toBe(201);
    await drainAll(account);
    const cfId = await cloudflareTunnelId(tunnel);
    await fake.connect(cfId); // a running cloudflared: Cloudflare refuses to delete a connected tunnel
    const before = (await fake.calls(account)).length;
    expect((await api('DELETE', `/v1/tunnels/${tunnel}?cascade=true`)).status).toBe(204);
    const reports = await drainAll(account);
    expect(reports.flatMap((r) => r.errors)).toEqual([]);
    const writes = (await fake.calls(account))
      .slice(before)
      .filter((c) => c.method !== 'GET')
      .map((c) => c.operationId);
    // The hostname's CNAME goes first (nothing points at the tunnel any more), the private network's own row removes
    // its route, then the tunnel's delete clears the config, cleans up connections and deletes the tunnel.
    expect(writes).toEqual([
      'dns-records-for-a-zone-delete-dns-record',
      'tunnel-route-delete-a-tunnel-route',
      'cloudflare-tunnel-configuration-put-configuration',
      'cloudflare-tunnel-clean-up-cloudflare-tunnel-connections',
      'cloudflare-tunnel-delete-a-cloudflare-tunnel',
    ]);
    const state = await fake.state(account);
    expect(state.records).toEqual([]);
    expect(state.tunnels.find((t) => t.id === cfId)?.deleted_at).not.toBeNull();
    expect(state.routes.every((r) => r.deleted_at !== null)).toBe(true);
    await expectNoViolations(account);
  });
});
