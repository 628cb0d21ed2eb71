import { SELF } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import type { AgentStatus, ClusterHealth } from '../../src/shared/api/agent';
import type { TraceResponse } from '../../src/shared/api/trace';
import { newSecret } from '../../worker/crypto';
import { api, expectError, uid } from './helpers';
import { addRoute, drain, drainAll, fake, setup } from './sync-helpers';

// GET /v1/trace: one test per kind of broken link, each built through the API, the Cloudflare fake's sync and a
// registered agent's report, then a healthy chain end to end.

const trace = async (url: string, role: 'admin' | 'viewer' = 'viewer'): Promise<TraceResponse> => {
  const response = await api('GET', `/v1/trace?url=${encodeURIComponent(url)}`, { role });
  expect(response.status, await response.clone().text()).toBe(200);
  return (await response.json()) as TraceResponse;
};

const statuses = (t: TraceResponse) => Object.fromEntries(t.links.map((l) => [l.link, l.status]));

const healthy: ClusterHealth = { status: 'Current', objects: [], connectors: { desired: 2, ready: 2 }, origins: [] };

/** Registers an agent for the cluster (install manifest → bootstrap token) and posts one report with this health. */
async function report(cluster: string, health: ClusterHealth): Promise<void> {
  const manifest = await (await api('GET', `/v1/clusters/${cluster}/install.yaml`)).text();
  const token =
    parseAllDocuments(manifest)
      .map((d) => d.toJSON() as { kind: string; stringData?: { token?: string } })
      .find((d) => d.kind === 'Secret')?.stringData?.token ?? '';
  const credential = `epa.${cluster}.${newSecret('k').slice(2)}`;
  const registered = await SELF.fetch('https://edgeplane.test/agent/v1/register', {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      clusterId: cluster,
      credential,
      identity: `uid-${cluster}`,
      kubernetesVersion: 'v1.31.4+k3s1',
      nodeCount: 1,
      agentVersion: '0.1.0',
    }),
  });
  expect(registered.status).toBe(201);
  const agent = { authorization: `Bearer ${credential}` };
  const desired = (await (await SELF.fetch('https://edgeplane.test/agent/v1/desired', { headers: agent })).json()) as {
    revision: number;
    hash: string;
  };
  const status: AgentStatus = {
    revision: desired.revision,
    hash: desired.hash,
    applied: true,
    durationMs: 10,
    results: [],
    conflicts: [],
    pruned: [],
    health,
    agentVersion: '0.1.0',
  };
  const posted = await SELF.fetch('https://edgeplane.test/agent/v1/status', {
    method: 'POST',
    headers: { ...agent, 'content-type': 'application/json' },
    body: JSON.stringify(status),
  });
  expect(posted.status).toBe(204);
}

const webOrigin = { service: { namespace: 'apps', name: 'web', port: 80 } };

describe('GET /v1/trace', () => {
  it('refuses what is not a URL with a 422 naming the query, and needs a token', async () => {
    const bad = await expectError(await api('GET', '/v1/trace?url=label.example.com', { role: 'viewer' }), 422, 'validation_failed');
    expect(bad.error.details?.[0]?.path).toBe('query.url');
    expect(bad.error.message).toContain('not an absolute URL');
    await expectError(await api('GET', '/v1/trace?url=https://a.example.com/', { role: null }), 401, 'unauthorized');
  });

  it('marks the route as the first broken link when no route serves the host', async () => {
    const t = await trace(`https://${uid('nobody')}.example.org/x`);
    expect(t.links).toEqual([expect.objectContaining({ link: 'route', status: 'broken' })]);
    expect(t.firstBroken).toBe('route');
    expect(t.tunnel).toBeNull();
    expect(t.links[0]?.suggestion).toContain('add a route');
  });

  it('marks the rule when the host is routed but the path falls to the catch-all, with the nearest miss', async () => {
    const { tunnel, zone } = await setup();
    await addRoute(tunnel, `app.${zone}`, { path: '/api' });
    const t = await trace(`https://app.${zone}/other`);
    expect(t.tunnel).toBe(tunnel);
    expect(t.firstBroken).toBe('rule');
    expect(t.match?.catchAll).toBe(true);
    const rule = t.links.find((l) => l.link === 'rule');
    expect(rule?.summary).toContain('catch-all');
    expect(rule?.summary).toMatch(/nearest rule 1/);
    // Nothing is invented past the broken rule: no origin, connector or workload link.
    expect(t.links.map((l) => l.link)).toEqual(['route', 'rule']);
  });

  it('marks the DNS record when a foreign record holds the name (a collision), with its id', async () => {
    const { account, tunnel, zone } = await setup();
    const zoneId = (await fake.state(account)).zones[0]?.id ?? '';
    const foreign = await fake.api<{ id: string }>('POST', `/zones/${zoneId}/dns_records`, {
      type: 'A',
      name: `blog.${zone}`,
      content: '192.0.2.7',
      proxied: false,
      ttl: 300,
    });
    await addRoute(tunnel, `blog.${zone}`);
    await drainAll(account);
    const t = await trace(`https://blog.${zone}/`);
    expect(t.firstBroken).toBe('dns');
    expect(t.dns).toMatchObject({ hostname: `blog.${zone}`, ours: true, status: { state: 'conflict' } });
    expect(t.links.find((l) => l.link === 'dns')?.summary).toContain(foreign.id);
    expect(statuses(t)).toMatchObject({ route: 'ok', dns: 'broken', rule: 'ok' });
  });

  it('marks the DNS record when the Cloudflare sync fails to write it, with the error', async () => {
    const { account, tunnel, zone } = await setup();
    await addRoute(tunnel, `down.${zone}`);
    await fake.fault({ account, method: 'POST', path: '/dns_records$', status: 503, times: 1 });
    await drain(account);
    const t = await trace(`https://down.${zone}/`);
    expect(t.dns?.status.state).toBe('failing');
    expect(t.firstBroken).toBe('dns');
    expect(t.links.find((l) => l.link === 'dns')?.summary).toMatch(/fails to write the record: .*503/);
  });

  it("marks the origin with the agent's suggestion when its Service is missing", async () => {
    const { cluster, tunnel, zone } = await setup();
    const route = await addRoute(tunnel, `web.${zone}`, { origin: webOrigin });
    await report(cluster, {
      ...healthy,
      origins: [
        {
          route: route.id,
          hostname: `web.${zone}`,
          service: 'apps/web:80',
          ok: false,
          message: 'Service apps/web not found; did you mean apps/web-svc (port 80)?',
        },
      ],
    });
    const t = await trace(`https://web.${zone}/`, 'admin');
    // The DNS record is still pending (nothing drained): not known yet, not broken.
    expect(statuses(t)).toMatchObject({ route: 'ok', dns: 'unknown', rule: 'ok', origin: 'broken', connectors: 'ok' });
    expect(t.firstBroken).toBe('origin');
    const origin = t.links.find((l) => l.link === 'origin');
    expect(origin?.summary).toContain('Service apps/web:80');
    expect(origin?.suggestion).toContain('did you mean apps/web-svc');
    expect(t).toMatchObject({ cluster, route: route.id, workload: null });
  });

  it('marks the connectors when no cloudflared replica is ready, and says "not reported" before any report', async () => {
    const { cluster, tunnel, zone } = await setup();
    const route = await addRoute(tunnel, `cf.${zone}`, { origin: webOrigin });
    const before = await trace(`https://cf.${zone}/`);
    expect(statuses(before)).toMatchObject({ origin: 'unknown', connectors: 'unknown' });
    expect(before.links.find((l) => l.link === 'connectors')?.summary).toContain('not reported yet');
    expect(before.firstBroken).toBeNull();
    await report(cluster, {
      ...healthy,
      connectors: { desired: 2, ready: 0 },
      origins: [{ route: route.id, hostname: `cf.${zone}`, service: 'apps/web:80', ok: true, message: 'Service apps/web has port 80' }],
    });
    const t = await trace(`https://cf.${zone}/`);
    expect(statuses(t)).toMatchObject({ origin: 'ok', connectors: 'broken' });
    expect(t.firstBroken).toBe('connectors');
    expect(t.links.find((l) => l.link === 'connectors')?.summary).toContain('0 of 2 cloudflared replicas ready');
  });

  it("marks the workload when edgeplane runs it and its pods fail, with the pod's reason", async () => {
    const { cluster, tunnel, zone } = await setup();
    const id = uid('w');
    const created = await api('POST', '/v1/workloads', {
      body: { id, cluster, namespace: 'apps', image: 'nginx:1.27', ports: [80], route: { tunnel, hostname: `wl.${zone}`, port: 80 } },
    });
    expect(created.status, await created.clone().text()).toBe(201);
    const { routeId } = (await created.json()) as { routeId: string };
    await report(cluster, {
      ...healthy,
      origins: [{ route: routeId, hostname: `wl.${zone}`, service: `apps/${id}:80`, ok: true, message: 'Service found' }],
      workloads: [
        {
          workload: id,
          namespace: 'apps',
          status: 'Failed',
          pods: 1,
          ready: 0,
          problems: [{ pod: `${id}-0`, reason: 'CrashLoopBackOff', message: 'back-off restarting failed container', restarts: 5 }],
        },
      ],
    });
    const t = await trace(`https://wl.${zone}/anything`);
    expect(t.workload).toBe(id);
    expect(statuses(t)).toMatchObject({ origin: 'ok', connectors: 'ok', workload: 'broken' });
    expect(t.firstBroken).toBe('workload');
    expect(t.links.find((l) => l.link === 'workload')?.suggestion).toContain('CrashLoopBackOff');
  });

  it('reports a healthy chain with no broken link: synced DNS, the rule, the origin, the connectors', async () => {
    const { account, cluster, tunnel, zone } = await setup();
    const route = await addRoute(tunnel, `*.${zone}`, { origin: webOrigin });
    await drainAll(account);
    await report(cluster, {
      ...healthy,
      origins: [{ route: route.id, hostname: `*.${zone}`, service: 'apps/web:80', ok: true, message: 'Service apps/web has port 80' }],
    });
    // A wildcard route serves a deeper name; the port of the URL is ignored as cloudflared ignores it.
    const t = await trace(`https://a.b.${zone}:8443/x?y=1`);
    expect(t.host).toBe(`a.b.${zone}`);
    expect(t.links.map((l) => [l.link, l.status])).toEqual([
      ['route', 'ok'],
      ['dns', 'ok'],
      ['rule', 'ok'],
      ['origin', 'ok'],
      ['connectors', 'ok'],
    ]);
    expect(t.firstBroken).toBeNull();
    expect(t.match).toMatchObject({ routeId: route.id, catchAll: false });
  });
});
