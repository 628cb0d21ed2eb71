import { describe, expect, it } from 'vitest';
import { api, expectError } from './helpers';
import {
  addRoute,
  cloudflareTunnelId,
  drain,
  drainAll,
  driftCheck,
  expectNoViolations,
  fake,
  pendingRows,
  setup,
  syncStatus,
} from './sync-helpers';

interface RemoteConfig {
  version: number;
  config: { ingress: { hostname?: string; service: string }[] };
}

describe('Cloudflare sync: drift, no-op cost and the sync API', () => {
  it('detects a dashboard edit of the tunnel config as drift and reverts it under driftPolicy "revert"', async () => {
    const { account, tunnel, zone } = await setup({ driftPolicy: 'revert' });
    await addRoute(tunnel, `app.${zone}`);
    await drainAll(account);
    const cfId = await cloudflareTunnelId(tunnel);
    const ours = (await fake.state(account)).configs[cfId];
    // Someone edits the remote config in the dashboard (the edit the local ConfigMap never sees).
    const edited = await fake.api<RemoteConfig>('PUT', `/accounts/${account}/cfd_tunnel/${cfId}/configurations`, {
      config: { ingress: [{ hostname: `app.${zone}`, service: 'http://traefik:80' }, { service: 'http_status:404' }] },
    });
    const report = await driftCheck(account);
    expect(report).toMatchObject({ drifted: 1, reverted: 1, errors: [] });
    const after = (await fake.state(account)).configs[cfId];
    expect(after?.config).toEqual(ours?.config);
    expect(after?.version).toBe(edited.version + 1);
    const target = (await syncStatus()).targets.find((t) => t.kind === 'tunnel_config' && t.target === tunnel);
    expect(target?.drift).toMatchObject({ reverted: true, summary: expect.stringMatching(/changed outside edgeplane/) });
    expect(target?.remoteVersion).toBe(after?.version);
    await expectNoViolations(account);
  });

  it('only reports drift under driftPolicy "alert", including a deleted CNAME', async () => {
    const { account, tunnel, zone } = await setup({ driftPolicy: 'alert' });
    await addRoute(tunnel, `app.${zone}`);
    await drainAll(account);
    const cfId = await cloudflareTunnelId(tunnel);
    const state = await fake.state(account);
    const zoneId = state.zones[0]?.id ?? '';
    const record = state.records[0];
    await fake.api('PUT', `/accounts/${account}/cfd_tunnel/${cfId}/configurations`, {
      config: { ingress: [{ service: 'http_status:503' }] },
    });
    await fake.api('DELETE', `/zones/${zoneId}/dns_records/${record?.id ?? ''}`);
    const report = await driftCheck(account);
    expect(report).toMatchObject({ drifted: 2, reverted: 0, errors: [] });
    const after = await fake.state(account);
    expect(after.configs[cfId]?.config?.ingress).toEqual([{ service: 'http_status:503' }]);
    expect(after.records).toEqual([]);
    const targets = (await syncStatus()).targets;
    expect(targets.find((t) => t.kind === 'tunnel_config' && t.target === tunnel)?.drift).toMatchObject({ reverted: false });
    expect(targets.find((t) => t.kind === 'dns' && t.target === `app.${zone}`)?.drift).toMatchObject({
      reverted: false,
      summary: expect.stringMatching(/deleted outside edgeplane/),
    });
    await expectNoViolations(account);
  });

  it('reports a split-tunnel entry of edgeplane removed in the dashboard, and keeps mirroring foreign ones', async () => {
    const { account } = await setup();
    expect(
      (await api('POST', '/v1/split-tunnel', { body: { account, mode: 'exclude', address: '10.0.0.0/8', description: 'lan' } })).status,
    ).toBe(201);
    await drainAll(account);
    await fake.api('PUT', `/accounts/${account}/devices/policy/exclude`, [{ host: 'printer.local', description: 'added by hand' }]);
    const report = await driftCheck(account);
    expect(report).toMatchObject({ drifted: 1, reverted: 0, errors: [] });
    const target = (await syncStatus()).targets.find((t) => t.kind === 'split_tunnel' && t.target === `${account}/default:exclude`);
    expect(target?.drift).toMatchObject({ reverted: false, summary: expect.stringContaining('10.0.0.0/8') });
    const listed = (await (await api('GET', '/v1/split-tunnel?mode=exclude')).json()) as {
      items: { host: string | null; owner: string }[];
    };
    expect(listed.items.filter((e) => e.host === 'printer.local').map((e) => e.owner)).toEqual(['foreign']);
    await expectNoViolations(account);
  });

  it('a sync where nothing changed costs at most one API call per tunnel', async () => {
    const { account, tunnel, zone } = await setup();
    const cluster = ((await (await api('GET', `/v1/tunnels/${tunnel}`)).json()) as { cluster: string }).cluster;
    const second = `${tunnel}-2`;
    expect((await api('POST', '/v1/tunnels', { body: { id: second, cluster, account } })).status).toBe(201);
    for (let i = 0; i < 5; i++) await addRoute(i % 2 ? tunnel : second, `r${i}.${zone}`);
    expect((await api('POST', '/v1/private-networks', { body: { tunnel, cidr: '10.42.0.0/16' } })).status).toBe(201);
    expect((await api('POST', '/v1/split-tunnel', { body: { account, mode: 'include', address: '10.42.0.0/16' } })).status).toBe(201);
    await drainAll(account);
    const before = (await fake.calls(account)).length;

    const started = await api('POST', '/v1/sync', { role: 'editor', body: { account } });
    expect(started.status).toBe(202);
    const body = (await started.json()) as { id: string; accounts: string[]; enqueued: number };
    expect(body).toMatchObject({ id: expect.stringMatching(/^sync_/), accounts: [account] });
    expect(body.enqueued).toBe(2 + 5 + 1 + 1);
    await drainAll(account); // waits for the writer the request started, and drains anything left
    const calls = (await fake.calls(account)).slice(before);
    expect(calls.length).toBeLessThanOrEqual(2);
    expect(calls.every((c) => c.operationId === 'cloudflare-tunnel-configuration-get-configuration')).toBe(true);
    await expectNoViolations(account);
  });

  it('debounces a burst: 105 route edits become one config PUT, and their CNAMEs one zone listing and one batch', async () => {
    const { account, tunnel, zone } = await setup();
    await drainAll(account);
    const before = (await fake.calls(account)).length;
    // More rows than D1 binds parameters in one statement (100), and enough hostnames to list the zone once.
    for (let i = 0; i < 105; i++) await addRoute(tunnel, `burst${i}.${zone}`, { dns: i < 10 });
    await drainAll(account);
    const calls = (await fake.calls(account)).slice(before);
    const writes = calls.filter((c) => c.method !== 'GET').map((c) => c.operationId);
    expect(writes).toEqual(['cloudflare-tunnel-configuration-put-configuration', 'dns-records-for-a-zone-batch-dns-records']);
    expect(calls.filter((c) => c.operationId === 'dns-records-for-a-zone-list-dns-records')).toHaveLength(1);
    const cfId = await cloudflareTunnelId(tunnel);
    const state = await fake.state(account);
    expect(state.configs[cfId]?.config?.ingress).toHaveLength(106);
    expect(state.records).toHaveLength(10);
    expect(await pendingRows(account)).toEqual([]);
    await expectNoViolations(account);
  }, 30_000);

  it('POST /v1/sync needs an editor; GET /v1/sync is readable by a viewer and shows no secrets', async () => {
    const { account, tunnel, zone } = await setup();
    await addRoute(tunnel, `x.${zone}`);
    await expectError(await api('POST', '/v1/sync', { role: 'viewer', body: { account } }), 403, 'forbidden');
    await expectError(await api('POST', '/v1/sync', { role: 'editor', body: { account: 'nope', extra: 1 } }), 422, 'validation_failed');
    const pending = (await syncStatus()).accounts.find((a) => a.account === account);
    expect(pending?.pending).toBeGreaterThan(0);
    await drain(account);
    const status = await syncStatus();
    expect(status.accounts.find((a) => a.account === account)).toMatchObject({ pending: 0, waiting: null });
    expect(
      status.targets
        .filter((t) => t.account === account)
        .map((t) => t.kind)
        .sort(),
    ).toEqual(['dns', 'tunnel', 'tunnel_config']);
    expect(status.targets.find((t) => t.kind === 'tunnel_config' && t.target === tunnel)).toMatchObject({
      remoteVersion: 1,
      lastError: null,
      lastSuccessAt: expect.any(String),
    });
    expect(JSON.stringify(status)).not.toMatch(/token|eyJ/i);
  });
});
