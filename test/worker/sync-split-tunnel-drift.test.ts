import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { api, expectError } from './helpers';
import { drainAll, driftCheck, expectNoViolations, fake, setup, syncStatus } from './sync-helpers';

type Item = { address?: string; host?: string; description: string };

const listPath = (account: string, mode: 'include' | 'exclude') => `/accounts/${account}/devices/policy/${mode}`;

/** Someone edits the list in the dashboard: edgeplane's entry is gone, foreign entries are added and edited. */
async function dashboardEdit(account: string): Promise<Item[]> {
  const edited: Item[] = [
    { host: 'printer.local', description: 'added by hand' },
    { address: '192.168.2.0/24', description: 'GPU LAN (renamed by hand)' },
  ];
  await fake.api('PUT', listPath(account, 'include'), edited);
  return edited;
}

async function seeded(): Promise<string> {
  const { account } = await setup();
  // A foreign entry made before edgeplane, then edgeplane's own.
  await fake.api('PUT', listPath(account, 'include'), [{ address: '192.168.2.0/24', description: 'GPU LAN' }]);
  const created = await api('POST', '/v1/split-tunnel', {
    body: { account, mode: 'include', address: '10.42.0.0/16', description: 'pods' },
  });
  expect(created.status).toBe(201);
  await drainAll(account);
  expect((await fake.state(account)).splitTunnel['default:include']).toEqual([
    { address: '192.168.2.0/24', description: 'GPU LAN' },
    { address: '10.42.0.0/16', description: 'pods' },
  ]);
  return account;
}

const target = async (account: string) =>
  (await syncStatus()).targets.find((t) => t.kind === 'split_tunnel' && t.target === `${account}/default:include`);

describe('split-tunnel drift: reported by default, reverted on request, foreign entries never touched', () => {
  it('under the default policy ("alert") an entry removed in the dashboard is reported and stays removed', async () => {
    const account = await seeded();
    const edited = await dashboardEdit(account);
    for (let check = 0; check < 2; check++) {
      expect(await driftCheck(account)).toMatchObject({ drifted: 1, reverted: 0, errors: [] });
      expect((await fake.state(account)).splitTunnel['default:include']).toEqual(edited);
    }
    expect((await target(account))?.drift).toMatchObject({ reverted: false, summary: expect.stringContaining('10.42.0.0/16') });
    await expectNoViolations(account);
  });

  it('under "revert" puts edgeplane\'s entry back and keeps every foreign entry exactly as the dashboard left it', async () => {
    const account = await seeded();
    const put = await api('PUT', '/v1/split-tunnel-profiles/default', { role: 'editor', body: { account, driftPolicy: 'revert' } });
    expect(put.status, await put.clone().text()).toBe(201);
    const profile = (await put.json()) as { driftPolicy: string; etag: string };
    expect(profile).toMatchObject({ account, profile: 'default', driftPolicy: 'revert' });
    const listed = (await (await api('GET', '/v1/split-tunnel-profiles', { role: 'viewer' })).json()) as { items: { account: string }[] };
    expect(listed.items.filter((p) => p.account === account)).toHaveLength(1);

    const edited = await dashboardEdit(account);
    expect(await driftCheck(account)).toMatchObject({ drifted: 1, reverted: 1, errors: [] });
    expect((await fake.state(account)).splitTunnel['default:include']).toEqual([
      ...edited,
      { address: '10.42.0.0/16', description: 'pods' },
    ]);
    expect((await target(account))?.drift).toMatchObject({ reverted: true, summary: expect.stringContaining('10.42.0.0/16') });
    // The next check finds nothing to do: it reads the list and writes nothing.
    const callsBefore = (await fake.calls(account)).length;
    expect(await driftCheck(account)).toMatchObject({ drifted: 0, reverted: 0 });
    expect((await fake.calls(account)).slice(callsBefore).filter((c) => c.method !== 'GET')).toEqual([]);
    // The new foreign entry is mirrored read-only.
    const mirrored = await env.DB.prepare(`SELECT owner FROM split_tunnel_entries WHERE account = ? AND host = 'printer.local'`)
      .bind(account)
      .all<{ owner: string }>();
    expect(mirrored.results).toEqual([{ owner: 'foreign' }]);

    // Back to alert (with the etag just read): the next removal is only reported.
    const back = await api('PUT', '/v1/split-tunnel-profiles/default', {
      role: 'editor',
      headers: { 'if-match': profile.etag },
      body: { account, driftPolicy: 'alert' },
    });
    expect(back.status).toBe(200);
    await dashboardEdit(account);
    expect(await driftCheck(account)).toMatchObject({ drifted: 1, reverted: 0 });
    await expectNoViolations(account);
  });

  it('refuses a bad policy, a stale If-Match and a viewer, changing nothing', async () => {
    const { account } = await setup();
    const bad = await expectError(
      await api('PUT', '/v1/split-tunnel-profiles/default', { body: { account, driftPolicy: 'fix' } }),
      422,
      'validation_failed',
    );
    expect(bad.error.details?.[0]?.path).toBe('body.driftPolicy');
    await expectError(
      await api('PUT', '/v1/split-tunnel-profiles/not-a-profile', { body: { account, driftPolicy: 'revert' } }),
      422,
      'validation_failed',
    );
    await expectError(
      await api('PUT', '/v1/split-tunnel-profiles/default', { role: 'viewer', body: { account, driftPolicy: 'revert' } }),
      403,
      'forbidden',
    );
    expect((await api('PUT', '/v1/split-tunnel-profiles/default', { body: { account, driftPolicy: 'revert' } })).status).toBe(201);
    await expectError(
      await api('PUT', '/v1/split-tunnel-profiles/default', {
        headers: { 'if-match': '"1.0"' },
        body: { account, driftPolicy: 'alert' },
      }),
      412,
      'precondition_failed',
    );
    const listed = (await (await api('GET', '/v1/split-tunnel-profiles')).json()) as { items: { account: string; driftPolicy: string }[] };
    expect(listed.items.find((p) => p.account === account)?.driftPolicy).toBe('revert');
  });
});
