import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { api, count, expectError, storeSnapshot, uid } from './helpers';
import { ACCOUNT, clusterWithTunnel, labelStudio } from './fixtures';

const revisionOf = async (cluster: string): Promise<number> =>
  ((await (await api('GET', `/v1/clusters/${cluster}`)).json()) as { desiredRevision: number }).desiredRevision;

describe('tunnels', () => {
  it('creates a tunnel with defaults, bumps the cluster revision and queues the Cloudflare work', async () => {
    const cluster = uid('c');
    await api('POST', '/v1/clusters', { body: { id: cluster, name: 'x' } });
    const outboxBefore = await count('outbox');
    const response = await api('POST', '/v1/tunnels', { body: { id: 'main', cluster, account: ACCOUNT } }).then(async (r) =>
      r.status === 409 ? api('POST', '/v1/tunnels', { body: { id: uid('main'), cluster, account: ACCOUNT } }) : r,
    );
    expect(response.status).toBe(201);
    const tunnel = (await response.json()) as Record<string, unknown>;
    expect(tunnel).toMatchObject({
      cluster,
      account: ACCOUNT,
      placement: { type: 'cluster', replicas: 2 },
      mode: { type: 'direct' },
      catchAll: 'http_status:404',
      driftPolicy: 'alert',
      warpRouting: false,
      hasToken: false,
      cloudflareTunnelId: null,
    });
    expect(tunnel).not.toHaveProperty('tokenCiphertext');
    expect(await revisionOf(cluster)).toBe(2);
    expect(await count('outbox')).toBe(outboxBefore + 1);
    expect(await count('outbox', `kind = 'tunnel' AND target = '${String(tunnel.id)}'`)).toBe(1);
  });

  it('rejects an unknown cluster, a bad account id and a node not in the cluster', async () => {
    const before = await storeSnapshot();
    const unknown = await expectError(
      await api('POST', '/v1/tunnels', { body: { id: 'x', cluster: 'nope', account: ACCOUNT } }),
      422,
      'validation_failed',
    );
    expect(unknown.error.message).toContain('cluster "nope" does not exist');
    const badAccount = await expectError(
      await api('POST', '/v1/tunnels', { body: { id: 'x', cluster: 'nope', account: 'ABC' } }),
      422,
      'validation_failed',
    );
    expect(badAccount.error.details?.[0]?.path).toBe('body.account');
    const { cluster } = await clusterWithTunnel({ nodes: [{ name: 'gpu-1', role: 'gpu' }] });
    const after = await storeSnapshot();
    const badNode = await expectError(
      await api('POST', '/v1/tunnels', { body: { id: uid('n'), cluster, account: ACCOUNT, placement: { type: 'node', node: 'gpu-2' } } }),
      422,
      'validation_failed',
    );
    expect(badNode.error.message).toContain('"gpu-1"');
    expect(await storeSnapshot()).toEqual(after);
    expect(before.tunnels?.length).toBeLessThan(after.tunnels?.length ?? 0);
  });

  it('refuses to delete a tunnel with routes unless cascade=true, which queues DNS cleanup', async () => {
    const { tunnel, cluster } = await clusterWithTunnel();
    const hostname = `${uid('h')}.example.com`;
    expect((await api('POST', '/v1/routes', { body: { tunnel, hostname, origin: labelStudio } })).status).toBe(201);
    await expectError(await api('DELETE', `/v1/tunnels/${tunnel}`), 409, 'conflict');
    const revision = await revisionOf(cluster);
    expect((await api('DELETE', `/v1/tunnels/${tunnel}?cascade=true`)).status).toBe(204);
    expect(await count('routes', `tunnel_id = '${tunnel}'`)).toBe(0);
    expect(await count('outbox', `kind = 'dns' AND target = '${hostname}'`)).toBe(2);
    expect(await revisionOf(cluster)).toBe(revision + 1);
    await expectError(await api('GET', `/v1/tunnels/${tunnel}`), 404, 'not_found');
  });

  it('never returns the stored token', async () => {
    const { tunnel } = await clusterWithTunnel();
    await env.DB.prepare(`UPDATE tunnels SET token_ciphertext = 'secret-ciphertext' WHERE id = ?`).bind(tunnel).run();
    const text = await (await api('GET', `/v1/tunnels/${tunnel}`)).text();
    expect(text).not.toContain('secret-ciphertext');
    expect(JSON.parse(text)).toMatchObject({ hasToken: true });
  });

  it('enforces roles: viewer reads, editor writes, no token is 401', async () => {
    const { tunnel } = await clusterWithTunnel();
    expect((await api('GET', `/v1/tunnels/${tunnel}`, { role: 'viewer' })).status).toBe(200);
    await expectError(await api('PATCH', `/v1/tunnels/${tunnel}`, { role: 'viewer', body: { driftPolicy: 'revert' } }), 403, 'forbidden');
    expect((await api('PATCH', `/v1/tunnels/${tunnel}`, { role: 'editor', body: { driftPolicy: 'revert' } })).status).toBe(200);
    await expectError(await api('DELETE', `/v1/tunnels/${tunnel}`, { role: null }), 401, 'unauthorized');
  });
});
