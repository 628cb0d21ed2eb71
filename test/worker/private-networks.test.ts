import { describe, expect, it } from 'vitest';
import { api, count, expectError, storeSnapshot } from './helpers';
import { clusterWithTunnel } from './fixtures';

describe('private networks', () => {
  it('routes a CIDR, turns warp-routing on, and rejects overlaps and non-canonical CIDRs', async () => {
    const { tunnel } = await clusterWithTunnel();
    const created = await api('POST', '/v1/private-networks', { body: { tunnel, cidr: '10.143.0.0/16', comment: 'k3s services' } });
    expect(created.status).toBe(201);
    const network = (await created.json()) as { id: string; etag: string };
    expect(((await (await api('GET', `/v1/tunnels/${tunnel}`)).json()) as { warpRouting: boolean }).warpRouting).toBe(true);

    const before = await storeSnapshot();
    const overlap = await expectError(
      await api('POST', '/v1/private-networks', { body: { tunnel, cidr: '10.143.8.0/24' } }),
      409,
      'conflict',
    );
    expect(overlap.error.message).toContain('overlaps 10.143.0.0/16');
    const canonical = await expectError(
      await api('POST', '/v1/private-networks', { body: { tunnel, cidr: '10.144.0.1/16' } }),
      422,
      'validation_failed',
    );
    expect(canonical.error.message).toContain('"10.144.0.0/16"');
    const v6 = await expectError(
      await api('POST', '/v1/private-networks', { body: { tunnel, cidr: 'fd00:0:0::/48' } }),
      422,
      'validation_failed',
    );
    expect(v6.error.message).toContain('"fd00::/48"');
    expect(await storeSnapshot()).toEqual(before);

    const other = await api('POST', '/v1/private-networks', {
      body: { tunnel, cidr: '10.143.8.0/24', virtualNetworkId: 'c1744f8b-faa1-48a4-9e5c-02ac921467fa' },
    });
    expect(other.status).toBe(201);
    const outbox = await count('outbox', `kind = 'private_network' AND target = '${network.id}'`);
    expect((await api('DELETE', `/v1/private-networks/${network.id}`, { headers: { 'if-match': network.etag } })).status).toBe(204);
    expect(await count('outbox', `kind = 'private_network' AND target = '${network.id}'`)).toBe(outbox + 1);
  });
});
