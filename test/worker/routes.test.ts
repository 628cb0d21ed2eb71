import { describe, expect, it } from 'vitest';
import { api, count, expectError, storeSnapshot, uid } from './helpers';
import { clusterWithTunnel, labelStudio } from './fixtures';

interface ApiRoute {
  id: string;
  hostname: string;
  path: string | null;
  etag: string;
}

describe('routes', () => {
  it('creates a route with the shapes other tools rely on and queues config + DNS work', async () => {
    const { tunnel } = await clusterWithTunnel();
    const hostname = `${uid('label')}.example.com`;
    const outbox = await count('outbox');
    const response = await api('POST', '/v1/routes', { body: { tunnel, hostname, path: '/api/', origin: labelStudio } });
    expect(response.status).toBe(201);
    const route = (await response.json()) as ApiRoute;
    expect(route).toMatchObject({ tunnel, hostname, path: '/api', origin: labelStudio, dns: true, access: null });
    expect(await count('outbox')).toBe(outbox + 2);

    const url = await api('POST', '/v1/routes', {
      body: { tunnel, hostname: `gpu-${hostname}`, origin: { url: 'http://10.0.0.5:8000' }, dns: false },
    });
    expect(url.status).toBe(201);
    expect(await count('outbox')).toBe(outbox + 3);
  });

  it('rejects duplicates on a tunnel and a hostname served by another tunnel', async () => {
    const a = await clusterWithTunnel();
    const b = await clusterWithTunnel();
    const hostname = `${uid('dup')}.example.com`;
    expect((await api('POST', '/v1/routes', { body: { tunnel: a.tunnel, hostname, path: '/api', origin: labelStudio } })).status).toBe(201);
    const before = await storeSnapshot();
    const duplicate = await expectError(
      await api('POST', '/v1/routes', { body: { tunnel: a.tunnel, hostname: hostname.toUpperCase(), path: '/api/', origin: labelStudio } }),
      409,
      'conflict',
    );
    expect(duplicate.error.message).toContain(`${hostname}/api`);
    const elsewhere = await expectError(
      await api('POST', '/v1/routes', { body: { tunnel: b.tunnel, hostname, origin: labelStudio } }),
      409,
      'conflict',
    );
    expect(elsewhere.error.message).toContain(`tunnel "${a.tunnel}"`);
    expect(await storeSnapshot()).toEqual(before);
    expect((await api('POST', '/v1/routes', { body: { tunnel: a.tunnel, hostname, path: '/apix', origin: labelStudio } })).status).toBe(
      201,
    );
  });

  it.each([
    [{ hostname: 'https://label.example.com' }, 'body.hostname', 'give the bare hostname, e.g. "label.example.com"'],
    [{ hostname: 'label.example.com:443' }, 'body.hostname', 'port'],
    [{ hostname: 'foo.*.example.com' }, 'body.hostname', 'whole first label'],
    [{ hostname: 'label.example.com', path: 'api' }, 'body.path', 'must start with "/"'],
    [
      { hostname: 'label.example.com', origin: { service: { namespace: 'Apps', name: 'ls', port: 8085 } } },
      'body.origin.service.namespace',
      'DNS-1123',
    ],
    [
      { hostname: 'label.example.com', origin: { service: { namespace: 'apps', name: 'ls', port: 70000 } } },
      'body.origin.service.port',
      '65535',
    ],
    [{ hostname: 'label.example.com', origin: { url: 'https://local host:8000' } }, 'body.origin.url', 'not a valid URL'],
    [{ hostname: 'label.example.com', origin: { url: 'http_status:1000' } }, 'body.origin.url', '100 to 999'],
  ])('rejects %j naming %s', async (patch, path, hint) => {
    const { tunnel } = await clusterWithTunnel();
    const before = await storeSnapshot();
    const error = await expectError(
      await api('POST', '/v1/routes', { body: { tunnel, origin: labelStudio, ...patch } }),
      422,
      'validation_failed',
    );
    const detail = error.error.details?.find((d) => d.path === path);
    expect(detail?.message).toContain(hint);
    expect(await storeSnapshot()).toEqual(before);
  });

  it('renames a hostname with If-Match and queues DNS work for the old and the new name', async () => {
    const { tunnel } = await clusterWithTunnel();
    const oldName = `${uid('old')}.example.com`;
    const newName = `${uid('new')}.example.com`;
    const created = (await (
      await api('POST', '/v1/routes', { body: { tunnel, hostname: oldName, origin: labelStudio } })
    ).json()) as ApiRoute;
    const renamed = await api('PATCH', `/v1/routes/${created.id}`, { body: { hostname: newName }, headers: { 'if-match': created.etag } });
    expect(renamed.status).toBe(200);
    expect(await count('outbox', `kind = 'dns' AND target = '${oldName}'`)).toBe(2);
    expect(await count('outbox', `kind = 'dns' AND target = '${newName}'`)).toBe(1);
    await expectError(
      await api('PATCH', `/v1/routes/${created.id}`, { body: { path: '/x' }, headers: { 'if-match': created.etag } }),
      412,
      'precondition_failed',
    );
    await expectError(
      await api('DELETE', `/v1/routes/${created.id}`, { headers: { 'if-match': created.etag } }),
      412,
      'precondition_failed',
    );
    expect((await api('DELETE', `/v1/routes/${created.id}`)).status).toBe(204);
  });

  it('filters lists by tunnel and refuses a route on an unknown tunnel', async () => {
    const { tunnel } = await clusterWithTunnel();
    for (const name of ['a', 'b', 'c'])
      await api('POST', '/v1/routes', { body: { tunnel, hostname: `${name}.${tunnel}.example.com`, origin: labelStudio } });
    const list = (await (await api('GET', `/v1/routes?tunnel=${tunnel}&limit=2`)).json()) as {
      items: ApiRoute[];
      nextCursor: string | null;
    };
    expect(list.items).toHaveLength(2);
    expect(list.nextCursor).not.toBeNull();
    const error = await expectError(
      await api('POST', '/v1/routes', { body: { tunnel: 'ghost', hostname: 'a.example.com', origin: labelStudio } }),
      422,
      'validation_failed',
    );
    expect(error.error.details?.[0]?.path).toBe('body.tunnel');
  });
});
