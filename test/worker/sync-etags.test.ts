import { describe, expect, it } from 'vitest';
import { api, expectError } from './helpers';
import { drainAll, expectNoViolations, fake, setup } from './sync-helpers';

// What the sync writes into a row (a Cloudflare id, a token) is a change of that row: its etag must move, or a client
// holding the old etag would overwrite a row it has not seen.

const etagOf = async (path: string): Promise<string> => {
  const response = await api('GET', path);
  expect(response.status).toBe(200);
  const body = (await response.json()) as { etag: string };
  expect(response.headers.get('etag')).toBe(body.etag);
  return body.etag;
};

describe('etags follow what the sync writes', () => {
  it("a private network's etag changes when its Cloudflare route id is written; the old one gets 412", async () => {
    const { account, tunnel } = await setup();
    const created = await api('POST', '/v1/private-networks', { body: { tunnel, cidr: '10.43.0.0/16' } });
    expect(created.status).toBe(201);
    const { id, etag: before } = (await created.json()) as { id: string; etag: string };
    await drainAll(account);
    expect((await fake.state(account)).routes.map((r) => r.comment)).toEqual([`edgeplane:${id}`]);
    const after = await etagOf(`/v1/private-networks/${id}`);
    expect(after).not.toBe(before);
    await expectError(
      await api('PATCH', `/v1/private-networks/${id}`, { headers: { 'if-match': before }, body: { comment: 'stale' } }),
      412,
      'precondition_failed',
    );
    const updated = await api('PATCH', `/v1/private-networks/${id}`, { headers: { 'if-match': after }, body: { comment: 'fresh' } });
    expect(updated.status).toBe(200);
    await expectNoViolations(account);
  });

  it("a tunnel's etag changes when the sync stores its Cloudflare id and token", async () => {
    const { account, tunnel } = await setup();
    const before = await etagOf(`/v1/tunnels/${tunnel}`);
    await drainAll(account);
    const body = (await (await api('GET', `/v1/tunnels/${tunnel}`)).json()) as {
      etag: string;
      hasToken: boolean;
      cloudflareTunnelId: string;
    };
    expect(body.hasToken).toBe(true);
    expect(body.cloudflareTunnelId).toBeTruthy();
    expect(body.etag).not.toBe(before);
    await expectError(
      await api('PATCH', `/v1/tunnels/${tunnel}`, { headers: { 'if-match': before }, body: { catchAll: 'http_status:503' } }),
      412,
      'precondition_failed',
    );
  });
});
